using StepForge.Tasks;
using StepForge.Tests.Support;
using static StepForge.Tests.Cost.CostFixture;

namespace StepForge.Tests.Cost;

/// <summary>cost-model.md, "How to keep it honest": the orderings a reader can check, on correct programs only.</summary>
[Collection(CostCollection.Name)]
public class OrderingTests
{
    private static TaskSpec Bench(string relative) => TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, relative));

    private static void AssertCorrect(TaskSpec task, string program)
    {
        var verdict = Verifier.Verify(task, program);
        Assert.True(verdict.IsCorrect, verdict.Message);
    }

    [Fact]
    public void ARowBufferingSoftmax_NeedsMoreOnChipBytes_ThanAnOnlineOne()
    {
        // The online-softmax attention task, with one more fn that takes a whole row of scores and of values at once.
        var text = File.ReadAllText(Path.Combine(TestPaths.ProjectBenchmark, "attn", "online-softmax-fused.yaml")).Replace("""
              - name: TakeOutput
            """, """
              - name: RowAttention
                func_name: fn_row_attention
                input_dtype: ["Buffer(fp32, [M])", "Buffer(fp32, [D, M])"]
                output_dtype: Buffer(fp32, [D])
                apply: |
                  s, v = input
                  return [torch.softmax(s, dim=-1) @ v]
              - name: TakeOutput
            """, StringComparison.Ordinal);
        var task = TaskReader.Read(text, "attn.yaml");
        const string buffered = """
            s_rows = step.Bufferize(a=1).apply(scores)
            v_rows = step.Bufferize(a=1).apply(values)
            pairs = step.Zip().apply((s_rows, v_rows))
            rows = step.Map(fn=fn_row_attention).apply(pairs)
            out = step.Streamify().apply(rows)
            return out
            """;
        AssertCorrect(task, task.Impl!);
        AssertCorrect(task, buffered);
        var online = CostOf(task);
        var rowBuffering = CostOf(task, buffered);
        // The online fold keeps a D-row of output as its state (64 bytes, twice); the buffering one holds a row of M = 5
        // scores (20 bytes) and M rows of D values (320 bytes), each twice.
        Assert.Equal(2 * 16 * 4, online.OnChipBytes);
        Assert.Equal(2 * 5 * 4 + 2 * 5 * 16 * 4, rowBuffering.BufferBytes);
        Assert.True(rowBuffering.OnChipBytes > online.OnChipBytes, $"{rowBuffering.OnChipBytes} <= {online.OnChipBytes}");
    }

    [Fact]
    public void RecomputingAfterARepeat_CostsMoreFlops()
    {
        var task = Bench("norm/rmsnorm.yaml");
        var recomputing = task.Impl!
            .Replace("rms = step.Map(fn=fn_sqrt).apply(shifted)\nrms_rep = step.Repeat(n=D).apply(rms)",
                "shifted_rep = step.Repeat(n=D).apply(shifted)\nrms_rep = step.Map(fn=fn_sqrt).apply(shifted_rep)", StringComparison.Ordinal);
        Assert.NotEqual(task.Impl, recomputing);
        AssertCorrect(task, recomputing);
        // sqrt costs 4 flops; before the Repeat it runs once per row (N = 7), after it once per element (N x D = 112).
        Assert.Equal(CostOf(task).Flops + 4 * (7 * 16 - 7), CostOf(task, recomputing).Flops);
    }

    [Fact]
    public void TheThreeBmmPrograms_HaveDifferentCycles_AndTheOuterProductIsFastest()
    {
        var costs = new[] { "bmm/elementwise-dot.yaml", "bmm/outer-product-accumulate.yaml", "bmm/row-times-block.yaml" }
            .ToDictionary(f => f, f => CostOf(Bench(f)));
        Assert.Equal(3, costs.Values.Select(c => c.Cycles).Distinct().Count());
        var outer = costs["bmm/outer-product-accumulate.yaml"];
        Assert.Equal(costs.Values.Min(c => c.Cycles), outer.Cycles);
        // Its bottleneck is the Accum of [D, N] = 16 x 7 tiles: 112 additions (7 cycles at 16 lanes) but 3 x 448 bytes of
        // tile read and written (21 cycles at 64 bytes per cycle), once per k of each batch: M x K = 45 times.
        Assert.StartsWith("Accum@5", outer.BoundBy, StringComparison.Ordinal);
        Assert.Equal(45 * 21, outer.LowerBound);
        // The other two stream one operand again for every row or column of the other: 5 x 7 x 16 x 9 = 5,040 scalars
        // through a Streamify at one per cycle.
        Assert.All(costs.Where(kv => kv.Value != outer), kv => Assert.Equal(5 * 7 * 16 * 9, kv.Value.LowerBound));
        // They all do the same arithmetic: 2 x M x N x D x K.
        Assert.All(costs.Values, c => Assert.Equal(2 * 5 * 7 * 16 * 9, c.Flops));
    }
}
