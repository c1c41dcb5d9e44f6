using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Simulation;

/// <summary>
/// Where the values of one stream component come from, in the tensor layout of step-semantics.md (stream dims, then
/// element dims, row-major). Every op except Repeat and Map keeps that flat order, so a view only needs to answer
/// "the values from here to there".
/// </summary>
internal abstract class ValueSource
{
    /// <summary>Copies the values [start, start + destination.Length) into <paramref name="destination"/>.</summary>
    public abstract void Read(long start, Span<float> destination);

    /// <summary>The tensor that stores every value, when the values are stored as one.</summary>
    public virtual Tensor? Stored => null;

    /// <summary>A tensor holding exactly the values [start, start + count), when one exists without copying; else null.</summary>
    public virtual Tensor? Exactly(long start, long count) => null;
}

/// <summary>Values stored in a tensor.</summary>
internal sealed class StoredValues(Tensor tensor) : ValueSource
{
    public override Tensor? Stored => tensor;

    public override Tensor? Exactly(long start, long count) => start == 0 && count == tensor.Count ? tensor : null;

    public override void Read(long start, Span<float> destination) => tensor.Data.AsSpan((int)start, destination.Length).CopyTo(destination);
}

/// <summary>
/// Repeat as a view: every block of <paramref name="block"/> values (one element of the input stream) appears
/// <paramref name="times"/> times in a row. Nothing is copied until a consumer reads a range.
/// </summary>
internal sealed class RepeatedValues(ValueSource inner, long block, int times) : ValueSource
{
    public override void Read(long start, Span<float> destination)
    {
        if (destination.IsEmpty) return;
        long period = block * times, end = start + destination.Length;
        long firstGroup = start / period, lastGroup = (end - 1) / period;
        long innerStart = firstGroup * block;
        int innerCount = checked((int)((lastGroup - firstGroup + 1) * block));
        float[] values;
        int offset;
        if (inner.Stored is { } stored)
        {
            (values, offset) = (stored.Data, (int)innerStart);
        }
        else
        {
            (values, offset) = (new float[innerCount], 0);
            inner.Read(innerStart, values);
        }
        int o = 0;
        for (long at = start; at < end;)
        {
            long group = at / period, within = at % period, j = within % block;
            int source = offset + (int)((group - firstGroup) * block + j);
            if (block == 1)
            {
                // A repeated scalar: one fill up to the end of its group.
                int run = (int)Math.Min(period - within, end - at);
                destination.Slice(o, run).Fill(values[source]);
                o += run;
                at += run;
            }
            else
            {
                int run = (int)Math.Min(block - j, end - at);
                values.AsSpan(source, run).CopyTo(destination.Slice(o, run));
                o += run;
                at += run;
            }
        }
    }
}

/// <summary>One component of a Map whose values are computed when a consumer reads them (see <see cref="DeferredMap"/>).</summary>
internal sealed class DeferredValues(DeferredMap map, int component, long elementSize) : ValueSource
{
    /// <summary>Whole elements are the computed chunk itself.</summary>
    public override Tensor? Exactly(long start, long count) =>
        elementSize > 0 && count > 0 && start % elementSize == 0 && count % elementSize == 0
            ? map.Positions(start / elementSize, checked((int)(count / elementSize)))[component]
            : null;

    public override void Read(long start, Span<float> destination)
    {
        if (destination.IsEmpty) return;
        if (elementSize == 0) return;
        long first = start / elementSize, last = (start + destination.Length - 1) / elementSize;
        var values = map.Positions(first, checked((int)(last - first + 1)));
        values[component].Data.AsSpan((int)(start - first * elementSize), destination.Length).CopyTo(destination);
    }
}

