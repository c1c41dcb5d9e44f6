using StepForge.Learning;
using StepForge.Tests.Agents;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cli;

/// <summary>One vocabulary on every command, System.CommandLine's validators and cancellation.</summary>
public class CommandLineTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    private static string NewDb() => Path.Combine(Directory.CreateTempSubdirectory().FullName, "exp.sqlite");

    [Fact]
    public void RunAndImprove_TakeTasksAsArguments_AndStillAsTasksOption()
    {
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var tasks = AgentScenario.WriteTasks(["correct", "wrong"]);
        var positional = Run("run", tasks, "--model", "fake", "--base-url", server.OpenAIUrl, "--db", NewDb());
        Assert.True(positional.Exit == 0, positional.Err);
        var option = Run("run", "--tasks", tasks, "--model", "fake", "--base-url", server.OpenAIUrl, "--db", NewDb());
        Assert.True(option.Exit == 0, option.Err);
        Assert.Equal(positional.Out.Split("samples:")[0], option.Out.Split("samples:")[0]);
        var improve = Run("improve", tasks, "--model", "fake", "--base-url", server.OpenAIUrl, "--db", NewDb(), "--max-iterations", "1");
        Assert.True(improve.Exit == 0, improve.Err);
        Assert.Contains("sampled 2 task(s)", improve.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("improve")]
    public void TheExperimentOption_IsTheSameOnRunAndImprove_WithNameAsItsAlias(string command)
    {
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var tasks = AgentScenario.WriteTasks(["correct"]);
        var db = NewDb();
        Assert.Equal(0, Run(command, tasks, "--model", "fake", "--base-url", server.OpenAIUrl, "--db", db, "--experiment", "first").Exit);
        Assert.Equal(0, Run(command, tasks, "--model", "fake", "--base-url", server.OpenAIUrl, "--db", db, "--name", "second").Exit);
        using var store = new ExperienceStore(db);
        var experiments = store.Samples().Select(s => ReportsRunOf(s.Key.Experiment)).Distinct().Order().ToList();
        Assert.Equal(["first", "second"], experiments);
    }

    private static string ReportsRunOf(string experiment) => StepForge.Reports.ReportBuilder.RunOf(experiment);

    [Fact]
    public void ARefusedValue_IsOneLine_AnUnknownCommand_AlsoGetsTheUsageHint()
    {
        var tasks = AgentScenario.WriteTasks(["correct"]);
        var bad = Run("run", tasks, "--samples", "0", "--db", NewDb());
        Assert.Equal(2, bad.Exit);
        Assert.Equal("stepforge: error: --samples must be at least 1", bad.Err.Trim());
        var unknown = Run("frobnicate");
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("'frobnicate'", unknown.Err, StringComparison.Ordinal);
        Assert.Contains("Run 'stepforge --help'", unknown.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void CtrlC_StopsARun_SayingWhereItsSamplesAre_AndTheSameCommandContinues()
    {
        var tasks = AgentScenario.WriteTasks(["correct", "wrong", "illtyped"]);
        var db = NewDb();
        using var asked = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var server = new FakeModelServer((r, n) =>
        {
            if (n == 2)
            {
                asked.Set();
                // Held until the run was interrupted, so that it is in flight when SIGINT comes.
                release.Wait(TimeSpan.FromSeconds(60));
            }
            return new FakeReply.Answer(AgentScenario.Answer(r));
        });
        string[] args = ["run", tasks, "--model", "fake", "--base-url", server.OpenAIUrl, "--db", db, "--concurrency", "1"];
        var interrupted = Support.Cli.RunAndInterrupt(args, asked, "its second call");
        release.Set();
        Assert.Equal(1, interrupted.Exit);
        Assert.Contains($"stepforge: interrupted; finished samples are kept in {db}; run the same command again to continue", interrupted.Err, StringComparison.Ordinal);
        using (var store = new ExperienceStore(db))
            Assert.Single(store.Samples());

        var resumed = Run(args);
        Assert.Equal(0, resumed.Exit);
        Assert.Contains("3 planned, 1 already stored, 2 new", resumed.Out, StringComparison.Ordinal);
    }
}
