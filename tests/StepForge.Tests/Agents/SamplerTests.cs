using StepForge.Agents;
using StepForge.Learning;
using StepForge.Llm;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Agents;

/// <summary>The sampler end to end through the fake provider: prompts, answers, guardian, verifier, store.</summary>
public class SamplerTests
{
    private static ModelPipeline Client(FakeModelServer server, string dialect, string db, RetryPolicy? retry = null) =>
        ModelPipeline.Create(new ModelSettings(ModelSpec.Parse(dialect == "anthropic" ? "anthropic:claude-fake" : "openai:gpt-fake",
                dialect == "anthropic" ? server.AnthropicUrl : server.OpenAIUrl), "test-key",
                retry ?? new RetryPolicy(4, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10)), 4),
            new ResponseCache(db));

    private static async Task<IReadOnlyList<StoredSample>> Run(string dialect, Setting setting, GuardianKind guardian = GuardianKind.Repair)
    {
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var db = Path.Combine(Scratch.Folder(), "run.sqlite");
        var tasks = TaskLocator.LoadTasks([AgentScenario.WriteTasks()]);
        using var store = new ExperienceStore(db);
        using var client = Client(server, dialect, db);
        var summary = await new Sampler(new LlmProposer(client.Chat, client.Spec.Id), store, new SamplerOptions(setting, 1, [0.5], guardian)).RunAsync(tasks);
        Assert.Equal(tasks.Count, summary.Finished);
        Assert.Equal(0, summary.Failed);
        Assert.All(server.Received, r => Assert.Equal(dialect, r.Dialect));
        return store.Samples();
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task Single_EveryKindOfAnswer_GetsItsVerdict_AndTheRunGoesOn(string dialect)
    {
        var samples = await Run(dialect, Setting.Single);
        Assert.Equal(AgentScenario.Expected.Count, samples.Count);
        foreach (var (kind, verdict) in AgentScenario.Expected)
            Assert.Equal(verdict, samples.Single(s => s.Key.Task == $"rms-{kind}").Verdict);
        var correct = samples.Single(s => s.IsCorrect);
        Assert.Equal(1000, correct.InputTokens);
        Assert.Equal(100, correct.OutputTokens);
        Assert.False(File.Exists("/tmp/stepforge-pwned"));
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task SingleWs_AnswersAsDefBody_GetTheSameVerdicts(string dialect)
    {
        var samples = await Run(dialect, Setting.SingleWs);
        foreach (var (kind, verdict) in AgentScenario.Expected)
            Assert.Equal(verdict, samples.Single(s => s.Key.Task == $"rms-{kind}").Verdict);
    }

    [Theory]
    [InlineData("openai", GuardianKind.Repair)]
    [InlineData("anthropic", GuardianKind.Repair)]
    [InlineData("openai", GuardianKind.Model)]
    [InlineData("anthropic", GuardianKind.Model)]
    public async Task Agent_TheGuardianMakesTheNonAffineAnswerCorrect(string dialect, GuardianKind guardian)
    {
        var samples = await Run(dialect, Setting.Agent, guardian);
        var expected = AgentScenario.Expected.ToDictionary(kv => kv.Key, kv => kv.Value);
        expected["nonaffine"] = "correct";
        foreach (var (kind, verdict) in expected)
            Assert.Equal(verdict, samples.Single(s => s.Key.Task == $"rms-{kind}").Verdict);
        var repaired = samples.Single(s => s.Key.Task == "rms-nonaffine");
        Assert.Contains("step.Copy()", repaired.FinalImpl, StringComparison.Ordinal);
        // A model guardian is a second call for every sample with a program.
        Assert.Equal(guardian == GuardianKind.Model ? 2 : 1, repaired.Calls);
    }

    [Fact]
    public async Task AnAnswerStoppedByTheWallClockGuard_IsAFailedSampleToRetry_NotAVerdict()
    {
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var db = Path.Combine(Scratch.Folder(), "run.sqlite");
        var tasks = TaskLocator.LoadTasks([AgentScenario.WriteTasks(["correct"])]);
        // A safety net already passed: the guard fires at its first look at the clock.
        var expired = new VerifyOptions(Trials: 1, Budget: () => new StepForge.Tensors.ExecutionBudget { SafetyNet = TimeSpan.FromTicks(-1) });
        using (var store = new ExperienceStore(db))
        using (var client = Client(server, "openai", db))
        {
            var summary = await new Sampler(new LlmProposer(client.Chat, client.Spec.Id), store, new SamplerOptions(Setting.Single, 1, [0.5], Verify: expired)).RunAsync(tasks);
            Assert.Equal(1, summary.Failed);
            Assert.Empty(store.Samples());
        }
        using (var store = new ExperienceStore(db))
        using (var client = Client(server, "openai", db))
        {
            // The rerun checks the cached answer again and stores its verdict.
            var summary = await new Sampler(new LlmProposer(client.Chat, client.Spec.Id), store, new SamplerOptions(Setting.Single, 1, [0.5])).RunAsync(tasks);
            Assert.Equal(1, summary.Finished);
            Assert.Equal(0, summary.ModelCalls);
            Assert.True(Assert.Single(store.Samples()).IsCorrect);
        }
    }
}

/// <summary>Feedback rounds: a rejected program goes back to the proposer with its verdict.</summary>
public class FeedbackTests
{
    [Fact]
    public async Task AWrongFirstAnswer_IsFixedInTheFeedbackRound()
    {
        using var server = new FakeModelServer((r, _) =>
            new FakeReply.Answer(r.User.Contains("rejected by the verifier", StringComparison.Ordinal)
                ? AgentScenario.Fenced(AgentScenario.Impl)
                : AgentScenario.Answer(r)));
        var db = Path.Combine(Scratch.Folder(), "run.sqlite");
        var tasks = TaskLocator.LoadTasks([AgentScenario.WriteTasks(["illtyped"])]);
        using var store = new ExperienceStore(db);
        using var client = ModelPipeline.Create(new ModelSettings(ModelSpec.Parse("fake", server.OpenAIUrl), null, new RetryPolicy(2)), new ResponseCache(db));
        await new Sampler(new LlmProposer(client.Chat, client.Spec.Id), store, new SamplerOptions(Setting.Single, 1, [0.5], FeedbackRounds: 2)).RunAsync(tasks);
        var sample = Assert.Single(store.Samples());
        Assert.True(sample.IsCorrect);
        Assert.Equal(2, sample.Rounds);
        Assert.Equal(2, sample.Calls);
        var second = server.Received.Single(r => r.User.Contains("rejected", StringComparison.Ordinal));
        Assert.Contains("Verdict: type at line 3, op Accum", second.User, StringComparison.Ordinal);
    }
}
