using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Tasks;

/// <summary>The project's own benchmark: 26 tasks in the 8 groups of upstream's benchcard, plus the extra layer norm.</summary>
public class ProjectBenchmarkTests
{
    public static TheoryData<string> Files() => [.. FileList()];

    private static IEnumerable<string> FileList() =>
        Directory.EnumerateFiles(TestPaths.ProjectBenchmark, "*.yaml", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(TestPaths.ProjectBenchmark, f).Replace('\\', '/')).Order(StringComparer.Ordinal);

    private static TaskSpec Load(string file) => TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, file));

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryTask_PassesCheck_EvenCountingReturnsAsConsumption(string file)
    {
        var task = Load(file);
        Assert.True(TaskChecker.Check(task).IsCorrect, TaskChecker.Check(task).Message);
        var strict = TaskChecker.Check(task, options: new StaticCheckOptions(AffineMode: AffineMode.Strict));
        Assert.True(strict.IsCorrect, strict.Message);
        Assert.False(string.IsNullOrWhiteSpace(task.Description));
        Assert.NotNull(task.Upstream);
        Assert.Equal(Path.GetDirectoryName(file) == "extra" ? "norm" : Path.GetDirectoryName(file), task.Group);
    }

    [Fact]
    public void TheBenchmarkHas26TasksInTheEightBenchcardGroups_PlusTheExtraLayerNorm()
    {
        var tasks = FileList().Select(Load).ToList();
        Assert.Equal(27, tasks.Count);
        var benchmark = tasks.Where(t => !t.SourcePath.Contains($"{Path.DirectorySeparatorChar}extra{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToList();
        Assert.Equal(26, benchmark.Count);
        var groups = benchmark.GroupBy(t => t.Group!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int>
        {
            ["attn"] = 3, ["bmm"] = 3, ["gemm-easy"] = 3, ["norm"] = 3, ["rope"] = 3, ["index"] = 4, ["expert"] = 3, ["etoe"] = 4,
        }, groups);
        Assert.Equal(27, tasks.Select(t => t.Upstream).Distinct().Count());
        Assert.Equal(27, tasks.Select(t => t.Name).Distinct().Count());
    }

    public static TheoryData<string> UpstreamPairs() => TestPaths.HasUpstream ? Files() : [];

    /// <summary>Our text, upstream's operator: the same streams, parameters, outputs and function signatures.</summary>
    [UpstreamTheory]
    [MemberData(nameof(UpstreamPairs))]
    public void EveryTask_HasTheShapesAndFnsOfTheUpstreamTaskItRestates(string file)
    {
        var ours = Load(file);
        var theirs = TaskReader.ReadFile(Path.Combine(TestPaths.Upstream, ours.Upstream + "_test.yaml"));
        Assert.Equal(theirs.Inputs.Select(i => (i.Type, i.DataGen, i.MinOnes, i.MaxOnes)), ours.Inputs.Select(i => (i.Type, i.DataGen, i.MinOnes, i.MaxOnes)));
        Assert.Equal(theirs.Parameters.Select(p => (p.Type, p.DataGen)), ours.Parameters.Select(p => (p.Type, p.DataGen)));
        Assert.Equal(theirs.Outputs.Select(o => o.Type), ours.Outputs.Select(o => o.Type));
        Assert.Equal(theirs.Sizes.OrderBy(kv => kv.Key), ours.Sizes.OrderBy(kv => kv.Key));
        static IEnumerable<string> Signatures(TaskSpec t) =>
            t.Fns.Select(f => $"{f.Input} -> {f.Output} init {f.Init}").Order(StringComparer.Ordinal);
        Assert.Equal(Signatures(theirs), Signatures(ours));
    }

    [UpstreamFact]
    public void EveryBenchcardTask_IsRestatedOnce()
    {
        var card = File.ReadAllLines(Path.Combine(TestPaths.Upstream, "benchcard.csv")).Skip(1)
            .Select(l => l.Split(','))
            .Select(cols => (Group: cols[0], Task: cols[1].Replace("_test.yaml", "", StringComparison.Ordinal)))
            .ToList();
        var ours = FileList().Select(Load).Where(t => t.Upstream != "norm/G_0_8_02").ToList();
        Assert.Equal(card.OrderBy(c => c.Task, StringComparer.Ordinal), ours.Select(t => (t.Group!, t.Upstream!)).OrderBy(c => c.Item2, StringComparer.Ordinal));
    }
}
