using StepForge.Learning;
using StepForge.Tests.Agents;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cli;

/// <summary>One vocabulary on every command, System.CommandLine's validators and cancellation.</summary>
public class CommandLineTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    private static string NewDb() => Path.Combine(Scratch.Folder(), "exp.sqlite");

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

    [Theory]
    [InlineData("check", "--bogus")]
    [InlineData("verify", "--repair")]
    [InlineData("cost", "--nope")]
    [InlineData("run", "--budget")]
    [InlineData("improve", "--budget")]
    [InlineData("synthesize", "-z")]
    [InlineData("bench verify", "--second")]
    public void AMistypedOption_IsRefusedAsAnOption_NotLookedForAsAFile(string command, string word)
    {
        var tasks = AgentScenario.WriteTasks(["correct"]);
        var result = Run([.. command.Split(' '), tasks, word, "--db", NewDb()]);
        Assert.Equal(2, result.Exit);
        Assert.Equal($"stepforge: error: {word}: not an option of stepforge {command} (stepforge {command} --help lists its options)", result.Err.Trim());
    }

    [Fact]
    public void AMistypedOption_OfReport_IsRefusedAsAnOption()
    {
        var result = Run("report", NewDb(), "-k");
        Assert.Equal(2, result.Exit);
        Assert.Equal("stepforge: error: -k: not an option of stepforge report (stepforge report --help lists its options)", result.Err.Trim());
    }

    [Fact]
    public void AFileNamedLikeAnOption_IsStillAFile()
    {
        var folder = Scratch.Folder();
        File.Copy(Path.Combine(TestPaths.ProjectBenchmark, "norm", "rmsnorm.yaml"), Path.Combine(folder, "-rmsnorm.yaml"));
        var result = Support.Cli.RunIn(folder, "verify", "-rmsnorm.yaml");
        Assert.True(result.Exit == 0, result.Err);
        Assert.Contains("1 checked: 1 correct", result.Out, StringComparison.Ordinal);
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
                release.Wait(TimeSpan.FromMinutes(10));
            }
            return new FakeReply.Answer(AgentScenario.Answer(r));
        });
        string[] args = ["run", tasks, "--model", "fake", "--base-url", server.OpenAIUrl, "--db", db, "--concurrency", "1"];
        var interrupted = Support.Cli.RunAndInterrupt(args, asked, "its second call");
        release.Set();
        // What the run said, should it not stop. A suite started with SIGINT ignored once saw it finish with exit 0 after
        // the held call's 300 s attempt timeout: the child had inherited the ignore (RunAndInterrupt now resets it).
        Assert.True(interrupted.Exit == 1, $"exit {interrupted.Exit}; stderr: {interrupted.Err}");
        Assert.Contains($"stepforge: interrupted; finished samples are kept in {db}; run the same command again to continue", interrupted.Err, StringComparison.Ordinal);
        using (var store = new ExperienceStore(db))
            Assert.Single(store.Samples());

        var resumed = Run(args);
        Assert.Equal(0, resumed.Exit);
        Assert.Contains("3 planned, 1 already stored, 2 new", resumed.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void ImprovesProgress_NamesTheIteration_CountsItsSamples_AndALastLineSumsUp()
    {
        var curriculum = new Learning.SelfImprovementTests.Curriculum();
        using var server = new FakeModelServer((r, _) => curriculum.Answer(r));
        var all = AgentScenario.WriteTasks([.. Learning.SelfImprovementTests.Train, "X"]);
        var test = Scratch.Folder("stepforge-test-");
        File.Move(Path.Combine(all, "rms-X.yaml"), Path.Combine(test, "rms-X.yaml"));
        var db = NewDb();
        var html = Scratch.Folder();
        var (exit, output, err) = Run("improve", all, "--test", test, "--db", db, "--model", "fake", "--base-url", server.OpenAIUrl,
            "--samples", "4", "--granularity", "2", "--concurrency", "1", "--trials", "1", "--html", html);
        Assert.True(exit == 0, err);
        // Iteration 0 samples all 6 tasks 4 times; iteration 1 only the 4 still unsolved.
        Assert.Contains("[iteration 0: 24/24] ", err, StringComparison.Ordinal);
        Assert.Contains("[iteration 1:  1/16] ", err, StringComparison.Ordinal);
        Assert.DoesNotContain("/24] ", err.Split("[iteration 1:")[1], StringComparison.Ordinal);
        var last = output.TrimEnd().Split('\n')[^1];
        Assert.Equal($"done: 4/5 training and 1/1 held-out tasks solved; 0 tokens in, 0 out; cost unknown (give --price IN,OUT); store {db}; " +
            $"report {Path.Combine(html, "index.html")}", last.Replace(ExpectedTokens(db), "0 tokens in, 0 out", StringComparison.Ordinal));
    }

    /// <summary>The tokens the fake reported, as the closing line writes them.</summary>
    private static string ExpectedTokens(string db)
    {
        using var store = new ExperienceStore(db);
        var iterations = store.Iterations();
        return $"{iterations.Sum(i => i.Iteration.InputTokens):N0} tokens in, {iterations.Sum(i => i.Iteration.OutputTokens):N0} out";
    }
}
