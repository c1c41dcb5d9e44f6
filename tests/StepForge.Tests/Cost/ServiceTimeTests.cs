using StepForge.Cost;
using static StepForge.Tests.Cost.CostFixture;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cost;

/// <summary>
/// cost-model.md, "Service time of one element": the cycles each kind of unit spends per element it consumes,
/// counted by hand on the default machine (16 lanes, 64 bytes per cycle on and off chip) and sizes (N = 7, M = 5,
/// K = 9, D = 16).
/// </summary>
[Collection(CostCollection.Name)]
public class ServiceTimeTests
{
    /// <summary>x: Buffer(fp32, [D]) rows (64 bytes each) with dims [N, M]: 35 elements.</summary>
    private static string Rows(string impl, string outputType = "Buffer(fp32, [D])", string outputDims = "[N, M]") => $$"""
        name: cost-buffers
        inputs:
          - name: x
            dtype: Buffer(fp32, [D])
            dims: [N, M]
            data_gen: torch.randn
        fns:
          - name: AddRows
            func_name: fn_add_rows
            input_dtype: Buffer(fp32, [D])
            output_dtype: Buffer(fp32, [D])
            init: [0]
            apply: |
              return [input[0] + state[0]]
          - name: ExpRow
            func_name: fn_exp_row
            input_dtype: Buffer(fp32, [D])
            output_dtype: Buffer(fp32, [D])
            apply: |
              return [torch.exp(input[0])]
        outputs:
          - name: out
            dtype: {{outputType}}
            dims: {{outputDims}}
            data_transform: |
              input_data['x']
        impl: |
        {{TaskYaml.Indent(impl.Trim())}}
        """;

    [Fact]
    public void Map_TakesCeilOfFlopsOverLanes_WhenComputeBound()
    {
        var map = Op(CostOf(Rows("out = step.Map(fn=fn_exp_row).apply(x)\nreturn out")), "Map@1");
        // exp: 4 flops per value, 16 values: 64 flops, ceil(64 / 16 lanes) = 4 cycles; the Buffer bytes read and
        // written, 64 + 64, take ceil(128 / 64) = 2; so max(1, 4, 2) = 4 cycles per element.
        Assert.Equal(4 * 16, map.FlopsPerCall);
        Assert.Equal(4, map.MinService);
        Assert.Equal(35 * 4, map.Busy);
        Assert.Equal(35 * 64, map.Flops);
    }

    [Fact]
    public void Accum_TakesCeilOfBufferBytesOverBandwidth_WhenMemoryBound()
    {
        var accum = Op(CostOf(Rows("out = step.Accum(fn=fn_add_rows, b=1).apply(x)\nreturn out", outputDims: "[M]")), "Accum@1");
        // 16 additions: ceil(16 / 16) = 1 cycle; but it reads the input row and the state row and writes the state
        // row, 3 x 64 bytes: ceil(192 / 64) = 3 cycles per element.
        Assert.Equal(16, accum.FlopsPerCall);
        Assert.Equal(3, accum.MinService);
        Assert.Equal(35 * 3, accum.Busy);
    }

    [Fact]
    public void Scan_TakesTheSameServiceAsAccum_AndEmitsEveryState()
    {
        var cost = CostOf(Rows("out = step.Scan(fn=fn_add_rows, b=1).apply(x)\nreturn out"));
        Assert.Equal(3, Op(cost, "Scan@1").MinService);
        // Every one of the 35 states is written off chip.
        Assert.Equal(35, Op(cost, "output out").Elements);
    }

    [Fact]
    public void Bufferize_TakesCeilOfElementBytesOverOnChipBandwidth()
    {
        var machine = Machine.Default with { OnChipBytesPerCycle = 16 };
        var bufferize = Op(CostOf(Rows("out = step.Bufferize(a=1).apply(x)\nreturn out", "Buffer(fp32, [D, N])", "[M]"), machine: machine), "Bufferize@1");
        // A 64-byte row at 16 bytes per cycle: 4 cycles per element; and at least 1 on the default machine.
        Assert.Equal(64 / 16, bufferize.MinService);
        Assert.Equal(35 * 4, bufferize.Busy);
        Assert.Equal(1, Op(CostOf(Rows("out = step.Bufferize(a=1).apply(x)\nreturn out", "Buffer(fp32, [D, N])", "[M]")), "Bufferize@1").MinService);
    }

    [Fact]
    public void Streamify_TakesOneCyclePerElementEmitted()
    {
        var streamify = Op(CostOf(Rows("out = step.Streamify().apply(x)\nreturn out", "fp32", "[D, N, M]")), "Streamify@1");
        // Each row emits its 16 values, one per cycle.
        Assert.Equal(35, streamify.Elements);
        Assert.Equal(16, streamify.MinService);
        Assert.Equal(35 * 16, streamify.Busy);
    }

