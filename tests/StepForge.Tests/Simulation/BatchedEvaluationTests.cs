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

    [Fact]
    public void ABatchedBodyWritingIntoItsInput_LeavesTheStreamItReadUnchanged()
    {
        // Batched bodies read a stream's data without a copy; scatter_ into it must not change the Copy's other stream.
        var file = Path.Combine(Directory.CreateTempSubdirectory().FullName, "in-place-write.yaml");
        File.WriteAllText(file, """
        name: in-place-write
        inputs:
          - name: x
            dtype: Buffer(fp32, [D])
            dims: [N, M]
            data_gen: torch.randn
        fns:
          - name: MarkFirst
            func_name: fn_mark_first
            input_dtype: Buffer(fp32, [D])
            output_dtype: Buffer(fp32, [D])
            apply: |
              row = input[0]
              row.scatter_(0, torch.tensor([0]), 1.0)
              return [row]
        outputs:
          - name: marked
            dtype: Buffer(fp32, [D])
            dims: [N, M]
            data_transform: |
              torch.cat([torch.ones_like(input_data['x'][..., :1]), input_data['x'][..., 1:]], dim=-1)
          - name: original
            dtype: Buffer(fp32, [D])
            dims: [N, M]
            data_transform: |
              input_data['x']
        impl: |
          a, b = step.Copy().apply(x)
          marked = step.Map(fn=fn_mark_first).apply(a)
          return marked, b
        """);
        var task = TaskReader.ReadFile(file);
        foreach (var batching in new[] { true, false })
        {
            var verdict = Verifier.Verify(task, options: new VerifyOptions(Trials: 2, Batching: batching));
            Assert.True(verdict.IsCorrect, verdict.Message);
        }
    }
}
