using Microsoft.Data.Sqlite;
using StepForge.Agents;
using StepForge.Learning;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cost;

/// <summary>
/// The experience store keeps each correct sample's cost and each task's reference cost, computed once per task; a
/// store made before the cost model is migrated with ALTER TABLE and keeps everything it had.
/// </summary>
[Collection(CostCollection.Name)]
public class StoreCostTests
{
    /// <summary>
    /// A store made by StepForge before the cost model (commit 7b371f7, schema 1): <c>stepforge run --tasks
    /// benchmark/index/softmax-top1.yaml benchmark/rope/neox-rope.yaml benchmark/norm/rmsnorm.yaml --max-seconds 5</c>
    /// with builtin:search, which solved the first two.
    /// </summary>
    private static string OldStore()
    {
        var copy = Path.Combine(Scratch.Folder("stepforge-old-"), "schema1.sqlite");
        File.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "StepForge.Tests", "Cost", "Fixtures", "schema1.sqlite"), copy);
        return copy;
    }

    private static string Scalar(string db, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
    }

    [Fact]
    public void AStoreFromBeforeCosts_IsMigrated_AndKeepsEverySample()
    {
        var db = OldStore();
        Assert.Equal("1", Scalar(db, "SELECT value FROM meta WHERE key = 'schema'"));
        using (var store = new ExperienceStore(db))
        {
            var samples = store.Samples();
            Assert.Equal(3, samples.Count);
            Assert.Equal(2, samples.Count(s => s.IsCorrect));
            Assert.All(samples, s => Assert.Null(s.Performance));
        }
        Assert.Equal("3", Scalar(db, "SELECT value FROM meta WHERE key = 'schema'"));
        Assert.Equal("1", Scalar(db, "SELECT COUNT(*) FROM pragma_table_info('samples') WHERE name = 'cycles'"));
        Assert.Equal("1", Scalar(db, "SELECT COUNT(*) FROM pragma_table_info('tasks') WHERE name = 'ref_cycles'"));
        // Opening it again finds the latest schema and changes nothing.
        using var again = new ExperienceStore(db);
        Assert.Equal(3, again.Samples().Count);
    }

    [Fact]
    public void AMigratedStore_GetsItsMissingCostsOnce_FromTheSpecsItHolds()
    {
        var db = OldStore();
        using var store = new ExperienceStore(db);
        // Three reference programs and two correct samples lack a cost.
        Assert.Equal(3 + 2, store.FillInCosts());
        Assert.Equal(0, store.FillInCosts());
        var softmax = TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "index", "softmax-top1.yaml"));
        var references = store.ReferenceCosts();
        Assert.Equal(TaskCost.Estimate(softmax, softmax.Impl!).Cost!.Cycles, references["index-softmax-top1"].Cost!.Cycles);
        var sample = store.Samples().Single(s => s.Key.Task == "index-softmax-top1");
        Assert.Equal(TaskCost.Estimate(softmax, sample.FinalImpl!).Cost!.Summary, sample.Performance);
        Assert.Null(store.Samples().Single(s => s.Key.Task == "norm-rmsnorm").Performance);
    }

    [Fact]
    public void TheReferenceCost_IsComputedOncePerTask_AndAgainWhenTheTaskChanges()
    {
        var db = Path.Combine(Scratch.Folder(), "s.sqlite");
        var task = CostFixture.Task(CostScenario.Yaml("cost-row-sum"));
        using var store = new ExperienceStore(db);
        store.AddTasks([task]);
        var reference = store.ReferenceCosts()["cost-row-sum"];
        Assert.Equal("costed", reference.Status);
        Assert.Equal(TaskCost.Estimate(task, task.Impl!).Cost!.Summary, reference.Cost);
        // Mark the stored figure: adding the same task again must not recompute it.
        using (var connection = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            connection.Open();
            using var mark = connection.CreateCommand();
            mark.CommandText = "UPDATE tasks SET ref_cycles = 12345";
            mark.ExecuteNonQuery();
        }
        store.AddTasks([task]);
        Assert.Equal(12345, store.ReferenceCosts()["cost-row-sum"].Cost!.Cycles);
        // Another reference program is another task: costed afresh.
        var changed = task with { Impl = CostScenario.Streaming };
        store.AddTasks([changed]);
        Assert.Equal(TaskCost.Estimate(task, CostScenario.Streaming).Cost!.Cycles, store.ReferenceCosts()["cost-row-sum"].Cost!.Cycles);
        // A task without impl: is recorded as such.
        store.AddTasks([task with { Name = "no-impl", Impl = null }]);
        Assert.Equal(new ReferenceCost("none", null), store.ReferenceCosts()["no-impl"]);
    }

    [Fact]
    public void ACorrectSample_IsStoredWithItsCost_AWrongOneWithout()
    {
        var db = Path.Combine(Scratch.Folder(), "s.sqlite");
        var task = CostFixture.Task(CostScenario.Yaml("cost-row-sum"));
        var verifier = new TaskVerifier(task, new VerifyOptions(Cost: new CostOptions()));
        var right = verifier.Verify(CostScenario.Streaming);
        var wrong = verifier.Verify(CostScenario.Streaming.Replace("fn_add", "fn_row_sum", StringComparison.Ordinal));
        Assert.True(right.IsCorrect);
        Assert.NotNull(right.Cost);
        Assert.Equal(VerdictKind.Type, wrong.Kind);
        using var store = new ExperienceStore(db);
        SampleRecord Record(int index, Verdict verdict) => new(new SampleKey("run", task.Name, "m", "single", 0.7, index), task.Group, new Prompt("s", "u"),
            "answer", null, CostScenario.Streaming, CostScenario.Streaming, verdict, "fp", 1, 1, false, 0m, 0, 0, 1, 0, 1, false);
        store.Record(Record(0, right));
        store.Record(Record(1, wrong));
        var samples = store.Samples();
        Assert.Equal(right.Cost!.Summary, samples.Single(s => s.Key.Index == 0).Performance);
        Assert.Null(samples.Single(s => s.Key.Index == 1).Performance);
    }
}
