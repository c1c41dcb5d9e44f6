using StepForge.PyLite.Runtime;
using StepForge.Simulation;
using StepForge.Tasks;
using StepForge.Tensors;
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

    /// <summary>
    /// A task whose global block, fn bodies and references use the catalogue's newer functions: reductions, sorting,
    /// activations, casts, indexing, creation.
    /// </summary>
    private const string CatalogueTask = """
        name: catalogue-functions
        global: |
          W = torch.tril(torch.linspace(-1, 1, D_value * D_value).reshape(D_value, D_value)).T.contiguous()
          bias = torch.full((D_value,), 0.5).cumsum(0) + torch.eye(D_value).sum(dim=0)
        inputs:
          - name: x
            dtype: Buffer(fp32, [D])
            dims: [N, M]
            data_gen: torch.randn
        fns:
          - name: Mix
            func_name: fn_mix
            input_dtype: Buffer(fp32, [D])
            output_dtype: Buffer(fp32, [D])
            apply: |
              x = input[0]
              F = torch.nn.functional
              y = F.layer_norm(x, (x.shape[-1],))
              z = torch.sort(y, descending=True).values
              w = torch.cumsum(F.gelu(z, approximate='tanh'), dim=-1) / x.amax(dim=-1, keepdim=True).abs().clamp(min=1e-3)
              r = torch.roll(w.flip(-1), 1) + x.std() + x.logsumexp(0) + torch.kthvalue(x, 2).values
              r = r + F.one_hot(torch.argmin(x), num_classes=x.shape[0]).float() + torch.where(x > 0, F.softplus(x), F.elu(x))
              r = r + torch.nn.functional.linear(x, W, bias)
              return [r.half().float() + torch.tril(torch.outer(x, x)).sum(dim=0) - x.median() + torch.gather(x, 0, torch.argsort(x, stable=True))]
          - name: SquareSum
            func_name: fn_square_sum
            input_dtype: Buffer(fp32, [D])
            output_dtype: Buffer(fp32, [D])
            init: [0]
            apply: |
              return [torch.addcmul(state[0], input[0], input[0], value=0.5)]
        outputs:
          - name: mixed
            dtype: Buffer(fp32, [D])
            dims: [N, M]
            data_transform: |
              x = input_data['x']
              F = torch.nn.functional
              y = F.layer_norm(x, (x.shape[-1],))
              z = torch.sort(y, dim=-1, descending=True).values
              w = torch.cumsum(F.gelu(z, approximate='tanh'), dim=-1) / x.amax(dim=-1, keepdim=True).abs().clamp(min=1e-3)
              r = torch.roll(w.flip(-1), 1, -1) + x.std(dim=-1, keepdim=True) + x.logsumexp(-1, keepdim=True) + torch.kthvalue(x, 2, keepdim=True).values
              r = r + F.one_hot(torch.argmin(x, dim=-1), num_classes=x.shape[-1]).float() + torch.where(x > 0, F.softplus(x), F.elu(x))
              r = r + x @ W.T + bias
              outer = torch.tril(x.unsqueeze(-1) * x.unsqueeze(-2)).sum(dim=-2)
              r.half().float() + outer - x.median(dim=-1, keepdim=True).values + torch.gather(x, -1, torch.argsort(x, dim=-1, stable=True))
          - name: squares
            dtype: Buffer(fp32, [D])
            dims: [M]
            data_transform: |
              0.5 * (input_data['x'] ** 2).sum(dim=1)
        impl: |
          a, b = step.Copy().apply(x)
          mixed = step.Map(fn=fn_mix).apply(a)
          squares = step.Accum(fn=fn_square_sum, b=1).apply(b)
          return mixed, squares
        """;

    [Fact]
    public void FnBodiesUsingTheCatalogue_BatchWithoutFallbackAndMatchPerElement()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory().FullName, "catalogue-functions.yaml");
        File.WriteAllText(file, CatalogueTask);
        var task = TaskReader.ReadFile(file);
        foreach (var batching in new[] { true, false })
        {
            var verdict = Verifier.Verify(task, options: new VerifyOptions(Trials: 2, Batching: batching));
            Assert.True(verdict.IsCorrect, verdict.Message);
        }

        // The fns themselves: one batched call over every row equals the calls row by row, with no fallback.
        var budget = new ExecutionBudget();
        using var _ = Tensor.Use(budget);
        var runtime = new TaskRuntime(task, null, budget);
        var rows = runtime.SeededData(5)["x"][0];
        int count = rows.Shape[0] * rows.Shape[1], d = rows.Shape[2];
        var stacked = rows.Reshape([count, d]);
        var runner = new FnRunner(runtime.Interpreter, new Scope(runtime.Globals), runtime.Sizes);
        foreach (var fn in task.Fns)
        {
            Tensor[]? state = fn.HasInit ? [Tensor.Full([count, d], 0.25f)] : null;
            var batched = runner.CallBatched(fn, count, [stacked], state);
            Assert.True(batched is not null, $"{fn.FuncName} fell back to per-element evaluation");
            for (int r = 0; r < count; r++)
            {
                var row = stacked.Index([new Tensor.At(r)]);
                var single = runner.Call(fn, [row], state is null ? null : [state[0].Index([new Tensor.At(r)])])[0];
                var check = OutputComparison.Compare(fn.FuncName, 0, single, batched![0].Index([new Tensor.At(r)]));
                Assert.True(check.Close, $"{fn.FuncName} row {r}: {check.Detail}");
            }
        }
        Assert.Equal(0, runner.Fallbacks);
    }
}
