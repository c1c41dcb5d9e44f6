using StepForge.Tasks;
using StepForge.Tests.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Simulation;

/// <summary>
/// design.md, "Batched evaluation": Map, Accum and Scan may evaluate an fn once over many elements; both ways must
/// give the same verdicts and outputs, on every task of both corpora and at other sizes.
/// </summary>
public class BatchedEvaluationTests
{
    public static TheoryData<string> AllTasks() =>
    [
        .. Directory.EnumerateFiles(TestPaths.ProjectBenchmark, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal),
        .. TestPaths.UpstreamFiles("_ref.yaml"),
    ];

    [Theory]
    [MemberData(nameof(AllTasks))]
    public void BatchedAndPerElement_GiveTheSameVerdictAndOutputs(string file)
    {
        var task = TaskReader.ReadFile(file);
        foreach (var sizes in new[] { null, VerifierTests.LargerSizes })
        {
            var batched = Verifier.Verify(task, options: new VerifyOptions(Trials: 2, Sizes: sizes, RepairAffine: true, Batching: true));
            var single = Verifier.Verify(task, options: new VerifyOptions(Trials: 2, Sizes: sizes, RepairAffine: true, Batching: false));
            Assert.Equal(single.Kind, batched.Kind);
            Assert.True(batched.IsCorrect, batched.Message);
            Assert.Equal(single.Outputs!.Count, batched.Outputs!.Count);
            for (int i = 0; i < single.Outputs.Count; i++)
                Assert.True(Math.Abs(single.Outputs[i].MaxAbsError - batched.Outputs[i].MaxAbsError) <= 1e-5,
                    $"{single.Outputs[i].Name}: per element {single.Outputs[i].MaxAbsError}, batched {batched.Outputs[i].MaxAbsError}");
        }
    }

    [Fact]
    public void MutantsGetTheSameVerdictBothWays()
    {
        int compared = 0;
        foreach (var file in Directory.EnumerateFiles(TestPaths.ProjectBenchmark, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var task = TaskReader.ReadFile(file);
            foreach (var mutant in Mutants.Of(file, task).Where((_, i) => i % 3 == 0))
            {
                var batched = Verifier.Verify(task, mutant.Program, new VerifyOptions(Batching: true));
                var single = Verifier.Verify(task, mutant.Program, new VerifyOptions(Batching: false));
                Assert.True(single.Kind == batched.Kind, $"{mutant.Task} {mutant.Description}: per element {single.Kind} ({single.Message}), batched {batched.Kind} ({batched.Message})");
                compared++;
            }
        }
        Assert.True(compared > 100);
    }
}
