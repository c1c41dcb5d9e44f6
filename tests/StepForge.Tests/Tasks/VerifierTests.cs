using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Tasks;

/// <summary>
/// step-semantics.md, "Verification of a candidate": every reference program of the upstream corpus and of the
/// project benchmark simulates to its PyTorch reference, over several seeds and at other sizes.
/// </summary>
public class VerifierTests
{
    public static readonly Dictionary<string, long> LargerSizes = new() { ["M"] = 16, ["N"] = 32, ["K"] = 24, ["D"] = 32 };

    public static TheoryData<string> UpstreamRefs() => [.. TestPaths.UpstreamFiles("_ref.yaml").Select(TestPaths.Relative)];

    public static TheoryData<string> ProjectTasks() => ProjectBenchmarkTests.Files();

    private static TaskSpec Upstream(string file) => TaskReader.ReadFile(Path.Combine(TestPaths.Upstream, file));

    private static TaskSpec Project(string file) => TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, file));

    [UpstreamTheory]
    [MemberData(nameof(UpstreamRefs))]
    public void UpstreamReference_IsCorrectOnThreeSeeds_WithRepair(string file)
    {
        var verdict = Verifier.Verify(Upstream(file), options: new VerifyOptions(Trials: 3, RepairAffine: true));
        Assert.True(verdict.IsCorrect, verdict.Message);
        Assert.All(verdict.Outputs!, o => Assert.True(o.Close));
    }

    [UpstreamTheory]
    [MemberData(nameof(UpstreamRefs))]
    public void UpstreamReference_IsCorrectAtLargerSizes(string file)
    {
        var verdict = Verifier.Verify(Upstream(file), options: new VerifyOptions(Sizes: LargerSizes, RepairAffine: true));
        Assert.True(verdict.IsCorrect, verdict.Message);
    }

    [UpstreamFact]
    public void WithoutRepair_ExactlyTheNonAffineReferencesAreRejected_AsAffine()
    {
        var affine = TestPaths.UpstreamFiles("_ref.yaml").Select(TestPaths.Relative)
            .Where(f => Verifier.Verify(Upstream(f)).Kind == VerdictKind.Affine).Count();
        Assert.Equal(12, affine);
    }

    [Theory]
    [MemberData(nameof(ProjectTasks))]
    public void ProjectReference_IsCorrectOnThreeSeeds(string file)
    {
        var verdict = Verifier.Verify(Project(file), options: new VerifyOptions(Trials: 3));
        Assert.True(verdict.IsCorrect, verdict.Message);
    }

    [Theory]
    [MemberData(nameof(ProjectTasks))]
    public void ProjectReference_IsCorrectAtLargerSizes(string file)
    {
        var verdict = Verifier.Verify(Project(file), options: new VerifyOptions(Trials: 2, Seed: 7, Sizes: LargerSizes));
        Assert.True(verdict.IsCorrect, verdict.Message);
    }

    [Fact]
    public void AProgramRightOnlyAtTheDefaultSizes_IsWrongAtOthers()
    {
        var task = Project("norm/rmsnorm.yaml");
        var hardCoded = task with
        {
            Fns = [.. task.Fns.Select(f => f.FuncName == "fn_div_by_d" ? f with { Apply = "return [input[0] / 16]" } : f)],
        };
        Assert.True(Verifier.Verify(hardCoded).IsCorrect);
        var verdict = Verifier.Verify(hardCoded, options: new VerifyOptions(Sizes: new Dictionary<string, long> { ["D"] = 32 }));
        Assert.Equal(VerdictKind.Wrong, verdict.Kind);
    }

    [Fact]
    public void WrongVerdict_NamesTheOutputComponentWorstIndexExpectedAndActual()
    {
        var task = Project("norm/rmsnorm.yaml");
        var noEpsilon = task.Impl!.Replace("shifted = step.Map(fn=fn_add_eps).apply(mean_sq)", "shifted = mean_sq", StringComparison.Ordinal);
        var verdict = Verifier.Verify(task, noEpsilon);
        Assert.Equal(VerdictKind.Wrong, verdict.Kind);
        Assert.Equal("compare.allclose", verdict.Rule);
        Assert.Contains("output out (component 0)", verdict.Message, StringComparison.Ordinal);
        Assert.Matches(@"worst at index \(\d+, \d+\): expected [-0-9.e]+, actual [-0-9.e]+", verdict.Message);
        Assert.True(Assert.Single(verdict.Outputs!).MaxAbsError > 1e-5);
        Assert.Contains("\"max_abs_error\":", verdict.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void TrialsUseDifferentData()
    {
        var task = Project("attn/online-softmax-fused.yaml");
        var once = Verifier.Verify(task, options: new VerifyOptions(Seed: 1));
        var other = Verifier.Verify(task, options: new VerifyOptions(Seed: 2));
        Assert.True(once.IsCorrect && other.IsCorrect);
        var a = DataGenerator.Generate(task.Inputs[0], task.Sizes, 1)[0];
        var b = DataGenerator.Generate(task.Inputs[0], task.Sizes, 2)[0];
        Assert.NotEqual(a.Data, b.Data);
        Assert.Equal(a.Data, DataGenerator.Generate(task.Inputs[0], task.Sizes, 1)[0].Data);
    }

    [Fact]
    public void MultihotInputs_HaveBetweenMinAndMaxFlagsPerPosition()
    {
        var task = Project("expert/weighted-ffn-experts.yaml");
        var mask = task.Inputs.Single(i => i.Name == "mask");
        var tensor = DataGenerator.Generate(mask, task.Sizes, 3)[0];
        Assert.Equal([5, 7, 3], tensor.Shape);
        var counts = Enumerable.Range(0, 35).Select(p => tensor.Data.Skip(p * 3).Take(3).Count(v => v == 1)).ToList();
        Assert.All(counts, c => Assert.InRange(c, 0, 3));
        Assert.True(counts.Distinct().Count() > 1);
        Assert.All(tensor.Data, v => Assert.True(v is 0 or 1));
    }
}
