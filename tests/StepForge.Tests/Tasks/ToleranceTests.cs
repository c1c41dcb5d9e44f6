using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tensors;
using StepForge.Tests.Support;

namespace StepForge.Tests.Tasks;

/// <summary>
/// Verification rule 4 of step-semantics.md: outputs are close as torch.testing.assert_close for float32
/// (rtol 1.3e-6, atol 1e-5) at the task's sizes; at other sizes both grow only with the sums the program or the
/// reference computes over an enlarged dimension, by the ratio of that sum's length to its length at the task's sizes.
/// </summary>
public class ToleranceTests
{
    private static TaskSpec Project(string relative) => TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, relative));

    [Fact]
    public void AtTheTasksOwnSizes_TheToleranceIsTorchTestingsFloat32()
    {
        var task = Project("bmm/outer-product-accumulate.yaml");
        foreach (var sizes in new Dictionary<string, long>?[] { null, new(), new(task.Sizes) })
        {
            var verdict = Verifier.Verify(task, options: new VerifyOptions(Sizes: sizes));
            Assert.True(verdict.IsCorrect, verdict.Message);
            Assert.DoesNotContain("float32 tolerance", verdict.Message, StringComparison.Ordinal);
        }
        Assert.Equal(Tolerance.Float32, Tolerance.Widened(1));
        Assert.Equal(Tolerance.Float32, Tolerance.Widened(0.25));
    }

    [Fact]
    public void AWidenedTolerance_MultipliesBothTolerancesByTheGrowth()
    {
        var tolerance = Tolerance.Widened(4);
        Assert.Equal(4 * 1.3e-6, tolerance.Relative, 15);
        Assert.Equal(4e-5, tolerance.Absolute, 15);
        Assert.True(tolerance.Allows(4e-5 + 4 * 1.3e-6 * 2.0, 2.0));
        Assert.False(tolerance.Allows(4.1e-5 + 4 * 1.3e-6 * 2.0, 2.0));
    }

    [Fact]
    public void TheGrowth_IsTheLargestRatioOfASumsLength_AtTheSameSite()
    {
        var own = new FoldLengths();
        using (FoldLengths.Track(own))
        {
            using (FoldLengths.At("a")) FoldLengths.Report(16);
            using (FoldLengths.At("b")) FoldLengths.Report(9);
        }
        var run = new FoldLengths();
        using (FoldLengths.Track(run))
        {
            using (FoldLengths.At("a")) FoldLengths.Report(64);
            using (FoldLengths.At("b")) FoldLengths.Report(9);
            using (FoldLengths.At("c")) FoldLengths.Report(1000);
        }
        // a grew 4 times, b not at all; c has no baseline to compare with.
        Assert.Equal(4, run.GrowthOver(own));
        Assert.Equal(1, own.GrowthOver(run));
        Assert.False(FoldLengths.Active);
    }

    [Fact]
    public void ADimensionNothingSumsOver_WidensNothing()
    {
        // RoPE rotates pairs of values: neither the program nor the reference sums anything over M (or D).
        var task = Project("rope/gptj-rope.yaml");
        var verdict = Verifier.Verify(task, options: new VerifyOptions(Sizes: new Dictionary<string, long> { ["M"] = 4000 }));
        Assert.True(verdict.IsCorrect, verdict.Message);
        Assert.DoesNotContain("float32 tolerance", verdict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASizeTheTaskDoesNotSumOver_DoesNotWidenItsTolerance_AndOneItSumsOverDoes()
    {
        var rmsnorm = Project("norm/rmsnorm.yaml");
        Assert.DoesNotContain("float32 tolerance", Verifier.Verify(rmsnorm, options: new VerifyOptions(Sizes: new Dictionary<string, long> { ["K"] = 1000 })).Message, StringComparison.Ordinal);
        // rmsnorm sums D squares: 64 instead of 16.
        Assert.Contains("within 4x the float32 tolerance", Verifier.Verify(rmsnorm, options: new VerifyOptions(Sizes: new Dictionary<string, long> { ["D"] = 64 })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFactorAboveSixteen_SaysSoInTheVerdict()
    {
        Assert.DoesNotContain("unseen", Tolerance.Widened(16).ToString(), StringComparison.Ordinal);
        Assert.Contains("above 16x, differences near float32 precision go unseen", Tolerance.Widened(17).ToString(), StringComparison.Ordinal);
        var verdict = Verifier.Verify(Project("bmm/outer-product-accumulate.yaml"), options: new VerifyOptions(Sizes: new Dictionary<string, long> { ["K"] = 1024 }));
        Assert.Contains("go unseen", verdict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALongSequentialFloat32Sum_IsCorrectAtScale_WhereTheFixedToleranceRejectsIt()
    {
        // Accum adds K float32 products one at a time; the reference sums in double. At K=1024 that rounding exceeds
        // atol 1e-5 on many of the 560 outputs, and stays within the tolerance widened 1024/9 times.
        var task = Project("bmm/outer-product-accumulate.yaml");
        var sizes = new Dictionary<string, long> { ["K"] = 1024 };

        var strict = Verifier.Verify(task, options: new VerifyOptions(Sizes: sizes, FixedTolerance: true));
        Assert.Equal(VerdictKind.Wrong, strict.Kind);
        Assert.Equal("compare.allclose", strict.Rule);
        Assert.Equal("|actual - expected| <= 1E-05 + 1.3E-06 * |expected|", strict.Expected);

        var scaled = Verifier.Verify(task, options: new VerifyOptions(Sizes: sizes, Trials: 3));
        Assert.True(scaled.IsCorrect, scaled.Message);
        Assert.Contains("113.78x the float32 tolerance", scaled.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASumInAnotherOrder_IsCorrectAtScale()
    {
        // A candidate need not add in the reference program's order: pairs first, then the K/2 pair sums.
        var task = Project("bmm/outer-product-accumulate.yaml");
        var pairwise = task.Impl!.Replace("summed = step.Accum(fn=fn_add_tiles, b=1).apply(tiles)",
            "pairs_of_k = step.Reshape(L=[0], S=2).apply(tiles)\n" +
            "pair_sums = step.Accum(fn=fn_add_tiles, b=1).apply(pairs_of_k)\n" +
            "summed = step.Accum(fn=fn_add_tiles, b=1).apply(pair_sums)", StringComparison.Ordinal);
        Assert.NotEqual(task.Impl, pairwise);
        var verdict = Verifier.Verify(task, pairwise, new VerifyOptions(Sizes: new Dictionary<string, long> { ["K"] = 1024 }, Trials: 2));
        Assert.True(verdict.IsCorrect, verdict.Message);
    }

    [Fact]
    public void AWrongProgramAtScale_IsStillWrong_AndItsVerdictShowsTheWidenedTolerance()
    {
        // Tokens routed to expert 0 get expert 1's network and the other way round.
        var task = Project("expert/weighted-ffn-experts.yaml");
        var swapped = task.Impl!.Replace("[fn_expert0, fn_expert1, fn_expert2]", "[fn_expert1, fn_expert0, fn_expert2]", StringComparison.Ordinal);
        Assert.NotEqual(task.Impl, swapped);
        var verdict = Verifier.Verify(task, swapped, new VerifyOptions(Sizes: new Dictionary<string, long> { ["K"] = 1024 }));
        Assert.Equal(VerdictKind.Wrong, verdict.Kind);
        Assert.StartsWith("|actual - expected| <= 0.00114 + 0.000148 * |expected| (torch.testing's float32 tolerance x 113.78", verdict.Expected, StringComparison.Ordinal);
    }
}
