using StepForge.Step;

namespace StepForge.Simulation;

/// <summary>
/// How much memory a run needs, from the types alone (before any data exists), counted the way the simulator holds
/// data: a stream stores one float32 per element value; ops that keep the data as it is (Bufferize, Streamify,
/// Promote, Flatten, Reshape, Copy, Zip) and the views Repeat and RepeatRef store nothing of their own but keep what
/// they read alive; a Map computed as its reader goes stores nothing but its chunks; data is dropped after the last
/// reader of every stream that shares it; returned views are materialized at the end. A run whose estimate exceeds
/// the memory budget is refused with a verdict instead of being started, so the answer depends on the sizes, not on
/// the machine.
/// </summary>
public static class MemoryEstimate
{
    /// <summary>
    /// What the chunks being evaluated hold at once (reads, fn temporaries, results, fold states): a few chunks of
    /// <see cref="Simulator.ChunkValues"/> values, whatever the sizes.
    /// </summary>
    public const long WorkingBytes = 16 * Simulator.ChunkValues * sizeof(float);

    /// <summary>Bytes of one stream at the given sizes; a stream with a dynamic dim counts 0 unless its bound is given.</summary>
    public static long StreamBytes(StreamType type, IReadOnlyDictionary<string, long> sizes) => StreamBytes(type, sizes, null);

    private static long StreamBytes(StreamType type, IReadOnlyDictionary<string, long> sizes, IReadOnlyDictionary<string, long>? dynamicBounds)
    {
        long total = 0;
        foreach (var component in type.DType.Components)
        {
            long values = 4;
            bool known = Multiply(ref values, component, sizes, dynamicBounds);
            foreach (var dim in type.Shape)
                known = known && Multiply(ref values, dim, sizes, dynamicBounds);
            // An unknown size makes the stream count nothing, unless the sizes before it already overflow.
            if (!known) return values == long.MaxValue ? long.MaxValue : 0;
            total = Add(total, values);
        }
        return total;
    }

    /// <summary>Multiplies <paramref name="values"/> by the values of one element (<see cref="StreamType.ElementDims"/>, in order); false when a size is unknown or the product overflows.</summary>
    private static bool Multiply(ref long values, DType element, IReadOnlyDictionary<string, long> sizes, IReadOnlyDictionary<string, long>? dynamicBounds)
    {
        switch (element)
        {
            case BufferType b:
                if (!Multiply(ref values, b.Element, sizes, dynamicBounds)) return false;
                foreach (var dim in b.Shape)
                    if (!Multiply(ref values, dim, sizes, dynamicBounds)) return false;
                return true;
            case MultihotType m:
                return Multiply(ref values, m.Width, sizes, dynamicBounds);
            case ScalarType:
                return true;
            default:
                throw new ArgumentException($"a tuple has no single layout: {element}", nameof(element));
        }
    }

    /// <summary>Multiplies <paramref name="values"/> by a dim's size, saturating at long.MaxValue; false when the size is unknown or the product overflows.</summary>
    private static bool Multiply(ref long values, Dim dim, IReadOnlyDictionary<string, long> sizes, IReadOnlyDictionary<string, long>? dynamicBounds)
    {
        if (Bound(dim, sizes, dynamicBounds) is not long size) return false;
        values = size <= 0 || values > long.MaxValue / size ? long.MaxValue : values * size;
        return values != long.MaxValue;
    }

    /// <summary>A dim's size, with a Partition's dynamic count bounded by the positions of its index stream.</summary>
    private static long? Bound(Dim dim, IReadOnlyDictionary<string, long> sizes, IReadOnlyDictionary<string, long>? dynamicBounds)
    {
        switch (dim)
        {
            case DynamicDim d:
                return dynamicBounds is not null && dynamicBounds.TryGetValue(d.Origin, out var bound) ? bound : null;
            case ProductDim p:
            {
                long result = 1;
                foreach (var f in p.Factors)
                {
                    if (Bound(f, sizes, dynamicBounds) is not long v) return null;
                    result = v <= 0 || result > long.MaxValue / v ? long.MaxValue : result * v;
                }
                return result;
            }
            case QuotientDim q:
                return Bound(q.Dividend, sizes, dynamicBounds) is long dividend ? dividend / q.Divisor : null;
            default:
                try
                {
                    return dim.Evaluate(sizes);
                }
                catch (OverflowException)
                {
                    return long.MaxValue;
                }
        }
    }

    /// <summary>The most bytes alive at once while the program runs in program order.</summary>
    public static long PeakBytes(StepProgram program, IReadOnlyDictionary<string, long> sizes) => Peak(program, sizes).Bytes;

