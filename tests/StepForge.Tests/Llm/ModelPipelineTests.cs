using StepForge.Llm;
using StepForge.Tests.Support;

namespace StepForge.Tests.Llm;

/// <summary>What real APIs do to a client, played by the fake provider: rate limits, errors, slowness, garbage.</summary>
public class ModelPipelineTests
{
    private static readonly RetryPolicy Fast = new(4, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));

    private static ModelPipeline Client(FakeModelServer server, string dialect, RetryPolicy? retry = null, ResponseCache? cache = null, List<string>? notes = null) =>
        ModelPipeline.Create(new ModelSettings(ModelSpec.Parse(dialect == "anthropic" ? "anthropic:claude-sonnet-4-5" : "openai:gpt-4o-mini",
                dialect == "anthropic" ? server.AnthropicUrl : server.OpenAIUrl), "test-key", retry ?? Fast, 4),
            cache, note => { lock (notes ?? []) notes?.Add(note); });

    private static ModelRequest Ask(int index = 0) => new("system text", "user text", 0.5, index, "proposer");

    private static string NewDb() => Path.Combine(Scratch.Folder(), "cache.sqlite");

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task RateLimits_AreRetried_HonouringRetryAfter(string dialect)
    {
        using var server = new FakeModelServer((_, n) => n <= 2 ? new FakeReply.Status(429, 0.3) : new FakeReply.Answer("fine"));
        var notes = new List<string>();
        using var client = Client(server, dialect, notes: notes);
        var answer = await client.Chat.AskAsync(Ask(), CancellationToken.None);
        Assert.Equal("fine", answer.Text);
        Assert.Equal(2, answer.Retries);
        Assert.Equal(3, server.Requests);
        // Two waits of the server's 0.3 s, not the 10 ms backoff: the waits planned are what the notes say.
        Assert.All(notes, n => Assert.Contains("HTTP 429; retrying in 0.3 s", n, StringComparison.Ordinal));
        Assert.Equal(2, notes.Count);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task ServerErrors_AreRetried_ThenReportedWhenTheyPersist(string dialect)
    {
        using var flaky = new FakeModelServer((_, n) => n == 1 ? new FakeReply.Status(500) : n == 2 ? new FakeReply.Status(529) : new FakeReply.Answer("ok"));
        using (var client = Client(flaky, dialect))
            Assert.Equal("ok", (await client.Chat.AskAsync(Ask(), CancellationToken.None)).Text);

        using var broken = new FakeModelServer((_, _) => new FakeReply.Status(503));
        using var failing = Client(broken, dialect);
        var e = await Assert.ThrowsAsync<ModelCallException>(() => failing.Chat.AskAsync(Ask(), CancellationToken.None));
        Assert.False(e.Fatal);
        Assert.Contains("HTTP 503 after 3 retries", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, broken.Requests);
    }

    [Fact]
    public async Task ASlowAnswer_TimesOut_AndIsAskedAgain()
    {
        using var server = new FakeModelServer((_, n) => new FakeReply.Answer(n == 1 ? "late" : "on time", DelayMs: n == 1 ? 30_000 : 0));
        using var client = Client(server, "openai", Fast with { AttemptTimeout = TimeSpan.FromSeconds(2) });
        var answer = await client.Chat.AskAsync(Ask(), CancellationToken.None);
        Assert.Equal("on time", answer.Text);
        Assert.Equal(1, answer.Retries);
    }

    [Theory]
    [InlineData("openai", false)]
    [InlineData("openai", true)]
    [InlineData("anthropic", false)]
    [InlineData("anthropic", true)]
    public async Task ATricklingBody_EndsAtTheTimeout(string dialect, bool chunked)
    {
        // Headers at once, then one byte a second: the timeout covers reading the body too.
        using var server = new FakeModelServer((_, _) => new FakeReply.Trickle("a long answer", TickMs: 1000, chunked));
        using var client = Client(server, dialect, Fast with { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromSeconds(1) });
        var e = await Assert.ThrowsAsync<ModelCallException>(() => client.Chat.AskAsync(Ask(), CancellationToken.None));
        Assert.False(e.Fatal);
        Assert.Contains("no answer within 1 s", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, server.Requests);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task AnAnswerLongerThanTheLimit_IsAFailedCall_NotRetriedAndNotCached(string dialect)
    {
        using var server = new FakeModelServer((_, _) => new FakeReply.Answer(new string('x', 5000)));
        var db = NewDb();
        using var cache = new ResponseCache(db);
        using var client = Client(server, dialect, Fast with { MaxAnswerBytes = 4096 }, cache);
        var e = await Assert.ThrowsAsync<ModelCallException>(() => client.Chat.AskAsync(Ask(), CancellationToken.None));
        Assert.False(e.Fatal);
        Assert.Contains("longer than 4,096 bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Requests);
        Assert.Null(cache.TryGet(ResponseCache.Key(client.Spec.Id, Ask())));
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task EmptyAndMalformedBodies_AreErrors_NotAnswers(string dialect)
    {
        using var empty = new FakeModelServer((_, _) => new FakeReply.EmptyBody());
        using (var client = Client(empty, dialect))
            Assert.False((await Assert.ThrowsAsync<ModelCallException>(() => client.Chat.AskAsync(Ask(), CancellationToken.None))).Fatal);
        using var malformed = new FakeModelServer((_, _) => new FakeReply.Malformed());
        using (var client = Client(malformed, dialect))
        {
            var e = await Assert.ThrowsAsync<ModelCallException>(() => client.Chat.AskAsync(Ask(), CancellationToken.None));
            Assert.Contains("unusable answer", e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task MissingUsage_IsEstimated_AndSaysSo(string dialect)
    {
        using var server = new FakeModelServer((_, _) => new FakeReply.Answer(new string('a', 400), Usage: false));
        using var client = Client(server, dialect);
        var answer = await client.Chat.AskAsync(Ask(), CancellationToken.None);
        Assert.True(answer.UsageEstimated);
        Assert.Equal(100, answer.OutputTokens);
        Assert.True(answer.InputTokens > 0);
    }

    [Fact]
    public async Task KnownModels_HaveACost_FromTheirTokens()
    {
        using var server = new FakeModelServer((_, _) => new FakeReply.Answer("x"));
        using var client = Client(server, "anthropic");
        var answer = await client.Chat.AskAsync(Ask(), CancellationToken.None);
        // claude-sonnet-4*: $3 in, $15 out per million; the fake reports 1000 in, 100 out.
        Assert.Equal(0.003m + 0.0015m, answer.Cost);
    }

    [Fact]
    public async Task TheCache_AnswersARepeatedRequest_WithoutAsking()
    {
        using var server = new FakeModelServer((r, n) => new FakeReply.Answer($"answer {n}"));
        var db = NewDb();
        using (var cache = new ResponseCache(db))
        using (var client = Client(server, "openai", cache: cache))
        {
            Assert.Equal("answer 1", (await client.Chat.AskAsync(Ask(0), CancellationToken.None)).Text);
            Assert.Equal("answer 2", (await client.Chat.AskAsync(Ask(1), CancellationToken.None)).Text);
        }
        using (var cache = new ResponseCache(db))
        using (var client = Client(server, "openai", cache: cache))
        {
            var again = await client.Chat.AskAsync(Ask(0), CancellationToken.None);
            Assert.Equal("answer 1", again.Text);
            Assert.True(again.Cached);
            Assert.Equal(0, client.Calls);
            // Another temperature or sample index is another question.
            Assert.Equal("answer 3", (await client.Chat.AskAsync(Ask(0) with { Temperature = 0.9 }, CancellationToken.None)).Text);
        }
        Assert.Equal(3, server.Requests);
    }

    [Fact]
    public async Task TwoSamplesOfTheSamePrompt_AreTwoCalls_StoredUnderTheirOwnKeys()
    {
        using var server = new FakeModelServer((r, n) => new FakeReply.Answer($"answer {n}"));
        using var cache = new ResponseCache(NewDb());
        using var client = Client(server, "anthropic", cache: cache);
        var first = await client.Chat.AskAsync(Ask(0), CancellationToken.None);
        var second = await client.Chat.AskAsync(Ask(1), CancellationToken.None);
        Assert.Equal(("answer 1", "answer 2"), (first.Text, second.Text));
        Assert.Equal(2, client.Calls);
        Assert.Equal(2, server.Requests);
        // Under the key the store has always used, so stores written before the pipeline replay.
        Assert.Equal("answer 1", cache.TryGet(ResponseCache.Key(client.Spec.Id, Ask(0)))?.Text);
        Assert.Equal("answer 2", cache.TryGet(ResponseCache.Key(client.Spec.Id, Ask(1)))?.Text);
    }

    [Theory]
    [InlineData(0.7)]
    [InlineData(0.123456789)]
    public void ARequest_CrossesTheChatOptions_Unchanged(double temperature)
    {
        // The cache key is computed from the request the chat call carries: it must be the request asked, to the last bit.
        var request = new ModelRequest("system text", "user text", temperature, 3, "guardian-1", 2048);
        Assert.Equal(request, ModelRequest.From(request.Messages, request.Options));
        Assert.Null(ModelRequest.From(request.Messages, new Microsoft.Extensions.AI.ChatOptions { Temperature = 0.7f }));
    }

    [Fact]
    public async Task AnUnreachableServer_FailsAtOnce_AsFatal()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var notes = new List<string>();
        using var client = ModelPipeline.Create(new ModelSettings(ModelSpec.Parse("gpt-x", $"http://127.0.0.1:{port}/v1"), "k", Fast), null, notes.Add);
        var e = await Assert.ThrowsAsync<ModelCallException>(() => client.Chat.AskAsync(Ask(), CancellationToken.None));
        Assert.True(e.Fatal);
        Assert.StartsWith($"cannot reach http://127.0.0.1:{port}/v1", e.Message, StringComparison.Ordinal);
        // At once: a refused connection is not retried.
        Assert.Empty(notes);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(404)]
    public async Task ABadKeyOrModel_IsFatal(int status)
    {
        using var server = new FakeModelServer((_, _) => new FakeReply.Status(status));
        using var client = Client(server, "openai");
        var e = await Assert.ThrowsAsync<ModelCallException>(() => client.Chat.AskAsync(Ask(), CancellationToken.None));
        Assert.True(e.Fatal);
        Assert.Equal(1, server.Requests);
    }

    [Theory]
    [InlineData("claude-sonnet-4-5", null, ModelDialect.Anthropic, "ANTHROPIC_API_KEY")]
    [InlineData("anthropic:my-claude", null, ModelDialect.Anthropic, "ANTHROPIC_API_KEY")]
    [InlineData("gpt-4o", null, ModelDialect.OpenAI, "OPENAI_API_KEY")]
    [InlineData("deepseek-chat", "https://api.deepseek.com/v1", ModelDialect.OpenAI, "DEEPSEEK_API_KEY")]
    [InlineData("meta-llama/Llama-3.3-70B-Instruct-Turbo", "https://api.together.xyz/v1", ModelDialect.OpenAI, "TOGETHER_API_KEY")]
    [InlineData("openai:qwen2.5-coder", "http://localhost:11434/v1", ModelDialect.OpenAI, "OPENAI_API_KEY")]
    public void ModelNames_ChooseTheDialectAndTheKeyVariable(string model, string? url, ModelDialect dialect, string key)
    {
        var spec = ModelSpec.Parse(model, url);
        Assert.Equal(dialect, spec.Dialect);
        Assert.Equal(key, spec.KeyVariable);
        Assert.Equal(url?.Contains("localhost", StringComparison.Ordinal) == true, spec.IsLocal);
    }
}
