using System.Globalization;
using System.Text;

namespace StepForge.Tensors;

/// <summary>What the elements of a tensor stand for, as torch's dtypes float32, int64 and bool.</summary>
public enum ElementKind { Float, Int, Bool }

/// <summary>
/// A dense row-major tensor. Elements are stored as float32 whatever their kind (indices and flags are small
/// integers, exact in float32). Tensors are treated as values; only the in-place torch methods write to one.
/// </summary>
public sealed class Tensor
{
    public int[] Shape { get; }
    public float[] Data { get; }
    public ElementKind Kind { get; }

    public Tensor(int[] shape, float[] data, ElementKind kind = ElementKind.Float)
    {
        if (Numel(shape) != data.Length)
            throw new ArgumentException($"shape ({string.Join(", ", shape)}) needs {Numel(shape)} elements, got {data.Length}", nameof(data));
        Shape = shape;
        Data = data;
        Kind = kind;
    }

    /// <summary>The budget that tensor operations on this thread charge; unlimited when none is set.</summary>
    [ThreadStatic]
    private static ExecutionBudget? _budget;

    public static ExecutionBudget? Budget => _budget;

    /// <summary>Charges tensor work on this thread to <paramref name="budget"/> until the scope is disposed.</summary>
    public static BudgetScope Use(ExecutionBudget budget)
    {
        var previous = _budget;
        _budget = budget;
        return new BudgetScope(previous);
    }

    public readonly struct BudgetScope(ExecutionBudget? previous) : IDisposable
    {
        public void Dispose() => _budget = previous;
    }

    public int Rank => Shape.Length;
    public int Count => Data.Length;
    public bool IsFloat => Kind == ElementKind.Float;

    /// <summary>The element count of a shape; saturates at long.MaxValue rather than wrapping (sizes come from user values).</summary>
    public static long Numel(IReadOnlyList<int> shape) => shape is int[] array ? Numel(array.AsSpan()) : Numel(shape.ToArray().AsSpan());

    /// <inheritdoc cref="Numel(IReadOnlyList{int})"/>
    public static long Numel(int[] shape) => Numel(shape.AsSpan());

    /// <inheritdoc cref="Numel(IReadOnlyList{int})"/>
    public static long Numel(ReadOnlySpan<int> shape)
    {
        if (shape.Contains(0)) return 0;
        long n = 1;
        foreach (var d in shape)
            n = d > 0 && n > long.MaxValue / d ? long.MaxValue : n * d;
        return n;
    }

    /// <summary>A zero-filled tensor, charged to the current budget.</summary>
    public static Tensor Allocate(int[] shape, ElementKind kind = ElementKind.Float) => Allocate(shape, kind, zeroed: true);

    /// <summary>
    /// A tensor whose every element the caller writes before anyone reads it: its memory is not cleared first (at
    /// large sizes clearing is a good part of the time). Charged like <see cref="Allocate(int[], ElementKind)"/>.
    /// </summary>
    internal static Tensor Uninitialized(int[] shape, ElementKind kind = ElementKind.Float) => Allocate(shape, kind, zeroed: false);

    private static Tensor Allocate(int[] shape, ElementKind kind, bool zeroed)
    {
        foreach (var d in shape)
            if (d < 0) throw new TensorException($"negative dimension in shape ({string.Join(", ", shape)})");
        long n = Numel(shape);
        if (n > int.MaxValue) throw new LimitExceededException($"a tensor of {n:N0} elements is too large");
        _budget?.ChargeElements(n);
        var data = TensorArena.Rent((int)n, zeroed) ?? (zeroed ? new float[n] : GC.AllocateUninitializedArray<float>((int)n));
        return new Tensor(shape, data, kind);
    }

    public static Tensor Scalar(double value, ElementKind kind = ElementKind.Float) => new([], [(float)value], kind);

    public static Tensor Full(int[] shape, float value, ElementKind kind = ElementKind.Float)
    {
        var t = Allocate(shape, kind);
        Array.Fill(t.Data, value);
        return t;
    }

    public float Item()
    {
        if (Count != 1) throw new TensorException($"a tensor with {Count} elements cannot be converted to a Python number");
        return Data[0];
    }

    public static int[] Strides(IReadOnlyList<int> shape)
    {
        var strides = new int[shape.Count];
        int s = 1;
        for (int i = shape.Count - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= shape[i];
        }
        return strides;
    }

