using StepForge.Cost;
using StepForge.Step;
using StepForge.Tasks;
using static StepForge.Tests.Cost.CostFixture;

namespace StepForge.Tests.Cost;

/// <summary>
/// cost-model.md, "Time: a timed run of the dataflow graph": every unit takes its next inputs when it is idle and
/// they are there, is busy for its service time, and its outputs are there at the finish; Repeat and Streamify emit
/// one per cycle from the end of the first cycle; the cycles are when the last output element is written off chip.
/// Every expected number is counted by hand in the comments, on the default machine and sizes (N = 7, M = 5).
/// </summary>
[Collection(CostCollection.Name)]
public class TimingTests
{
    [Fact]
    public void WorkedExample_RowSum_Takes37Cycles()
    {
        var cost = CostOf(RowSum);
        // S = 2 streams (x and out), so a 4-byte element moves in ceil(4 * 2 / 64) = 1 cycle: the source finishes x[i]
        // at i + 1. The Accum (1 flop: 1 cycle) starts x[i] at i + 1, finishes it at i + 2, and emits row r's sum with
        // its last element i = 7r + 6, at 7r + 8; the sink writes it in 1 cycle, at 7r + 9; the last row r = 4: 37.
        Assert.Equal(7 * 4 + 9, cost.Cycles);
        // No buffer, a scalar state, and no channel holds more than fifo_depth.
        Assert.Equal(0, cost.OnChipBytes);
        // 35 elements in and 5 out, 4 bytes each.
        Assert.Equal(35 * 4 + 5 * 4, cost.OffChipBytes);
        // One addition per element.
        Assert.Equal(35, cost.Flops);
        // max(160 / 64, the busiest unit: the Accum's (or the source's) 35 elements x 1 cycle).
        Assert.Equal(Math.Max((160 + 63) / 64, 35 * 1), cost.LowerBound);
        Assert.Null(cost.FifoDeadlock);
        var accum = Op(cost, "Accum@1");
        Assert.Equal(35 * 1, accum.Busy);
        // It starts x[0] at 1 and finishes x[34] at 36.
        Assert.Equal(1, accum.FirstStart);
        Assert.Equal(34 + 2, accum.LastFinish);
    }

    [Fact]
    public void Repeat_EmitsOneCopyPerCycle_TheFirstAtTheEndOfItsFirstCycle()
    {
        var cost = CostOf(Same("out = step.Repeat(n=3).apply(x)\nreturn out", "[3, N, M]"));
        // x[i] is there at i + 1. The Repeat is busy 3 cycles per element: it takes x[0] at 1 and emits at 2, 3, 4;
        // x[i] at 1 + 3i (it is idle only then), emitting at 2 + 3i .. 4 + 3i: copy j arrives at j + 2. The sink
        // writes copy j at j + 2 .. j + 3. The last of 3 * 35 = 105 copies, j = 104, is written at 107.
        Assert.Equal(104 + 3, cost.Cycles);
        var repeat = Op(cost, "Repeat@1");
        Assert.Equal(35, repeat.Elements);
        Assert.Equal(3, repeat.MinService);
        Assert.Equal(35 * 3, repeat.Busy);
        Assert.Equal(1, repeat.FirstStart);
        Assert.Equal(1 + 3 * 35, repeat.LastFinish);
    }

    [Fact]
    public void Bufferize_EmitsWhenTheBufferIsFull_AndStreamify_OnePerCycle()
    {
        var cost = CostOf(Same("rows = step.Bufferize(a=1).apply(x)\nout = step.Streamify().apply(rows)\nreturn out"));
        // x[i] is there at i + 1; the Bufferize (4 bytes: ceil(4 / 64) = 1 cycle) finishes it at i + 2, so row r is full
        // at 7r + 8. The Streamify takes row r at 7r + 8 (it emitted row r - 1 at 7r + 1 .. 7r + 7 and is idle at
        // 7r + 8) and emits its 7 elements at 7r + 9 .. 7r + 15: element k = 7r + j arrives at k + 9 and is written at
        // k + 10. The last, k = 34: 44.
        Assert.Equal(34 + 10, cost.Cycles);
        Assert.Equal(7 * 0 + 8, Op(cost, "Streamify@2").FirstStart);
        Assert.Equal(5 * 7, Op(cost, "Streamify@2").Busy);
    }

    [Fact]
    public void RepeatRef_TakesOneXElementPerRefRow_AndEmitsOnePerRefElement()
    {
        var cost = CostOf(Same("a, b = step.Copy().apply(x)\ns = step.Accum(fn=fn_add, b=1).apply(a)\nout = step.RepeatRef().apply((s, b))\nreturn out"));
        // x[i] at i + 1; the Copy (1 cycle) puts a[i] and b[i] at i + 2; the Accum takes a[i] at i + 2 and emits row r's
        // sum at 7r + 9. The RepeatRef takes s_r with b[7r] (ref.dims[0] = N = 7 ref elements per x element): step 7r
        // starts at 7r + 9, and steps 7r + j follow one per cycle (b[7r + j] came at 7r + j + 2, earlier), so output
        // k = 7r + j arrives at k + 10 and is written at k + 11. The last, k = 34: 45.
        Assert.Equal(34 + 11, cost.Cycles);
        var repeatRef = Op(cost, "RepeatRef@3");
        Assert.Equal(35, repeatRef.Elements);
        Assert.Equal(35 * 1, repeatRef.Busy);
        Assert.Equal(9, repeatRef.FirstStart);
    }