    [Fact]
    public void Repeat_TakesOneCyclePerElementEmitted_AndARepeatedBufferIsNotCopied()
    {
        var repeat = Op(CostOf(Rows("out = step.Repeat(n=K).apply(x)\nreturn out", outputDims: "[K, N, M]")), "Repeat@1");
        // K = 9 copies of a 64-byte row: 9 cycles, not the 9 x 64 / 64 a copy of the bytes would take.
        Assert.Equal(9, repeat.MinService);
        Assert.Equal(35 * 9, repeat.Busy);
    }

    [Fact]
    public void LayoutOps_TakeOneCyclePerElement()
    {
        var cost = CostOf(Header + """
            outputs:
              - name: out
                dtype: fp32
                dims: [N, M]
                data_transform: |
                  input_data['x'] * 0
            impl: |
              a, b = step.Copy().apply(x)
              z = step.Zip().apply((a, b))
              d = step.Map(fn=fn_sub).apply(z)
              p = step.Promote(b=1).apply(d)
              out = step.Flatten(L=[1]).apply(p)
              return out
            """);
        foreach (var op in new[] { "Copy@1", "Zip@2", "Promote@4", "Flatten@5" })
        {
            Assert.Equal(1, Op(cost, op).MinService);
            Assert.Equal(35, Op(cost, op).Busy);
        }
        var reshaped = CostOf("""
            name: cost-reshape
            inputs:
              - name: x
                dtype: fp32
                dims: [16, M]
                data_gen: torch.randn
            fns: []
            outputs:
              - name: out
                dtype: fp32
                dims: [4, 4, M]
                data_transform: |
                  input_data['x']
            impl: |
              out = step.Reshape(L=[0], S=4).apply(x)
              return out
            """);
        Assert.Equal(16 * 5, Op(reshaped, "Reshape@1").Busy);
    }

    [Fact]
    public void SourcesAndSinks_MoveOneElementPerCeilOfBytesTimesStreamsOverOffChipBandwidth()
    {
        var cost = CostOf(Rows("out = step.Accum(fn=fn_add_rows, b=1).apply(x)\nreturn out", outputDims: "[M]"));
        // S = 2 streams share the off-chip bandwidth: a 64-byte row moves in ceil(64 * 2 / 64) = 2 cycles.
        Assert.Equal(2, Op(cost, "input x").MinService);
        Assert.Equal(35 * 2, Op(cost, "input x").Busy);
        Assert.Equal(2, Op(cost, "output out").MinService);
        // With a slower link, 16 bytes per cycle: ceil(128 / 16) = 8.
        var slow = CostOf(Rows("out = step.Accum(fn=fn_add_rows, b=1).apply(x)\nreturn out", outputDims: "[M]"), machine: Machine.Default with { OffChipBytesPerCycle = 16 });
        Assert.Equal(8, Op(slow, "input x").MinService);
    }

    [Fact]
    public void Elements_AreWhatAUnitConsumes_TheLargestOfItsInputs_AndABufferCountsOnce()
    {
        var cost = CostOf(Same("a, b = step.Copy().apply(x)\ns = step.Accum(fn=fn_add, b=1).apply(a)\nout = step.RepeatRef().apply((s, b))\nreturn out"));
        // RepeatRef consumes 5 sums and 35 ref elements: 35.
        Assert.Equal(35, Op(cost, "RepeatRef@3").Elements);
        // A Buffer row of 16 values is one element: 35 of them, 64 bytes each.
        var rows = CostOf(Rows("out = step.Map(fn=fn_exp_row).apply(x)\nreturn out"));
        Assert.Equal(35, Op(rows, "input x").Elements);
        Assert.Equal(64, Channel(rows, "x").ElementBytes);
    }

    [Fact]
    public void TheLowerBound_IsTheLargerOfOffChipTimeAndTheBusiestUnit()
    {
        var cost = CostOf(Rows("out = step.Map(fn=fn_exp_row).apply(x)\nreturn out"));
        // Off chip: 35 rows in and out, 2 x 35 x 64 bytes at 64 per cycle: 70 cycles. The busiest unit: the Map, 35 x 4 = 140.
        Assert.Equal(Math.Max(2 * 35 * 64 / 64, 35 * 4), cost.LowerBound);
        Assert.StartsWith("Map@1", cost.BoundBy, StringComparison.Ordinal);
        Assert.True(Op(cost, "Map@1").Bottleneck);
        Assert.Single(cost.Ops, o => o.Bottleneck);
        Assert.True(cost.Cycles >= cost.LowerBound);
    }
}