    public int NormalizeDim(int dim, int rankForDim = -1)
    {
        int rank = rankForDim < 0 ? Rank : rankForDim;
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= Math.Max(rank, 1) || (rank == 0 && d != 0))
            throw new TensorException($"dimension {dim} is out of range for a tensor with {Rank} dimension(s)");
        return d;
    }

    public Tensor WithKind(ElementKind kind) => kind == Kind ? this : new Tensor(Shape, Data, kind);

    public Tensor Copy()
    {
        // Shapes are never written once a tensor has one, so the copy shares it.
        var t = Uninitialized(Shape, Kind);
        Array.Copy(Data, t.Data, Data.Length);
        return t;
    }

    public Tensor Reshape(int[] shape)
    {
        int infer = Array.IndexOf(shape, -1);
        if (infer >= 0)
        {
            long known = 1;
            for (int i = 0; i < shape.Length; i++) if (i != infer) known *= shape[i];
            if (known == 0 || Count % known != 0) throw new TensorException($"cannot reshape {Describe()} to ({string.Join(", ", shape)})");
            shape = [.. shape];
            shape[infer] = (int)(Count / known);
        }
        if (Numel(shape) != Count)
            throw new TensorException($"cannot reshape {Describe()} to ({string.Join(", ", shape)})");
        return new Tensor(shape, Data, Kind);
    }

    /// <summary>A contiguous copy with dimensions reordered: result dim i is this tensor's dim perm[i].</summary>
    public Tensor Permute(int[] perm)
    {
        if (perm.Length != Rank || perm.Distinct().Count() != Rank || perm.Any(p => p < 0 || p >= Rank))
            throw new TensorException($"invalid permutation ({string.Join(", ", perm)}) of {Describe()}");
        var shape = perm.Select(p => Shape[p]).ToArray();
        var result = Uninitialized(shape, Kind);
        var srcStrides = Strides(Shape);
        var stridesInResultOrder = perm.Select(p => srcStrides[p]).ToArray();
        CopyStrided(Data, 0, shape, stridesInResultOrder, result.Data);
        return result;
    }

    /// <summary>Copies the strided view (offset, shape, strides) of <paramref name="src"/> into a contiguous destination.</summary>
    internal static void CopyStrided(float[] src, int offset, int[] shape, int[] strides, float[] dst)
    {
        if (dst.Length == 0) return;
        int rank = shape.Length;
        if (rank == 0) { dst[0] = src[offset]; return; }
        var index = new int[rank];
        int inner = shape[rank - 1], innerStride = strides[rank - 1];
        int o = 0;
        while (true)
        {
            int pos = offset;
            for (int i = 0; i < rank - 1; i++) pos += index[i] * strides[i];
            if (innerStride == 1) { Array.Copy(src, pos, dst, o, inner); o += inner; }
            else for (int j = 0; j < inner; j++, pos += innerStride) dst[o++] = src[pos];
            int d = rank - 2;
            while (d >= 0 && ++index[d] == shape[d]) { index[d] = 0; d--; }
            if (d < 0) break;
        }
    }

    public Tensor Movedim(int source, int destination)
    {
        int s = NormalizeDim(source), d = NormalizeDim(destination);
        var order = Enumerable.Range(0, Rank).Where(i => i != s).ToList();
        order.Insert(d, s);
        return Permute([.. order]);
    }

    public Tensor Transpose(int a, int b)
    {
        int x = NormalizeDim(a), y = NormalizeDim(b);
        var perm = Enumerable.Range(0, Rank).ToArray();
        (perm[x], perm[y]) = (perm[y], perm[x]);
        return Permute(perm);
    }

    /// <summary>torch's <c>.T</c>: all dimensions reversed.</summary>
    public Tensor ReverseDims() => Rank < 2 ? this : Permute([.. Enumerable.Range(0, Rank).Reverse()]);

    public Tensor Unsqueeze(int dim)
    {
        int d = dim < 0 ? dim + Rank + 1 : dim;
        if (d < 0 || d > Rank) throw new TensorException($"dimension {dim} is out of range for unsqueeze of {Describe()}");
        var shape = Shape.ToList();
        shape.Insert(d, 1);
        return new Tensor([.. shape], Data, Kind);
    }

    public Tensor Squeeze(int? dim = null)
    {
        if (dim is null) return new Tensor([.. Shape.Where(s => s != 1)], Data, Kind);
        if (Rank == 0) return this;
        int d = NormalizeDim(dim.Value);
        if (Shape[d] != 1) return this;
        return new Tensor([.. Shape.Where((_, i) => i != d)], Data, Kind);
    }

    public Tensor Flatten(int start = 0, int end = -1)
    {
        if (Rank == 0) return new Tensor([1], Data, Kind);
        int s = NormalizeDim(start), e = NormalizeDim(end);
        if (s > e) throw new TensorException("flatten() has start_dim after end_dim");
        var shape = Shape.Take(s).Append(Shape.Skip(s).Take(e - s + 1).Aggregate(1, (a, b) => a * b)).Concat(Shape.Skip(e + 1));
        return new Tensor([.. shape], Data, Kind);
    }

    /// <summary>Broadcasts to <paramref name="shape"/> (torch.expand; -1 keeps a dimension), as a contiguous copy.</summary>
    public Tensor BroadcastTo(int[] shape)
    {
        if (shape.AsSpan().SequenceEqual(Shape)) return this;
        if (shape.Length < Rank) throw new TensorException($"cannot expand {Describe()} to ({string.Join(", ", shape)})");
        var target = shape.ToArray();
        int lead = shape.Length - Rank;
        for (int i = 0; i < Rank; i++)
        {
            if (target[lead + i] == -1) target[lead + i] = Shape[i];
            if (Shape[i] != target[lead + i] && Shape[i] != 1)
                throw new TensorException($"cannot expand {Describe()} to ({string.Join(", ", shape)})");
        }
        if (target.SequenceEqual(Shape)) return this;
        var result = Uninitialized(target, Kind);
        var srcStrides = Strides(Shape);
        var strides = new int[target.Length];
        for (int i = 0; i < Rank; i++) strides[lead + i] = Shape[i] == 1 ? 0 : srcStrides[i];
        CopyStrided(Data, 0, target, strides, result.Data);
        return result;
    }

    /// <summary>torch's <c>.repeat(*sizes)</c>: tiles the tensor.</summary>
    public Tensor Tile(int[] repeats)
    {
        if (repeats.Length < Rank) throw new TensorException("repeat() needs at least as many sizes as the tensor has dimensions");
        var src = this;
        while (src.Rank < repeats.Length) src = src.Unsqueeze(0);
        if (repeats.Any(r => r < 0)) throw new TensorException($"repeat(): repeats ({string.Join(", ", repeats)}) must be non-negative");
        var shape = src.Shape.Select((s, i) => TensorMath.CheckedSize((long)s * repeats[i], "repeat")).ToArray();
        var result = Uninitialized(shape, Kind);
        var srcStrides = Strides(src.Shape);
        var index = new int[shape.Length];
        for (int o = 0; o < result.Count; o++)
        {
            int pos = 0;
            for (int i = 0; i < shape.Length; i++) pos += (index[i] % src.Shape[i]) * srcStrides[i];
            result.Data[o] = src.Data[pos];
            for (int d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        return result;
    }

    /// <summary>One index item of a subscript: an integer, a slice, <c>...</c> or <c>None</c>.</summary>
    public abstract record IndexItem;
    public sealed record At(long Index) : IndexItem;
    public sealed record Range(long? Start, long? Stop, long? Step) : IndexItem;
    public sealed record Ellipsis : IndexItem;
    public sealed record NewAxis : IndexItem;

    /// <summary>Basic indexing as torch does it (a copy rather than a view).</summary>
    public Tensor Index(IReadOnlyList<IndexItem> items)
    {
        int ellipses = 0, consuming = 0, newAxes = 0;
        for (int k = 0; k < items.Count; k++)
            switch (items[k])
            {
                case Ellipsis: ellipses++; break;
                case At or Range: consuming++; break;
                case NewAxis: newAxes++; break;
            }
        if (ellipses > 1) throw new TensorException("an index can only have a single ellipsis ('...')");
        if (consuming > Rank) throw new TensorException($"too many indices for a tensor of dimension {Rank}");

        // The dims an ellipsis stands for, and those after the last item, are taken whole.
        var srcStrides = Strides(Shape);
        int offset = 0, dim = 0, kept = 0;
        var shape = new int[newAxes + Rank];
        var strides = new int[shape.Length];
        void Whole()
        {
            shape[kept] = Shape[dim];
            strides[kept++] = srcStrides[dim++];
        }
        for (int k = 0; k < items.Count; k++)
        {
            switch (items[k])
            {
                case Ellipsis:
                    for (int e = 0; e < Rank - consuming; e++) Whole();
                    break;
                case NewAxis:
                    shape[kept] = 1;
                    strides[kept++] = 0;
                    break;
                case At at:
                {
                    long i = at.Index < 0 ? at.Index + Shape[dim] : at.Index;
                    if (i < 0 || i >= Shape[dim])
                        throw new TensorException($"index {at.Index} is out of bounds for dimension {dim} with size {Shape[dim]}");
                    offset += (int)i * srcStrides[dim];
                    dim++;
                    break;
                }
                case Range r:
                {
                    long step = r.Step ?? 1;
                    if (step <= 0) throw new TensorException("slice step must be positive");
                    int size = Shape[dim];
                    long start = Clamp(r.Start ?? 0, size), stop = Clamp(r.Stop ?? size, size);
                    int count = stop > start ? (int)((stop - start + step - 1) / step) : 0;
                    offset += (int)start * srcStrides[dim];
                    shape[kept] = count;
                    strides[kept++] = srcStrides[dim] * (int)step;
                    dim++;
                    break;
                }
            }
        }
        while (dim < Rank) Whole();
        if (kept < shape.Length)
        {
            shape = shape[..kept];
            strides = strides[..kept];
        }
        var result = Uninitialized(shape, Kind);
        CopyStrided(Data, offset, shape, strides, result.Data);
        return result;
    }

    private static long Clamp(long index, int size)
    {
        if (index < 0) index += size;
        return Math.Clamp(index, 0, size);
    }

    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim)
    {
        if (tensors.Count == 0) throw new TensorException("torch.cat() needs a non-empty list of tensors");
        var first = tensors[0];
        if (tensors.Any(t => t.Rank == 0)) throw new TensorException("torch.cat(): zero-dimensional tensors cannot be concatenated");
        int d = first.NormalizeDim(dim);
        foreach (var t in tensors)
            if (t.Rank != first.Rank || t.Shape.Where((s, i) => i != d && s != first.Shape[i]).Any())
                throw new TensorException($"torch.cat(): sizes of tensors must match except in dimension {dim}: {first.Describe()} and {t.Describe()}");
        var shape = first.Shape.ToArray();
        shape[d] = tensors.Sum(t => t.Shape[d]);
        var kind = tensors.Any(t => t.IsFloat) ? ElementKind.Float : first.Kind;
        var result = Uninitialized(shape, kind);
        int outer = 1;
        for (int i = 0; i < d; i++) outer *= first.Shape[i];
        // Each tensor's block per outer index, computed once rather than per copy.
        var blocks = new int[tensors.Count];
        for (int k = 0; k < blocks.Length; k++)
        {
            blocks[k] = 1;
            for (int i = d; i < tensors[k].Rank; i++) blocks[k] *= tensors[k].Shape[i];
        }
        int o = 0;
        for (int i = 0; i < outer; i++)
            for (int k = 0; k < blocks.Length; k++)
            {
                Array.Copy(tensors[k].Data, i * blocks[k], result.Data, o, blocks[k]);
                o += blocks[k];
            }
        return result;
    }

    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim)
    {
        if (tensors.Count == 0) throw new TensorException("torch.stack() needs a non-empty list of tensors");
        int rank = tensors[0].Rank + 1;
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) throw new TensorException($"dimension {dim} is out of range for stack");
        foreach (var t in tensors)
            if (!t.Shape.SequenceEqual(tensors[0].Shape))
                throw new TensorException($"torch.stack() expects tensors of equal size, got {tensors[0].Describe()} and {t.Describe()}");
        return Cat([.. tensors.Select(t => t.Unsqueeze(d))], d);
    }

    public IReadOnlyList<Tensor> Chunk(int chunks, int dim)
    {
        if (chunks <= 0) throw new TensorException("chunk expects a positive number of chunks");
        int d = NormalizeDim(dim);
        int size = Shape[d];
        // In long arithmetic: size + chunks - 1 wraps around for chunks near int.MaxValue.
        int each = (int)Math.Max(1, ((long)size + chunks - 1) / chunks);
        var result = new List<Tensor>();
        for (int start = 0; start < size; start += each)
        {
            var items = Enumerable.Range(0, Rank).Select(i => i == d ? (IndexItem)new Range(start, Math.Min(size, start + each), 1) : new Range(null, null, null)).ToList();
            result.Add(Index(items));
        }
        return result;
    }

    public string Describe() => $"tensor of shape ({string.Join(", ", Shape)})";

    public override string ToString()
    {
        var sb = new StringBuilder("tensor(");
        if (Rank == 0) sb.Append(Data[0].ToString("R", CultureInfo.InvariantCulture));
        else sb.Append('[').Append(string.Join(", ", Data.Take(8).Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))).Append(Count > 8 ? ", ..." : "").Append(']');
        return sb.Append(", shape=(").Append(string.Join(", ", Shape)).Append("))").ToString();
    }
}
