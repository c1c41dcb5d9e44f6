using System.Text.Json;
using StepForge.Learning;
using StepForge.Tests.Agents;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cli;

/// <summary><c>stepforge run</c> against the fake provider: results, resuming, failures.</summary>
public class RunCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    private static string NewDb() => Path.Combine(Scratch.Folder(), "exp.sqlite");

    [Fact]
    public void ARun_PrintsPassAtKPerTaskAndGroup_AndStoresEverySample()
    {
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var tasks = AgentScenario.WriteTasks(["correct", "wrong", "nonaffine"]);
        var db = NewDb();
        var (exit, output, err) = Run("run", "--model", "openai:fake-coder", "--base-url", server.OpenAIUrl, "--tasks", tasks,
            "--samples", "2", "--temperature", "0.2,0.8", "--db", db, "--k", "1,2,4");
        Assert.True(exit == 0, err);
        Assert.Contains("setting single", output, StringComparison.Ordinal);
        var correctRow = output.Split('\n').Single(l => l.StartsWith("rms-correct", StringComparison.Ordinal));
        Assert.Matches(@"rms-correct\s+norm\s+4\s+4\s+1\s+1\.000\s+1\.000\s+1\.000\s+4000\s+400", correctRow);
        var groupRow = output.Split('\n').Single(l => l.StartsWith("norm ", StringComparison.Ordinal));
        Assert.Matches(@"norm\s+3\s+1\s+12\s+4\s+1\s+0\.333", groupRow);
        Assert.Contains("12 planned, 0 already stored, 12 new, 0 failed", output, StringComparison.Ordinal);
        Assert.Contains("cost unknown", output, StringComparison.Ordinal);
        using var store = new ExperienceStore(db);
        Assert.Equal(12, store.Samples().Count);
        Assert.Equal(12, server.Requests);
    }

    [Fact]
    public void Json_And_Csv_HaveTheSameFigures()
    {
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var tasks = AgentScenario.WriteTasks(["correct", "wrong"]);
        var csv = Path.Combine(Scratch.Folder(), "out.csv");
        var (exit, output, _) = Run("run", "--model", "anthropic:claude-sonnet-4-5", "--base-url", server.AnthropicUrl, "--api-key-env", "STEPFORGE_TEST_KEY_UNSET_LOCAL",
            "--tasks", tasks, "--samples", "3", "--db", NewDb(), "--json", "--csv", csv, "--setting", "agent");
        Assert.Equal(0, exit);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal("agent", json.GetProperty("setting").GetString());
        var rows = json.GetProperty("tasks").EnumerateArray().ToList();
        var correct = rows.Single(r => r.GetProperty("name").GetString() == "rms-correct");
        Assert.Equal(1.0, correct.GetProperty("pass_at").GetProperty("1").GetDouble());
        Assert.Equal(0.0, rows.Single(r => r.GetProperty("name").GetString() == "rms-wrong").GetProperty("pass_at").GetProperty("1").GetDouble());
        // claude-sonnet-4*: 3 samples x (1000 in x $3 + 100 out x $15) per million.
        Assert.Equal(0.0135m, correct.GetProperty("cost").GetDecimal());
        var lines = File.ReadAllLines(csv);
        Assert.StartsWith("model,setting,task,group,samples,correct,unique_correct,pass_at_1", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains(",rms-correct,norm,3,3,1,1,", StringComparison.Ordinal));
    }

    [Fact]
    public void ARerun_AsksNothing_AndReportsTheSame()
    {
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var tasks = AgentScenario.WriteTasks(["correct", "illtyped"]);
        var db = NewDb();
        string[] args = ["run", "--model", "fake", "--base-url", server.OpenAIUrl, "--tasks", tasks, "--samples", "2", "--db", db];
        var first = Run(args);
        Assert.Equal(4, server.Requests);
        var second = Run(args);
        Assert.Equal(4, server.Requests);
        Assert.Contains("4 planned, 4 already stored, 0 new", second.Out, StringComparison.Ordinal);
        Assert.Equal(first.Out.Split("samples:")[0], second.Out.Split("samples:")[0]);
    }

    [Fact]
    public void KillingARun_ThenRerunning_LosesNothing_AndReasksOnlyTheUnansweredCall()
    {
        string[] kinds = ["correct", "wrong", "illtyped", "nonaffine", "unparsable", "empty"];
        var tasks = AgentScenario.WriteTasks(kinds);
        var db = NewDb();
        using var killed = new ManualResetEventSlim();
        using var server = new FakeModelServer((r, n) =>
        {
            if (n == 4)
            {
                killed.Set();
                return new FakeReply.Answer(AgentScenario.Answer(r), DelayMs: 30_000);
            }
            return new FakeReply.Answer(AgentScenario.Answer(r));
        });
        Support.Cli.RunUntilKilled(["run", "--model", "fake", "--base-url", server.OpenAIUrl, "--tasks", tasks, "--db", db, "--concurrency", "1"],
            killed, "its fourth call");
        using (var store = new ExperienceStore(db))
            Assert.Equal(3, store.Samples().Count);

        var (exit, output, _) = Run("run", "--model", "fake", "--base-url", server.OpenAIUrl, "--tasks", tasks, "--db", db, "--concurrency", "1");
        Assert.Equal(0, exit);
        Assert.Contains("6 planned, 3 already stored, 3 new", output, StringComparison.Ordinal);
        // Six samples, one call each, plus the call that was in flight when the run was killed.
        Assert.Equal(7, server.Requests);
        var askedTwice = server.Received.GroupBy(AgentScenario.TaskOf).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Single(askedTwice);
        using var final = new ExperienceStore(db);
        Assert.Equal(6, final.Samples().Count);
    }

    [Fact]
    public void AnUnreachableEndpoint_FailsFast_WithOneClearLine()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var (exit, _, err) = Run("run", "--model", "fake", "--base-url", $"http://127.0.0.1:{port}/v1", "--tasks", AgentScenario.WriteTasks(["correct"]),
            "--samples", "5", "--db", NewDb());
        Assert.Equal(2, exit);
        // Fast: a refused connection is not retried.
        Assert.DoesNotContain("retrying", err, StringComparison.Ordinal);
        var errorLines = err.Split('\n').Where(l => l.StartsWith("stepforge: error:", StringComparison.Ordinal)).ToList();
        Assert.Single(errorLines);
        Assert.Contains($"cannot reach http://127.0.0.1:{port}/v1", errorLines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void FailedCalls_AreReported_AndRetriedByTheNextRun()
    {
        int failures = 0;
        using var server = new FakeModelServer((r, _) => Interlocked.Increment(ref failures) <= 3 ? new FakeReply.Malformed() : new FakeReply.Answer(AgentScenario.Answer(r)));
        var tasks = AgentScenario.WriteTasks(["correct"]);
        var db = NewDb();
        string[] args = ["run", "--model", "fake", "--base-url", server.OpenAIUrl, "--tasks", tasks, "--samples", "3", "--db", db, "--concurrency", "1"];
        var first = Run(args);
        Assert.Equal(1, first.Exit);
        Assert.Contains("3 sample(s) could not be obtained", first.Err, StringComparison.Ordinal);
        var second = Run(args);
        Assert.Equal(0, second.Exit);
        Assert.Contains("3 planned, 0 already stored, 3 new, 0 failed", second.Out, StringComparison.Ordinal);
        using var store = new ExperienceStore(db);
        Assert.Equal(3, store.Errors().Count);
    }

    [Theory]
    [InlineData("--setting", "chatty", "--setting chatty: expected single, agent or single-ws")]
    [InlineData("--temperature", "hot", "--temperature hot")]
    [InlineData("--samples", "0", "--samples must be at least 1")]
    [InlineData("--base-url", "ftp://x", "is not an http(s) URL")]
    public void BadOptions_ExitTwo_WithOneLine(string option, string value, string message)
    {
        string[] url = option == "--base-url" ? [] : ["--base-url", "http://127.0.0.1:9/v1"];
        var (exit, _, err) = Run(["run", "--model", "fake", .. url, "--tasks", AgentScenario.WriteTasks(["correct"]), "--db", NewDb(), option, value]);
        Assert.Equal(2, exit);
        Assert.Contains(message, err, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingKey_IsNamed_BeforeAnythingIsAsked()
    {
        var (exit, _, err) = Run("run", "--model", "claude-sonnet-4-5", "--api-key-env", "STEPFORGE_TEST_NO_SUCH_KEY", "--tasks", AgentScenario.WriteTasks(["correct"]), "--db", NewDb());
        Assert.Equal(2, exit);
        Assert.Contains("set STEPFORGE_TEST_NO_SUCH_KEY", err, StringComparison.Ordinal);
    }
}

/// <summary>Rate limits during a run: retried, counted and shown.</summary>
public class RunRetryTests
{
    [Fact]
    public void RateLimits_AreRetried_AndReported()
    {
        using var server = new FakeModelServer((r, n) => n % 2 == 1 ? new FakeReply.Status(429, 0.05) : new FakeReply.Answer(AgentScenario.Answer(r)));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Support.Cli.Invoke(["run", "--model", "fake", "--base-url", server.OpenAIUrl, "--tasks", AgentScenario.WriteTasks(["correct"]),
            "--samples", "3", "--concurrency", "1", "--db", Path.Combine(Scratch.Folder(), "r.sqlite")], stdout, stderr, new StringReader(""));
        Assert.Equal(0, exit);
        Assert.Contains("3 model call(s) made, 3 retried", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("retry: HTTP 429; retrying in 0.1 s (attempt 2 of 6)", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(6, server.Requests);
    }
}
