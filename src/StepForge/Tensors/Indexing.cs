namespace StepForge.Tensors;

/// <summary>Shape and indexing functions: flip, roll, gather, scatter_add, tril, split, repeat_interleave, ...</summary>
public static partial class TensorMath
{
    /// <summary>A size computed from user values (repeat counts, split sizes, class counts): beyond int is a limit.</summary>
    internal static int CheckedSize(long size, string what) =>
        size is < 0 ? throw new TensorException($"{what}: negative size {size}")
        : size > int.MaxValue ? throw new LimitExceededException($"{what}: a size of {size:N0} is too large") : (int)size;

    /// <summary>torch.flip: the given dims reversed (a strided copy with negative strides).</summary>
    public static Tensor Flip(Tensor a, int[] dims)
    {
        var strides = Tensor.Strides(a.Shape);
        int offset = 0;
        foreach (var d in dims.Distinct())
        {
            if (a.Shape[d] == 0) return a.Copy();
            offset += (a.Shape[d] - 1) * strides[d];
            strides[d] = -strides[d];
        }
        var result = Tensor.Allocate(a.Shape, a.Kind);
        Tensor.CopyStrided(a.Data, offset, a.Shape, strides, result.Data);
        return result;
    }

    /// <summary>torch.roll along one dim: element k moves to (k + shift) mod size.</summary>
    public static Tensor Roll(Tensor a, int shift, int dim)
    {
        var (outer, size, inner) = Around(a, dim);
        var result = Tensor.Allocate(a.Shape, a.Kind);
        if (size == 0) return result;
        int s = (int)(((long)shift % size + size) % size);
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < size; k++)
                Array.Copy(a.Data, (o * size + k) * inner, result.Data, (o * size + (k + s) % size) * inner, inner);
        return result;
    }

    /// <summary>torch.narrow: <paramref name="length"/> elements from <paramref name="start"/> (negative counts from the end).</summary>
    public static Tensor Narrow(Tensor a, int dim, long start, long length)
    {
        int size = a.Shape[dim];
        if (start < -size || start > size) throw new TensorException($"narrow(): start {start} is out of range for a dimension of size {size}");
        if (start < 0) start += size;
        if (length < 0 || start + length > size) throw new TensorException($"narrow(): start ({start}) + length ({length}) exceeds the dimension's size ({size})");
        return a.Index([.. Enumerable.Range(0, a.Rank).Select(i => i == dim ? (Tensor.IndexItem)new Tensor.Range(start, start + length, 1) : new Tensor.Range(null, null, null))]);
    }

    /// <summary>torch.select: the slice at <paramref name="index"/> of a dim, which disappears.</summary>
    public static Tensor Select(Tensor a, int dim, long index) =>
        a.Index([.. Enumerable.Range(0, a.Rank).Select(i => i == dim ? (Tensor.IndexItem)new Tensor.At(index) : new Tensor.Range(null, null, null))]);

    /// <summary>An index value checked against a size; negative ones wrap only where torch's function wraps them.</summary>
    private static int IndexAt(float value, int size, string name, bool wrap = false)
    {
        long i = (long)value;
        if (wrap && i < 0) i += size;
        if (i < 0 || i >= size) throw new TensorException($"{name}(): index {(long)value} is out of bounds for a dimension of size {size}");
        return (int)i;
    }

    private static void RequireIndexTensor(Tensor index, string name)
    {
        if (index.Kind != ElementKind.Int) throw new TensorException($"{name}(): expected an int64 index tensor, got {index.Kind.ToString().ToLowerInvariant()}");
    }

    /// <summary>torch.gather: out[p] = a[p with dim replaced by index[p]]; index has a's rank and no larger sizes.</summary>
    public static Tensor Gather(Tensor a, int dim, Tensor index)
    {
        RequireIndexTensor(index, "gather");
        if (index.Rank != a.Rank) throw new TensorException($"gather(): index has {index.Rank} dimension(s) but input has {a.Rank}");
        for (int d = 0; d < a.Rank; d++)
            if (d != dim && index.Shape[d] > a.Shape[d])
                throw new TensorException($"gather(): index {index.Describe()} is larger than input {a.Describe()} in dimension {d}");
        var result = Tensor.Allocate(index.Shape, a.Kind);
        var strides = Tensor.Strides(a.Shape);
        var at = new int[index.Rank];
        for (int n = 0; n < index.Count; n++)
        {
            int pos = 0;
            for (int d = 0; d < a.Rank; d++) pos += (d == dim ? IndexAt(index.Data[n], a.Shape[d], "gather") : at[d]) * strides[d];
            result.Data[n] = a.Count == 0 ? 0 : a.Data[pos];
            for (int d = index.Rank - 1; d >= 0 && ++at[d] == index.Shape[d]; d--) at[d] = 0;
        }
        return result;
    }

    /// <summary>torch.index_select: the slices of a dim at a 0-d or 1-d list of indices.</summary>
    public static Tensor IndexSelect(Tensor a, int dim, Tensor index)
    {
        RequireIndexTensor(index, "index_select");
        if (index.Rank > 1) throw new TensorException("index_select(): index must be 0-d or 1-d");
        var (outer, size, inner) = Around(a, dim);
        var shape = a.Shape.ToArray();
        shape[dim] = index.Count;
        var result = Tensor.Allocate(shape, a.Kind);
        for (int j = 0; j < index.Count; j++)
        {
            int k = IndexAt(index.Data[j], size, "index_select");
            for (int o = 0; o < outer; o++)
                Array.Copy(a.Data, (o * size + k) * inner, result.Data, (o * index.Count + j) * inner, inner);
        }
        return result;
    }

    /// <summary>torch.take_along_dim with a dim: input and indices broadcast in every other dim, then gather.</summary>
    public static Tensor TakeAlongDim(Tensor a, Tensor indices, int dim)
    {
        RequireIndexTensor(indices, "take_along_dim");
        if (indices.Rank != a.Rank) throw new TensorException("take_along_dim(): input and indices should have the same number of dimensions");
        var common = BroadcastShapes([.. a.Shape.Select((s, d) => d == dim ? 1 : s)], [.. indices.Shape.Select((s, d) => d == dim ? 1 : s)]);
        var aShape = common.ToArray();
        aShape[dim] = a.Shape[dim];
        var iShape = common.ToArray();
        iShape[dim] = indices.Shape[dim];
        return Gather(a.BroadcastTo(aShape), dim, indices.BroadcastTo(iShape));
    }

    /// <summary>
    /// torch.scatter / scatter_add with a source tensor: for each position p of index, out[p with dim = index[p]]
    /// receives src[p] (added, or written), in row-major order of index. <paramref name="inPlace"/> writes into a.
    /// </summary>
    public static Tensor ScatterSource(Tensor a, int dim, Tensor index, Tensor src, bool add, bool inPlace = false)
    {
        RequireIndexTensor(index, add ? "scatter_add" : "scatter");
        if (index.Rank != a.Rank || src.Rank != a.Rank)
            throw new TensorException($"scatter(): index and src need {a.Rank} dimension(s) like the input");
        for (int d = 0; d < a.Rank; d++)
            if (index.Shape[d] > src.Shape[d] || (d != dim && index.Shape[d] > a.Shape[d]))
                throw new TensorException($"scatter(): index {index.Describe()} is larger than src {src.Describe()} or input {a.Describe()} in dimension {d}");
        var target = inPlace ? a : a.Copy();
        var strides = Tensor.Strides(a.Shape);
        var srcStrides = Tensor.Strides(src.Shape);
        var at = new int[index.Rank];
        for (int n = 0; n < index.Count; n++)
        {
            int pos = 0, from = 0;
            for (int d = 0; d < a.Rank; d++)
            {
                pos += (d == dim ? IndexAt(index.Data[n], a.Shape[d], "scatter") : at[d]) * strides[d];
                from += at[d] * srcStrides[d];
            }
            float v = CastValue(src.Data[from], a.Kind);
            target.Data[pos] = add ? CastValue(target.Data[pos] + v, a.Kind) : v;
            for (int d = index.Rank - 1; d >= 0 && ++at[d] == index.Shape[d]; d--) at[d] = 0;
        }
        return target;
    }

    /// <summary>torch.tril / triu on the last two dims: keeps j - i &lt;= diagonal (tril) or &gt;= diagonal (triu).</summary>
    public static Tensor Triangle(Tensor a, long diagonal, bool upper)
    {
        if (a.Rank < 2) throw new TensorException($"{(upper ? "triu" : "tril")}(): input must have at least 2 dimensions");
        int rows = a.Shape[^2], cols = a.Shape[^1];
        var result = a.Copy();
        for (int n = 0; n < a.Count; n++)
        {
            long i = n / cols % rows, j = n % cols;
            if (upper ? j - i < diagonal : j - i > diagonal) result.Data[n] = 0;
        }
        return result;
    }

    /// <summary>torch.split: pieces of <paramref name="sizes"/> along a dim.</summary>
    public static IReadOnlyList<Tensor> Split(Tensor a, IReadOnlyList<int> sizes, int dim)
    {
        if (sizes.Any(s => s < 0) || sizes.Sum(s => (long)s) != a.Shape[dim])
            throw new TensorException($"split(): sizes ({string.Join(", ", sizes)}) do not add up to the dimension's size {a.Shape[dim]}");
        var pieces = new List<Tensor>();
        long start = 0;
        foreach (var s in sizes)
        {
            pieces.Add(Narrow(a, dim, start, s));
            start += s;
        }
        return pieces;
    }

    /// <summary>The piece sizes of torch.split with one size: equal pieces, the last one smaller.</summary>
    public static int[] SplitSizes(int total, int each)
    {
        if (each <= 0) throw new TensorException($"split(): split_size must be positive, not {each}");
        if (total == 0) return [0];
        int pieces = (int)(((long)total + each - 1) / each);
        return [.. Enumerable.Range(0, pieces).Select(k => (int)Math.Min(each, total - (long)k * each))];
    }

    /// <summary>torch.repeat_interleave along a dim: element k repeated repeats[k] times (one count for all, or one per element).</summary>
    public static Tensor RepeatInterleave(Tensor a, IReadOnlyList<long> repeats, int dim)
    {
        var (outer, size, inner) = Around(a, dim);
        if (repeats.Count != 1 && repeats.Count != size)
            throw new TensorException($"repeat_interleave(): repeats must have one count or {size}, not {repeats.Count}");
        if (repeats.Any(r => r < 0)) throw new TensorException("repeat_interleave(): repeats must be non-negative");
        long total;
        try
        {
            total = checked(repeats.Count == 1 ? repeats[0] * size : repeats.Sum());
        }
        catch (OverflowException)
        {
            throw new LimitExceededException("repeat_interleave(): the result is too large");
        }
        var shape = a.Shape.ToArray();
        shape[dim] = CheckedSize(total, "repeat_interleave");
        var result = Tensor.Allocate(shape, a.Kind);
        int o2 = 0;
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < size; k++)
                for (long r = repeats.Count == 1 ? repeats[0] : repeats[k]; r > 0; r--, o2++)
                    Array.Copy(a.Data, (o * size + k) * inner, result.Data, o2 * inner, inner);
        return result;
    }

    /// <summary>torch.unflatten: one dim split into <paramref name="sizes"/> (one of them may be -1).</summary>
    public static Tensor Unflatten(Tensor a, int dim, int[] sizes)
    {
        if (sizes.Length == 0) throw new TensorException("unflatten(): sizes must be non-empty");
        int size = a.Shape[dim];
        int infer = Array.IndexOf(sizes, -1);
        if (sizes.Count(s => s == -1) > 1 || sizes.Any(s => s < -1)) throw new TensorException("unflatten(): only one size may be -1, and none negative otherwise");
        long known = Tensor.Numel([.. sizes.Where(s => s != -1)]);
        if (infer >= 0)
        {
            if (known == 0 || size % known != 0) throw new TensorException($"unflatten(): sizes ({string.Join(", ", sizes)}) do not divide {size}");
            sizes = [.. sizes];
            sizes[infer] = (int)(size / known);
        }
        else if (known != size) throw new TensorException($"unflatten(): sizes ({string.Join(", ", sizes)}) do not multiply to {size}");
        return a.Reshape([.. a.Shape[..dim], .. sizes, .. a.Shape[(dim + 1)..]]);
    }
}
