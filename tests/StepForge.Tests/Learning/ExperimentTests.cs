using System.Text.Json;
using Microsoft.Data.Sqlite;
using StepForge.Learning;
using StepForge.Tests.Agents;
using StepForge.Tests.Support;

namespace StepForge.Tests.Learning;

/// <summary>
/// An experiment is what defines it: the same store and name with another definition is refused with one line that
/// names the difference and the way out; the same definition continues; a store from before definitions is migrated.
/// </summary>
public class ExperimentTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    private static string NewDb() => Path.Combine(Scratch.Folder(), "exp.sqlite");

    private static string[] Fake(FakeModelServer server) => ["--model", "fake", "--base-url", server.OpenAIUrl, "--concurrency", "1"];

    [Fact]
    public void ImproveOnFewerTasks_UnderTheSameName_IsRefused_AndChangesNothing()
    {
        // The issue: improve benchmark/rope into the main job's store and name overwrote its iteration 0.
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var all = AgentScenario.WriteTasks(["correct", "wrong", "illtyped"]);
        var db = NewDb();
        var first = Run(["improve", all, "--db", db, .. Fake(server), "--max-iterations", "2"]);
        Assert.True(first.Exit == 0, first.Err);
        int asked = server.Requests;
        int samples, iterations;
        using (var store = new ExperienceStore(db)) (samples, iterations) = (store.Samples().Count, store.Iterations().Count);

        var fewer = Run(["improve", Path.Combine(all, "rms-correct.yaml"), "--db", db, .. Fake(server), "--max-iterations", "2"]);
        Assert.Equal(2, fewer.Exit);
        var line = Assert.Single(fewer.Err.Trim().Split('\n'));
        Assert.Equal($"stepforge: error: {db} already holds experiment 'improve', defined otherwise: 2 of its tasks are not given (rms-illtyped, rms-wrong); " +
            "give another --experiment NAME to start a new experiment (answers already bought are reused), or another --db FILE", line);
        Assert.Equal(asked, server.Requests);
        using (var store = new ExperienceStore(db))
        {
            Assert.Equal(samples, store.Samples().Count);
            Assert.Equal(iterations, store.Iterations().Count);
        }

        // The way out it names works: another name is another experiment, beside the first.
        var other = Run(["improve", Path.Combine(all, "rms-correct.yaml"), "--db", db, .. Fake(server), "--max-iterations", "2", "--experiment", "rope-only"]);
        Assert.True(other.Exit == 0, other.Err);
        using var after = new ExperienceStore(db);
        Assert.Equal(["improve", "rope-only"], after.Experiments().Select(e => e.Name));
    }

    [Fact]
    public void TheSameDefinition_Continues_AnotherOption_IsNamed()
    {
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var tasks = AgentScenario.WriteTasks(["correct", "wrong"]);
        var db = NewDb();
        string[] args = ["run", tasks, "--db", db, .. Fake(server), "--samples", "2", "--temperature", "0.2,0.8"];
        Assert.Equal(0, Run(args).Exit);
        // The same definition, written otherwise (temperatures in another order, the tasks by --tasks): it continues.
        var again = Run(["run", "--tasks", tasks, "--db", db, .. Fake(server), "--samples", "2", "--temperature", "0.8,0.2"]);
        Assert.Equal(0, again.Exit);
        Assert.Contains("8 planned, 8 already stored, 0 new", again.Out, StringComparison.Ordinal);
        Assert.Equal(8, server.Requests);

        var more = Run(["run", tasks, "--db", db, .. Fake(server), "--samples", "3", "--temperature", "0.2,0.8"]);
        Assert.Equal(2, more.Exit);
        Assert.Contains("defined otherwise: it has --samples 2, this has --samples 3;", more.Err, StringComparison.Ordinal);
        var model = Run(["run", tasks, "--db", db, "--model", "other", "--base-url", server.OpenAIUrl, "--samples", "2", "--temperature", "0.2,0.8"]);
        Assert.Equal(2, model.Exit);
        Assert.Contains($"its model is openai:fake@{server.OpenAIUrl}, this one is openai:other@{server.OpenAIUrl}", model.Err, StringComparison.Ordinal);
        Assert.Equal(8, server.Requests);
    }

    [Fact]
    public void AChangedTask_IsNamed()
    {
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var tasks = AgentScenario.WriteTasks(["correct", "wrong"]);
        var db = NewDb();
        Assert.Equal(0, Run(["run", tasks, "--db", db, .. Fake(server)]).Exit);
        var file = Path.Combine(tasks, "rms-wrong.yaml");
        File.WriteAllText(file, File.ReadAllText(file).Replace("data_gen: torch.rand", "data_gen: torch.randn", StringComparison.Ordinal));
        var changed = Run(["run", tasks, "--db", db, .. Fake(server)]);
        Assert.Equal(2, changed.Exit);
        Assert.Contains("1 of its tasks changed since (rms-wrong)", changed.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void TheReport_KeepsRunAndImproveInOneStoreApart()
    {
        // The issue: run into the main job's store, and report pooled its samples into the main job's tables.
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(AgentScenario.Answer(r)));
        var tasks = AgentScenario.WriteTasks(["correct", "wrong"]);
        var db = NewDb();
        Assert.Equal(0, Run(["improve", tasks, "--db", db, .. Fake(server), "--samples", "3", "--max-iterations", "1"]).Exit);
        Assert.Equal(0, Run(["run", Path.Combine(tasks, "rms-correct.yaml"), "--db", db, .. Fake(server)]).Exit);

        var report = Run("report", db, "--json", "--k", "1");
        Assert.Equal(0, report.Exit);
        var json = JsonDocument.Parse(report.Out).RootElement;
        var all = json.GetProperty("groups").EnumerateArray().Where(g => g.GetProperty("name").GetString() == "all")
            .ToDictionary(g => g.GetProperty("experiment").GetString()!);
        Assert.Equal(["improve", "run"], all.Keys.Order());
        Assert.Equal(6, all["improve"].GetProperty("samples").GetInt32());
        Assert.Equal(2, all["improve"].GetProperty("tasks").GetInt32());
        Assert.Equal(1, all["run"].GetProperty("samples").GetInt32());
        Assert.Equal(1, all["run"].GetProperty("tasks").GetInt32());
        var text = Run("report", db, "--k", "1").Out;
        Assert.Contains("experiment improve: openai:fake", text, StringComparison.Ordinal);
        Assert.Contains("experiment run: openai:fake", text, StringComparison.Ordinal);
    }

    /// <summary>
    /// A store made by StepForge 0.7.0 (commit fd2a4c3, schema 2, before experiment definitions), with builtin:search:
    /// <c>improve --tasks benchmark/index/softmax-top1.yaml benchmark/rope/neox-rope.yaml benchmark/norm/rmsnorm.yaml
    /// --test benchmark/rope/gptj-rope.yaml --max-seconds 4</c>, then <c>run --tasks benchmark/rope/neox-rope.yaml
    /// benchmark/norm/rmsnorm.yaml --max-seconds 4</c>, both into it.
    /// </summary>
    private static string Schema2Store()
    {
        var copy = Path.Combine(Scratch.Folder("stepforge-old-"), "schema2.sqlite");
        File.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "StepForge.Tests", "Learning", "Fixtures", "schema2.sqlite"), copy);
        return copy;
    }

    private static string Bench(string path) => Path.Combine(TestPaths.ProjectBenchmark, path);

    [Fact]
    public void AStoreFromBeforeDefinitions_IsMigrated_ItsExperimentsRebuiltFromTheSamples()
    {
        var db = Schema2Store();
        using (var connection = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            connection.Open();
            using var schema = connection.CreateCommand();
            schema.CommandText = "SELECT value FROM meta WHERE key = 'schema'";
            Assert.Equal("2", schema.ExecuteScalar());
        }
        using var store = new ExperienceStore(db);
        Assert.Equal(7, store.Samples().Count);
        Assert.Equal(2, store.Iterations().Count);
        var experiments = store.Experiments().ToDictionary(e => e.Name);
        Assert.Equal(["improve", "run"], experiments.Keys.Order());
        var improve = experiments["improve"].Definition;
        Assert.True(improve.Reconstructed);
        Assert.Equal(("improve", "builtin:search", "single"), (improve.Command, improve.Model, improve.Setting));
        Assert.Equal(["index-softmax-top1", "norm-rmsnorm", "rope-gptj", "rope-neox"], improve.Tasks.Keys);
        var neox = StepForge.Tasks.TaskReader.ReadFile(Bench("rope/neox-rope.yaml"));
        Assert.Equal(ExperimentDefinition.Digest(neox), improve.Tasks["rope-neox"]);
        var run = experiments["run"].Definition;
        Assert.Equal(("run", "builtin:search"), (run.Command, run.Model));
        Assert.Equal(["norm-rmsnorm", "rope-neox"], run.Tasks.Keys);
        Assert.Null(experiments["run"].CommandLine);
    }

    [Fact]
    public void AMigratedExperiment_IsContinuedByItsCommand_AndRefusesAnother()
    {
        var db = Schema2Store();
        string[] improve = ["improve", Bench("index/softmax-top1.yaml"), Bench("rope/neox-rope.yaml"), Bench("norm/rmsnorm.yaml"),
            "--test", Bench("rope/gptj-rope.yaml"), "--db", db];
        // Every answer is in the store's cache: the loop replays its two iterations and searches nothing.
        var resumed = Run(improve);
        Assert.True(resumed.Exit == 0, resumed.Err);
        Assert.Contains("iteration 1: demonstrations 2 from 1 stratum(a); sampled 1 task(s); newly solved 0; solved 2/3 training, 1/1 test", resumed.Out, StringComparison.Ordinal);
        using (var store = new ExperienceStore(db))
        {
            Assert.Equal(7, store.Samples().Count);
            var definition = store.Experiments().Single(e => e.Name == "improve");
            Assert.False(definition.Definition.Reconstructed);
            // The search's budget is work since 0.8: the continued definition records it.
            Assert.Equal("400000000", definition.Definition.Options["--max-work"]);
            Assert.StartsWith("stepforge improve ", definition.CommandLine, StringComparison.Ordinal);
        }
        var rope = Run("improve", Bench("rope/neox-rope.yaml"), "--db", db);
        Assert.Equal(2, rope.Exit);
        Assert.Contains("already holds experiment 'improve', defined otherwise: 2 of its tasks are not given (index-softmax-top1, norm-rmsnorm)", rope.Err, StringComparison.Ordinal);
    }
}
