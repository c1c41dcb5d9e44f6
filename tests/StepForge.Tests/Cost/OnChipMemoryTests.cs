using StepForge.Cost;
using static StepForge.Tests.Cost.CostFixture;

namespace StepForge.Tests.Cost;

/// <summary>
/// cost-model.md, "On-chip memory" and "Off-chip traffic": buffers, Buffer-typed states and channel occupancy
/// beyond fifo_depth; every input and output stream's bytes.
/// </summary>
[Collection(CostCollection.Name)]
public class OnChipMemoryTests
{
    private const string Rows = "rows = step.Bufferize(a=1).apply(x)\nout = step.Streamify().apply(rows)\nreturn out";

    [Fact]
    public void Bufferize_CountsItsBuffer_TwiceWithDoubleBuffer()
    {
        // A row of N = 7 fp32 values: 28 bytes, one filled while the other drains.
        var cost = CostOf(Same(Rows));
        Assert.Equal(2 * 7 * 4, cost.BufferBytes);
        Assert.Equal(2 * 7 * 4, cost.OnChipBytes);
        var single = CostOf(Same(Rows), machine: Machine.Default with { DoubleBuffer = false });
        Assert.Equal(7 * 4, single.OnChipBytes);
    }

    [Fact]
    public void AnAccumOverBufferRows_CountsItsState_AScalarStateIsARegister()
    {
        var buffered = CostOf("""
            name: cost-buffer-state
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
            outputs:
              - name: out
                dtype: Buffer(fp32, [D])
                dims: [M]
                data_transform: |
                  input_data['x'].sum(1)
            impl: |
              out = step.Accum(fn=fn_add_rows, b=1).apply(x)
              return out
            """);
        // The state is a row of D = 16 values, 64 bytes, counted twice.
        Assert.Equal(2 * 16 * 4, buffered.StateBytes);
        Assert.Equal(2 * 16 * 4, Op(buffered, "Accum@1").StorageBytes);
        Assert.Equal(0, CostOf(RowSum).StateBytes);
    }

    [Fact]
    public void AReconvergentPath_HoldsARowInItsChannel()
    {
        var cost = CostOf(MinusRowSum);
        // x[i] is there at i + 1; the Copy puts a[i] and b[i] at i + 2. The Accum emits row r's sum at 7r + 9 (as in
        // the worked example, one stage later); the Repeat emits its 7 copies at 7r + 10 .. 7r + 16, so the Zip takes
        // b[k] (k = 7r + j) with copy j at k + 10. b[k] waits in its channel from k + 2 to k + 10: once the run is
        // going, 8 elements are in it at every moment; beyond fifo_depth 2 that is 6 elements of 4 bytes.
        var b = Channel(cost, "b");
        Assert.Equal(10 - 2, b.Peak);
        Assert.Equal((8 - 2) * 4, b.Bytes);
        Assert.Equal((8 - 2) * 4, cost.ChannelBytes);
        Assert.Equal(cost.ChannelBytes, cost.OnChipBytes);
        // The same sums without the Copy and the Zip need no FIFO memory at all.
        Assert.Equal(0, CostOf(RowSum).ChannelBytes);
    }

    [Fact]
    public void AProducerRunningAheadOfASlowReader_IsNotCountedAsMemory()
    {
        // exp costs 4 flops: still 1 cycle, so make the Map slower with a narrow machine: 1 lane, 4 cycles per element,
        // while the source delivers one per cycle. x's channel fills (the producer runs ahead), but back-pressure at
        // fifo_depth would only hold the source back: the program does not jam, and the channel counts nothing.
        var slow = Machine.Default with { Lanes = 1 };
        var cost = CostOf(Same("out = step.Map(fn=fn_exp).apply(x)\nreturn out"), machine: slow);
        var x = Channel(cost, "x");
        Assert.True(x.Peak > slow.FifoDepth, $"peak {x.Peak}");
        Assert.Equal(slow.FifoDepth, x.RequiredDepth);
        Assert.Equal(0, x.Bytes);
        Assert.Equal((x.Peak - slow.FifoDepth) * 4, x.PeakBytesBeyondDepth);
        Assert.Equal(0, cost.OnChipBytes);
        Assert.Null(cost.FifoDeadlock);
    }

    [Fact]
    public void OffChipTraffic_IsEveryInputAndOutputStreamsBytes()
    {
        // 35 fp32 in, 35 out.
        Assert.Equal(35 * 4 + 35 * 4, CostOf(Same(Rows)).OffChipBytes);
        // Two outputs: the 5 sums and the 35 copies, besides the 35 inputs.
        var two = CostOf(SumsAndCopy);
        Assert.Equal((35 + 5 + 35) * 4, two.OffChipBytes);
    }
}