    [Fact]
    public void Cycles_AreWhenTheLastOutputElementIsWritten()
    {
        var cost = CostOf(SumsAndCopy);
        // S = 3 (x, sums, copy): still ceil(4 * 3 / 64) = 1 cycle per element. a[i], b[i] arrive at i + 2. The copy's
        // sink writes b[i] at i + 3 (last: 37); the Accum emits row r at 7r + 9, written at 7r + 10 (last: 38).
        Assert.Equal(Math.Max(34 + 3, 7 * 4 + 10), cost.Cycles);
        Assert.Equal(34 + 3, Op(cost, "output b").LastFinish);
    }

    /// <summary>x: Buffer(fp32, [K]) rows routed by a seeded multihot to two experts, and merged back.</summary>
    private static string Routed(int minOnes, int maxOnes) => $$"""
        name: cost-routed
        global: |
          E_value = 2
          ctx[E] = E_value
        inputs:
          - name: x
            dtype: Buffer(fp32, [K])
            dims: [M]
            data_gen: torch.randn
          - name: idx
            dtype: Multihot(fp32, E)
            dims: [M]
            min: {{minOnes}}
            max: {{maxOnes}}
        fns:
          - name: Double
            func_name: fn_double
            input_dtype: Buffer(fp32, [K])
            output_dtype: Buffer(fp32, [K])
            apply: |
              return [input[0] * 2]
          - name: Combine
            func_name: fn_combine
            input_dtype: Buffer(fp32, [K])
            output_dtype: Buffer(fp32, [K])
            init: [0]
            apply: |
              return [state[0] + input[0]]
        outputs:
          - name: out
            dtype: Buffer(fp32, [K])
            dims: [M]
            data_transform: |
              input_data['x'] * 2 * input_data['idx'].sum(-1, keepdim=True)
        impl: |
          split, merge = step.Copy().apply(idx)
          parts = step.Partition(N=E_value).apply((x, split))
          done = [step.Map(fn=fn_double).apply(p) for p in parts]
          out = step.Merge(fn=fn_combine).apply((done, merge))
          return out
        """;

    [Fact]
    public void PartitionAndMerge_RouteByTheSeededRunsFlags()
    {
        var task = Task(Routed(1, 2));
        var cost = CostOf(task);
        // The flags the run routes by: the task's seeded data (seed 0), one row of E = 2 flags per position.
        var flags = DataGenerator.Generate(task.Inputs[1], task.Sizes, seed: 0)[0].Data;
        int[] perExpert = [.. Enumerable.Range(0, 2).Select(e => Enumerable.Range(0, 5).Count(p => flags[p * 2 + e] != 0))];
        Assert.True(perExpert.Sum() > 5, "the seeded flags should send some rows to both experts");
        // Partition: 1 cycle per x element (5 rows).
        Assert.Equal(5, Op(cost, "Partition@2").Busy);
        // Each expert's Map sees exactly the rows flagged for it.
        var maps = cost.Ops.Where(o => o.Op == "Map").ToList();
        Assert.Equal(perExpert.Select(n => (long)n), maps.Select(m => m.Elements));
        // Merge folds one element per flag set: fn_combine on Buffer(fp32, [K = 9]) does 9 flops (1 cycle at 16 lanes)
        // and reads the input and the state and writes the state, 3 x 36 bytes: ceil(108 / 64) = 2 cycles per fold.
        var merge = Op(cost, "Merge@4");
        Assert.Equal(2 * perExpert.Sum(), merge.Busy);
        Assert.Equal(perExpert.Sum(), merge.Calls);
        Assert.Equal(9 * perExpert.Sum(), merge.Flops);
    }

    [Fact]
    public void Merge_FoldsEveryFlaggedExpert_PerOutputElement()
    {
        // Both flags set at every position: each output folds 2 elements of 2 cycles each.
        var cost = CostOf(Routed(2, 2));
        var merge = Op(cost, "Merge@4");
        Assert.Equal(2 * 2, merge.MinService);
        Assert.Equal(5 * 2 * 2, merge.Busy);
        Assert.All(cost.Ops.Where(o => o.Op == "Map"), m => Assert.Equal(5, m.Elements));
    }

    [Fact]
    public void TheNumbers_AreDeterministic()
    {
        static string Json(ProgramCost cost) => System.Text.Json.JsonSerializer.Serialize(cost.Json(details: true), TasksJson.Style.CostJson);
        var file = Path.Combine(Support.TestPaths.ProjectBenchmark, "etoe", "softmax-top2-moe.yaml");
        var first = Json(CostOf(TaskReader.ReadFile(file)));
        var second = Json(CostOf(TaskReader.ReadFile(file)));
        Assert.Equal(first, second);
    }

    [Fact]
    public void AProgramThatDoesNotTypeCheck_HasNoCost_ButAVerdict()
    {
        var estimate = TaskCost.Estimate(Task(RowSum), "out = step.Accum(fn=fn_sub, b=1).apply(x)\nreturn out");
        Assert.False(estimate.HasCost);
        Assert.Equal(VerdictKind.Type, estimate.Problem!.Kind);
        Assert.Equal("Accum.fn-input", estimate.Problem.Rule);
    }
}