/// <summary>
/// A Map whose output is read by one consumer that reads in chunks (a fold or another Map): each chunk is computed
/// when it is read, so the whole output never exists at once. The last chunk is kept, so that reading its components
/// one after another computes it once.
/// </summary>
internal sealed class DeferredMap(Func<long, int, Tensor[]> compute)
{
    private long _first = -1;
    private long _closings;
    private Tensor[]? _values;

    public Tensor[] Positions(long first, int count)
    {
        if (_values is not null && first == _first && _values[0].Shape[0] == count && _closings == TensorArena.Closings) return _values;
        _values = null;
        var values = compute(first, count);
        (_first, _values, _closings) = (first, values, TensorArena.Closings);
        return values;
    }
}

/// <summary>One component of a stream: its tensor shape (stream dims, then element dims) and where its values are.</summary>
internal sealed record StreamComponent(int[] Shape, ValueSource Values)
{
    public static StreamComponent Of(Tensor t) => new(t.Shape, new StoredValues(t));

    public long Count => Tensor.Numel(Shape);
}

/// <summary>A stream during simulation: its type and its components.</summary>
internal sealed class StreamData
{
    public StreamData(StreamType type, StreamComponent[] components)
    {
        Type = type;
        Components = components;
        StreamAxes = components[0].Shape.Length - StreamType.ElementRank(type.DType.Components[0]);
        StreamShape = components[0].Shape[..StreamAxes];
        long positions = 1;
        foreach (var size in StreamShape) positions *= size;
        Positions = positions;
        ElementSizes = new long[components.Length];
        for (int c = 0; c < components.Length; c++) ElementSizes[c] = Tensor.Numel(components[c].Shape.AsSpan(StreamAxes));
    }

    public StreamType Type { get; }

    public StreamComponent[] Components { get; }

    /// <summary>How many leading tensor axes belong to the stream (the rest are the element's).</summary>
    public int StreamAxes { get; }

    public int[] StreamShape { get; }

    public long Positions { get; }

    /// <summary>Values of one element, per component.</summary>
    public long[] ElementSizes { get; }

    /// <summary>Values of one element over all components.</summary>
    public long ValuesPerPosition => ElementSizes.Sum();

    public int[] ElementShape(int component) => Components[component].Shape[StreamAxes..];

    /// <summary>
    /// The elements at positions [first, first + count) of every component, stacked along a leading axis. Reading a
    /// whole stored stream, or a chunk of a deferred Map, gives the tensors themselves, without a copy: callers that
    /// hand them to an fn mark them borrowed (<see cref="PyLite.Runtime.Batching.Borrow"/>) or copy elements.
    /// </summary>
    public Tensor[] Read(long first, int count)
    {
        var result = new Tensor[Components.Length];
        for (int c = 0; c < result.Length; c++)
        {
            var component = Components[c];
            int[] shape = [count, .. ElementShape(c)];
            if (component.Values.Exactly(first * ElementSizes[c], count * ElementSizes[c]) is { } exactly)
            {
                result[c] = exactly.Reshape(shape);
                continue;
            }
            result[c] = Tensor.Uninitialized(shape);
            component.Values.Read(first * ElementSizes[c], result[c].Data);
        }
        return result;
    }

    /// <summary>The element at one position, as fresh tensors (an fn may write into them).</summary>
    public Tensor[] ElementAt(long position)
    {
        var result = new Tensor[Components.Length];
        for (int c = 0; c < result.Length; c++)
        {
            result[c] = Tensor.Uninitialized(ElementShape(c));
            Components[c].Values.Read(position * ElementSizes[c], result[c].Data);
        }
        return result;
    }

    /// <summary>Every component as one tensor of its full shape (a copy only for a view).</summary>
    public Tensor[] Materialize() =>
        [.. Components.Select(c => c.Values.Stored is { } stored ? stored.Reshape(c.Shape) : Copied(c))];

    private static Tensor Copied(StreamComponent c)
    {
        var t = Tensor.Uninitialized(c.Shape);
        c.Values.Read(0, t.Data);
        return t;
    }
}
