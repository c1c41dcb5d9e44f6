using StepForge.Tasks;
using StepForge.Tests.Support;
using Xunit.Abstractions;

namespace StepForge.Tests.Tasks;

/// <summary>
/// The verifier must reject changed programs. Every reference program of the project benchmark (and of the upstream
/// corpus, when present) is mutated one change at a time and verified on two seeds. A mutant that survives must be
/// listed below with the reason it computes the same thing.
/// </summary>
public class MutationTests(ITestOutputHelper output)
{
    private static IEnumerable<(Mutant Mutant, TaskSpec Task)> All()
    {
        foreach (var file in Directory.EnumerateFiles(TestPaths.ProjectBenchmark, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var task = TaskReader.ReadFile(file);
            foreach (var m in Mutants.Of("project/" + Path.GetRelativePath(TestPaths.ProjectBenchmark, file).Replace('\\', '/'), task)) yield return (m, task);
        }
        foreach (var file in TestPaths.UpstreamFiles("_ref.yaml"))
        {
            var task = TaskReader.ReadFile(file);
            foreach (var m in Mutants.Of("upstream/" + TestPaths.Relative(file), task)) yield return (m, task);
        }
    }

    [Fact]
    public void TheVerifierRejectsEveryMutantThatChangesTheResult()
    {
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var survivors = new List<string>();
        int count = 0;
        foreach (var (mutant, task) in All())
        {
            count++;
            var verdict = Verifier.Verify(task, mutant.Program, new VerifyOptions(Trials: 2, RepairAffine: true));
            var kind = Verdict.KindName(verdict.Kind);
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            if (verdict.IsCorrect) survivors.Add($"{mutant.Task} {mutant.Description}");
        }
        output.WriteLine($"{count} mutants: {string.Join(", ", kinds.Select(k => $"{k.Value} {k.Key}"))}; {count - survivors.Count} rejected");
        foreach (var s in survivors) output.WriteLine("survived: " + s);
        Assert.True(count >= 200, $"only {count} mutants");
        Assert.Equal(EquivalentMutants.Keys.Where(k => k.StartsWith("project/", StringComparison.Ordinal) || TestPaths.HasUpstream).Order(StringComparer.Ordinal),
            survivors.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AtSixteenTimesTheSumLength_TheWidenedToleranceRejectsTheSameMutants()
    {
        // K is the length of the benchmark's sums; at 16 K the tolerance is 16 times the float32 one, and it must
        // still tell every changed program from the reference.
        var survivors = new List<string>();
        int count = 0;
        foreach (var (mutant, task) in All().Where(m => m.Mutant.Task.StartsWith("project/", StringComparison.Ordinal)))
        {
            count++;
            var sizes = new Dictionary<string, long> { ["K"] = 16 * task.Sizes["K"] };
            var verdict = Verifier.Verify(task, mutant.Program, new VerifyOptions(Trials: 2, Sizes: sizes, RepairAffine: true));
            if (verdict.IsCorrect) survivors.Add($"{mutant.Task} {mutant.Description}");
        }
        output.WriteLine($"{count} mutants at 16 K, {count - survivors.Count} rejected");
        foreach (var s in survivors) output.WriteLine("survived: " + s);
        Assert.Equal(EquivalentMutants.Keys.Where(k => k.StartsWith("project/", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
            survivors.Order(StringComparer.Ordinal));
    }

    /// <summary>Mutants that survive, each with why it computes the same outputs as the reference.</summary>
    private static readonly Dictionary<string, string> EquivalentMutants = new()
    {
        ["project/bmm/elementwise-dot.yaml line 8: swap Zip operands"] =
            "the zipped pair feeds a product (x * y), and float multiplication commutes exactly",
        ["project/etoe/sigmoid-top3-moe.yaml line 7: duplicate Map"] =
            "top-3 of a 0/1 mask with exactly three ones selects those ones again: the mask is idempotent under the fn",
        ["project/gemm-easy/broadcast-row-dot.yaml line 4: swap Zip operands"] =
            "the zipped pair feeds a product (x * y), and float multiplication commutes exactly",
        ["project/gemm-easy/buffer-product-sum.yaml line 1: swap Zip operands"] =
            "the zipped pair feeds a product (x * y), and float multiplication commutes exactly",
        ["project/gemm-easy/product-sum-outer.yaml line 1: swap Zip operands"] =
            "the zipped pair feeds a product (x * y), and float multiplication commutes exactly",
        ["project/index/sigmoid-top3-tokens.yaml line 6: duplicate Map"] =
            "top-3 of a 0/1 mask with exactly three ones selects those ones again: the mask is idempotent under the fn",
        ["project/norm/layernorm-buffered.yaml line 2: duplicate Map"] =
            "the row mean of a row whose entries all equal the mean is that mean, exactly (the sum of D equal floats is exact in double)",
        ["project/norm/layernorm-buffered.yaml line 7: duplicate Map"] =
            "the row mean of a row whose entries all equal the mean is that mean, exactly (the sum of D equal floats is exact in double)",
        ["upstream/bmm/bmm_2_ref.yaml line 7: swap Zip operands"] =
            "the zipped pair feeds a product (x * y), and float multiplication commutes exactly",
        ["upstream/gemm-easy/G_0_6_02_ref.yaml line 4: swap Zip operands"] =
            "the zipped pair feeds a product (x * y), and float multiplication commutes exactly",
        ["upstream/gemm-easy/G_0_6_03_ref.yaml line 1: swap Zip operands"] =
            "the zipped pair feeds a product (x * y), and float multiplication commutes exactly",
        ["upstream/gemm-easy/G_0_7_01_ref.yaml line 1: swap Zip operands"] =
            "the zipped pair feeds a product (x * y), and float multiplication commutes exactly",
        ["upstream/moe/G_0_12_01_ref.yaml line 6: duplicate Map"] =
            "top-3 of a 0/1 mask with exactly three ones selects those ones again: the mask is idempotent under the fn",
        ["upstream/moe/G_0_7_03_ref.yaml line 5: duplicate Map"] =
            "top-3 of a 0/1 mask with exactly three ones selects those ones again: the mask is idempotent under the fn",
        ["upstream/norm/G_0_9_02_ref.yaml line 1: duplicate Map"] =
            "the row mean of a row whose entries all equal the mean is that mean, exactly (the sum of D equal floats is exact in double)",
        ["upstream/norm/G_0_9_02_ref.yaml line 5: duplicate Map"] =
            "the row mean of a row whose entries all equal the mean is that mean, exactly (the sum of D equal floats is exact in double)",
    };
}
