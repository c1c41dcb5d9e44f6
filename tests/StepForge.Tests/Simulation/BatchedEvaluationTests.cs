using StepForge.PyLite.Runtime;
using StepForge.Simulation;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tensors;
using StepForge.Tests.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Simulation;

/// <summary>
/// design.md, "Batched evaluation": Map, Accum, Scan and Merge may evaluate an fn once over many elements; both ways must
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
        var file = Path.Combine(Scratch.Folder(), "in-place-write.yaml");
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
    /// A Merge whose positions choose none, one, two or all three experts (the routes nest), over streams with an inner
    /// dim beside the routed one, and whose fold depends on the order of the experts.
    /// </summary>
    private const string UnevenMergeTask = """
        name: uneven-merge
        global: |
          E_value = 3
          ctx[E] = E_value
        inputs:
          - name: x
            dtype: Buffer(fp32, [D])
            dims: [N, M]
            data_gen: torch.randn
          - name: score
            dtype: fp32
            dims: [M]
            data_gen: torch.randn
        fns:
          - name: Route
            func_name: fn_route
            input_dtype: fp32
            output_dtype: Multihot(fp32, E)
            apply: |
              return [(input[0] > torch.tensor([-0.5, 0.0, 0.5])).float()]
          - name: Twice
            func_name: fn_twice
            input_dtype: Buffer(fp32, [D])
            output_dtype: Buffer(fp32, [D])
            apply: |
              return [input[0] * 2.0]
          - name: Less
            func_name: fn_less
            input_dtype: Buffer(fp32, [D])
            output_dtype: Buffer(fp32, [D])
            apply: |
              return [input[0] - 1.0]
          - name: Exp
            func_name: fn_exp
            input_dtype: Buffer(fp32, [D])
            output_dtype: Buffer(fp32, [D])
            apply: |
              return [input[0].exp()]
          - name: Decay
            func_name: fn_decay
            input_dtype: Buffer(fp32, [D])
            output_dtype: Buffer(fp32, [D])
            init: [1]
            apply: |
              return [state[0] * 0.5 + input[0]]
        outputs:
          - name: out
            dtype: Buffer(fp32, [D])
            dims: [N, M]
            data_transform: |
              x = input_data['x']
              s = input_data['score'][:, None, None]
              state = torch.ones_like(x)
              state = torch.where(s > -0.5, state * 0.5 + x * 2.0, state)
              state = torch.where(s > 0.0, state * 0.5 + (x - 1.0), state)
              state = torch.where(s > 0.5, state * 0.5 + x.exp(), state)
              torch.where(s > -0.5, state, torch.zeros_like(x))
        impl: |
          route = step.Map(fn=fn_route).apply(score)
          route_split, route_merge = step.Copy().apply(route)
          parts = step.Partition(N=E_value).apply((x, route_split))
          done = [step.Map(fn=f).apply(part) for f, part in zip([fn_twice, fn_less, fn_exp], parts)]
          out = step.Merge(fn=fn_decay).apply((done, route_merge))
          return out
        """;

    [Fact]
    public void Merge_FoldsEveryPositionAtOnce_WhateverHowManyExpertsEachChose_AsPerElement()
    {
        var file = Path.Combine(Scratch.Folder(), "uneven-merge.yaml");
        File.WriteAllText(file, UnevenMergeTask);
        var task = TaskReader.ReadFile(file);
        foreach (var sizes in new[] { null, VerifierTests.LargerSizes })
            foreach (var batching in new[] { true, false })
            {
                var verdict = Verifier.Verify(task, options: new VerifyOptions(Trials: 2, Sizes: sizes, Batching: batching));
                Assert.True(verdict.IsCorrect, verdict.Message);
            }

        // The simulator itself, both ways on one seed's data: the same outputs, and batching evaluated no fn per element.
        var budget = new ExecutionBudget();
        using var charged = Tensor.Use(budget);
        var program = StaticChecker.Check(task.Impl!, task.Environment(VerifierTests.LargerSizes)).Program!.Program;
        Tensor Run(bool batching, out int elementCalls)
        {
            var runtime = new TaskRuntime(task, VerifierTests.LargerSizes, budget);
            var data = runtime.SeededData(3);
            var flags = data["score"][0].Data;
            Assert.Contains(flags, v => v <= -0.5f);
            Assert.Contains(flags, v => v > -0.5f && v <= 0.5f);
            Assert.Contains(flags, v => v > 0.5f);
            var runner = new FnRunner(runtime.Interpreter, runtime.FnScope(data.ToDictionary(kv => kv.Key, kv => kv.Value[0])), runtime.Sizes, batching);
            var output = new Simulator(runner).Run(program, [data["x"], data["score"]])[0][0];
            Assert.Equal(0, runner.Fallbacks);
            elementCalls = runner.ElementCalls;
            return output;
        }
        var batched = Run(batching: true, out int batchedElementCalls);
        var single = Run(batching: false, out int singleElementCalls);
        Assert.Equal(0, batchedElementCalls);
        Assert.True(singleElementCalls > 0);
        Assert.Equal(single.Shape, batched.Shape);
        Assert.Equal(single.Data, batched.Data);
    }

    [Fact]
    public void ANameSetByOneCallOfAnFn_IsNotDefinedInTheNext()
    {
        // The second call reads `last` before setting it (the `or` does not short-circuit there): the first call's
        // value must not be found.
        var fn = new FnDecl("Leak", "fn_leak", DTypeSyntax.ParseDType("fp32"), DTypeSyntax.ParseDType("fp32"),
            "negative = (input[0].item() < 0) or last\nlast = input[0]\nreturn [last]", null);
        var budget = new ExecutionBudget();
        using var charged = Tensor.Use(budget);
        var runner = new FnRunner(new Interpreter(budget), new Scope(), new Dictionary<string, long>());
        Assert.Equal([-1f], runner.Call(fn, [Tensor.Scalar(-1)], null)[0].Data);
        var failure = Assert.Throws<FnFailedException>(() => runner.Call(fn, [Tensor.Scalar(2)], null));
        Assert.Contains("'last' is not defined", failure.Message);
        Assert.Equal([-3f], runner.Call(fn, [Tensor.Scalar(-3)], null)[0].Data);
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
        var file = Path.Combine(Scratch.Folder(), "catalogue-functions.yaml");
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
