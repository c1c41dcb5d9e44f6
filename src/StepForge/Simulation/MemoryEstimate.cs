using StepForge.Step;

namespace StepForge.Simulation;

/// <summary>
/// How much memory a run needs, from the types alone (before any data exists): a stream holds one float32 per element
/// value, and the simulator drops a stream after its last reader. A run whose estimate exceeds the memory budget is
/// refused with a verdict instead of being started, so the answer depends on the sizes, not on the machine.
/// </summary>
public static class MemoryEstimate
{
    /// <summary>Bytes of one stream at the given sizes; a stream with a dynamic dim counts 0 (it is a slice of another).</summary>
    public static long StreamBytes(StreamType type, IReadOnlyDictionary<string, long> sizes)
    {
        long total = 0;
        foreach (var component in type.DType.Components)
        {
            long values = 4;
            foreach (var dim in StreamType.ElementDims(component).Concat(type.Shape))
            {
                if (dim.Evaluate(sizes) is not long size) return 0;
                values = size <= 0 || values > long.MaxValue / size ? long.MaxValue : values * size;
                if (values == long.MaxValue) return long.MaxValue;
            }
            total = total > long.MaxValue - values ? long.MaxValue : total + values;
        }
        return total;
    }

    /// <summary>The most stream bytes alive at once while the program runs in program order.</summary>
    public static long PeakBytes(StepProgram program, IReadOnlyDictionary<string, long> sizes) => Peak(program, sizes).Bytes;

    /// <summary>The most stream bytes alive at once, and the op that makes the largest stream (null when only inputs count).</summary>
    public static (long Bytes, OpNode? Largest) Peak(StepProgram program, IReadOnlyDictionary<string, long> sizes)
    {
        var lastReader = new int[program.Streams.Count];
        Array.Fill(lastReader, -1);
        for (int o = 0; o < program.Ops.Count; o++)
            foreach (var id in program.Ops[o].Inputs) lastReader[id] = o;
        foreach (var id in program.Returns) lastReader[id] = int.MaxValue;
        var bytes = program.Streams.Select(s => StreamBytes(s, sizes)).ToArray();
        long live = program.InputStreams.Aggregate(0L, (acc, id) => Add(acc, bytes[id]));
        long peak = live, largest = 0;
        OpNode? maker = null;
        for (int o = 0; o < program.Ops.Count; o++)
        {
            foreach (var id in program.Ops[o].Outputs)
            {
                live = Add(live, bytes[id]);
                if (bytes[id] > largest) (largest, maker) = (bytes[id], program.Ops[o]);
            }
            peak = Math.Max(peak, live);
            foreach (var id in program.Ops[o].Inputs.Distinct())
                if (lastReader[id] == o) live -= bytes[id];
        }
        return (peak, maker);
    }

    private static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
