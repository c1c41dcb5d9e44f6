using System.Text.Json;
using StepForge.Learning;
using StepForge.Tests.Learning;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cli;

/// <summary><c>stepforge improve</c>: the loop from the command line, and resuming after a crash mid-iteration.</summary>
public class ImproveCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    private static string[] Arguments(FakeModelServer server, string train, string test, string db) =>
        ["improve", "--model", "fake", "--base-url", server.OpenAIUrl, "--tasks", train, "--test", test, "--db", db,
         "--samples", "4", "--granularity", "2", "--concurrency", "1", "--trials", "1"];

    /// <summary>The curriculum's tasks split into a training folder and a test folder.</summary>
    private static (string Train, string Test) Folders()
    {
        var all = Agents.AgentScenario.WriteTasks([.. SelfImprovementTests.Train, "X"]);
        var test = Scratch.Folder("stepforge-test-");
        File.Move(Path.Combine(all, "rms-X.yaml"), Path.Combine(test, "rms-X.yaml"));
        return (all, test);
    }

    private static string NewDb() => Path.Combine(Scratch.Folder(), "improve.sqlite");

    [Fact]
    public void TheLoop_PrintsEveryIteration_AndWhatItSolved()
    {
        var curriculum = new SelfImprovementTests.Curriculum();
        using var server = new FakeModelServer((r, _) => curriculum.Answer(r));
        var (train, test) = Folders();
        var (exit, output, err) = Run(Arguments(server, train, test, NewDb()));
        Assert.True(exit == 0, err);
        Assert.Contains("iteration 0: demonstrations none; sampled 6 task(s); newly solved 2 (rms-E, rms-H); solved 2/5 training, 0/1 test", output, StringComparison.Ordinal);
        Assert.Contains("iteration 3: demonstrations 3 from 2 stratum(a)", output, StringComparison.Ordinal);
        Assert.Contains("stopped: every stratum was tried without a new solved task", output, StringComparison.Ordinal);
        Assert.Contains("rms-X (test): solved in iteration 1, 4/4 samples correct", output, StringComparison.Ordinal);
        Assert.Contains("rms-U (train): not solved", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ACrashInTheMiddleOfAnIteration_Resumes_WithoutReaskingCompletedSamples()
    {
        var (train, test) = Folders();

        // The same experiment without a crash, for the figures to match.
        var quietCurriculum = new SelfImprovementTests.Curriculum();
        using var quiet = new FakeModelServer((r, _) => quietCurriculum.Answer(r));
        var clean = Run([.. Arguments(quiet, train, test, NewDb()), "--json"]);
        Assert.Equal(0, clean.Exit);

        var curriculum = new SelfImprovementTests.Curriculum();
        using var killed = new ManualResetEventSlim();
        using var server = new FakeModelServer((r, n) =>
        {
            if (n != 10) return curriculum.Answer(r);
            killed.Set();
            Thread.Sleep(30_000);
            return curriculum.Answer(r);
        });
        var db = NewDb();
        Support.Cli.RunUntilKilled(Arguments(server, train, test, db), killed, "its tenth call");
        using (var store = new ExperienceStore(db))
        {
            Assert.Equal(9, store.Samples().Count);
            Assert.Empty(store.Iterations());
        }

        var resumed = Run([.. Arguments(server, train, test, db), "--json"]);
        Assert.Equal(0, resumed.Exit);
        // Everything the clean run asked, plus the one call that was in flight when the run died.
        Assert.Equal(quiet.Requests + 1, server.Requests);
        var a = JsonDocument.Parse(clean.Out).RootElement;
        var b = JsonDocument.Parse(resumed.Out).RootElement;
        Assert.Equal(a.GetProperty("iterations").ToString(), b.GetProperty("iterations").ToString());
        Assert.Equal(a.GetProperty("stop_reason").GetString(), b.GetProperty("stop_reason").GetString());
    }
}