    /// <summary>The most bytes alive at once, and the op that makes the largest stream (null when only inputs count).</summary>
    public static (long Bytes, OpNode? Largest) Peak(StepProgram program, IReadOnlyDictionary<string, long> sizes)
    {
        int streams = program.Streams.Count;
        var bounds = DynamicBounds(program, sizes);
        var full = new long[streams];
        for (int i = 0; i < streams; i++) full[i] = StreamBytes(program.Streams[i], sizes, bounds);
        var deferred = Simulator.DeferredMaps(program);

        // Which storages each stream keeps alive: its own, or those of the streams it shares data with. Lists, not
        // sets: a stream shares a handful at most, and this runs once per verification.
        var holds = new List<int>?[streams];
        var stored = new long[streams];
        var isView = new bool[streams];
        foreach (var id in program.InputStreams)
        {
            holds[id] = [id];
            stored[id] = full[id];
        }
        for (int o = 0; o < program.Ops.Count; o++)
        {
            var op = program.Ops[o];
            foreach (var id in op.Outputs)
            {
                switch (op.Op)
                {
                    case BufferizeOp or StreamifyOp or PromoteOp or FlattenOp or ReshapeOp or CopyOp or ZipOp:
                        holds[id] = Shared(holds, op.Inputs, op.Inputs.Count);
                        foreach (var i in op.Inputs) isView[id] |= isView[i];
                        break;
                    case RepeatOp or RepeatRefOp:
                        holds[id] = Shared(holds, op.Inputs, 1);
                        isView[id] = true;
                        break;
                    case MapOp when deferred[o]:
                        // Nothing of its own, but it reads its inputs until its reader is done.
                        holds[id] = Shared(holds, op.Inputs, op.Inputs.Count);
                        isView[id] = true;
                        break;
                    default:
                        holds[id] = [id];
                        stored[id] = full[id];
                        break;
                }
            }
        }

        // A storage lives until the last op that reads a stream holding it; returned ones to the end.
        var lastUse = new int[streams];
        Array.Fill(lastUse, -1);
        for (int o = 0; o < program.Ops.Count; o++)
            foreach (var id in program.Ops[o].Inputs)
                foreach (var s in holds[id] ?? [])
                    lastUse[s] = Math.Max(lastUse[s], o);
        foreach (var id in program.Returns)
            foreach (var s in holds[id] ?? [])
                lastUse[s] = int.MaxValue;

        long live = 0;
        foreach (var id in program.InputStreams) live = Add(live, stored[id]);
        long peak = live, largest = 0;
        OpNode? maker = null;
        // Each storage is freed once, by the op that reads it last, however many of that op's inputs hold it.
        var freed = new bool[streams];
        for (int o = 0; o < program.Ops.Count; o++)
        {
            var op = program.Ops[o];
            foreach (var id in op.Outputs)
            {
                live = Add(live, stored[id]);
                if (full[id] > largest) (largest, maker) = (full[id], op);
            }
            bool evaluates = op.Op is MapOp or AccumOp or ScanOp or MergeOp;
            peak = Math.Max(peak, evaluates ? Add(live, WorkingBytes) : live);
            foreach (var i in op.Inputs)
                foreach (var s in holds[i] ?? [])
                    if (lastUse[s] == o && !freed[s])
                    {
                        freed[s] = true;
                        live -= stored[s];
                    }
        }
        // Returned views and deferred streams are materialized when the run ends.
        long materialized = program.Returns.Distinct().Where(id => isView[id]).Aggregate(0L, (acc, id) => Add(acc, full[id]));
        return (Math.Max(peak, Add(live, materialized)), maker);
    }

    /// <summary>The storages the first <paramref name="count"/> inputs keep alive, each once.</summary>
    private static List<int> Shared(List<int>?[] holds, ValueList<int> inputs, int count)
    {
        var shared = new List<int>();
        for (int k = 0; k < count; k++)
            foreach (var s in holds[inputs[k]] ?? [])
                if (!shared.Contains(s)) shared.Add(s);
        return shared;
    }

    /// <summary>For each Partition's dynamic count, the positions of its index stream (no expert gets more).</summary>
    private static Dictionary<string, long> DynamicBounds(StepProgram program, IReadOnlyDictionary<string, long> sizes)
    {
        var bounds = new Dictionary<string, long>();
        foreach (var op in program.Ops.Where(o => o.Op is PartitionOp))
        {
            var idx = program.Streams[op.Inputs[^1]];
            long positions = 1;
            foreach (var dim in idx.Shape)
            {
                if (Bound(dim, sizes, bounds) is not long size) { positions = -1; break; }
                positions = size <= 0 || positions > long.MaxValue / size ? long.MaxValue : positions * size;
            }
            if (positions < 0) continue;
            foreach (var output in op.Outputs)
                foreach (var dim in program.Streams[output].Shape.SelectMany(Dynamics))
                    bounds[dim.Origin] = positions;
        }
        return bounds;
    }

    private static IEnumerable<DynamicDim> Dynamics(Dim dim) => dim switch
    {
        DynamicDim d => [d],
        ProductDim p => p.Factors.SelectMany(Dynamics),
        QuotientDim q => Dynamics(q.Dividend),
        _ => [],
    };

    private static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
