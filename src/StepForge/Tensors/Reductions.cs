namespace StepForge.Tensors;

/// <summary>Reductions over dims (sum, amax, var, norm, ...) and along one dim (argmax, cumsum). Dims are the tensor's own, normalized.</summary>
public static partial class TensorMath
{
    /// <summary>Folds one row of reduced elements into a value.</summary>
    private delegate double RowFold(ReadOnlySpan<float> row);

    /// <summary>Every dim of <paramref name="a"/>: a reduction over all of them.</summary>
    public static int[] AllDims(Tensor a) => [.. Enumerable.Range(0, a.Rank)];

    private static int[] ReducedShape(Tensor a, int[] dims, bool keepdim) =>
        keepdim ? [.. a.Shape.Select((s, i) => dims.Contains(i) ? 1 : s)] : [.. a.Shape.Where((_, i) => !dims.Contains(i))];

    /// <summary>
    /// Reduces the given dims: each output element folds the row of elements it covers, in row-major order. One dim
    /// is read in place (strided); several are first moved innermost. No dims (a 0-d tensor) folds each element alone.
    /// A fold that rounds as it goes (<paramref name="sums"/>) reports its length for the tolerance at other sizes.
    /// </summary>
    private static Tensor ReduceDims(Tensor a, int[] dims, bool keepdim, ElementKind kind, RowFold fold, bool sums = true)
    {
        if (sums) FoldLengths.Report(Tensor.Numel([.. dims.Select(d => a.Shape[d])]));
        var result = Tensor.Allocate(ReducedShape(a, dims, keepdim), kind);
        var r = result.Data;
        if (dims.Length == 1)
        {
            var (outer, size, inner) = Around(a, dims[0]);
            if (inner == 1)
            {
                for (int o = 0; o < outer; o++) r[o] = (float)fold(a.Data.AsSpan(o * size, size));
                return result;
            }
            var line = new float[size];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    for (int k = 0; k < size; k++) line[k] = a.Data[(o * size + k) * inner + i];
                    r[o * inner + i] = (float)fold(line);
                }
            return result;
        }
        var kept = Enumerable.Range(0, a.Rank).Where(d => !dims.Contains(d));
        var order = kept.Concat(dims).ToArray();
        var moved = order.SequenceEqual(Enumerable.Range(0, a.Rank)) ? a : a.Permute(order);
        int length = 1;
        foreach (var d in dims) length *= a.Shape[d];
        for (int o = 0; o < r.Length; o++) r[o] = (float)fold(moved.Data.AsSpan(o * length, length));
        return result;
    }

    private static ElementKind Accumulated(Tensor a) => a.IsFloat ? ElementKind.Float : ElementKind.Int;

    private static double SumOf(ReadOnlySpan<float> row)
    {
        double acc = 0;
        foreach (var v in row) acc += v;
        return acc;
    }

    public static Tensor Sum(Tensor a, int[] dims, bool keepdim = false, ElementKind? kind = null) =>
        ReduceDims(a, dims, keepdim, kind ?? Accumulated(a), SumOf);

    public static Tensor Mean(Tensor a, int[] dims, bool keepdim = false)
    {
        if (!a.IsFloat) throw new TensorException("mean(): input dtype should be floating point");
        return ReduceDims(a, dims, keepdim, ElementKind.Float, row => SumOf(row) / row.Length);
    }

    public static Tensor Prod(Tensor a, int[] dims, bool keepdim = false, ElementKind? kind = null) =>
        ReduceDims(a, dims, keepdim, kind ?? Accumulated(a), row =>
        {
            double acc = 1;
            foreach (var v in row) acc *= v;
            return acc;
        });

    /// <summary>amax / amin: NaN propagates, as in torch.</summary>
    public static Tensor Extreme(Tensor a, int[] dims, bool keepdim, bool maximum)
    {
        if (a.Count == 0) throw new TensorException($"{(maximum ? "amax" : "amin")}(): expected a non-empty tensor");
        return ReduceDims(a, dims, keepdim, a.Kind, row =>
        {
            float best = row[0];
            foreach (var v in row)
            {
                if (float.IsNaN(v)) return float.NaN;
                if (maximum ? v > best : v < best) best = v;
            }
            return best;
        }, sums: false);
    }

    /// <summary>Variance with Bessel's <paramref name="correction"/> (1 = unbiased): the divisor is max(0, n - correction).</summary>
    public static Tensor Var(Tensor a, int[] dims, double correction = 1, bool keepdim = false, bool std = false)
    {
        if (!a.IsFloat) throw new TensorException("std and var only support floating point dtypes");
        return ReduceDims(a, dims, keepdim, ElementKind.Float, row =>
        {
            double mean = SumOf(row) / row.Length, squares = 0;
            foreach (var v in row) squares += (v - mean) * (v - mean);
            double variance = squares / Math.Max(0, row.Length - correction);
            return std ? Math.Sqrt(variance) : variance;
        });
    }

    /// <summary>log(sum(exp(x))), shifted by the maximum as torch does (an infinite maximum is not subtracted).</summary>
    public static Tensor LogSumExp(Tensor a, int[] dims, bool keepdim = false) =>
        ReduceDims(a, dims, keepdim, ElementKind.Float, row =>
        {
            if (row.Length == 0) return double.NegativeInfinity;
            double max = double.NegativeInfinity;
            foreach (var v in row) max = float.IsNaN(v) ? double.NaN : Math.Max(max, v);
            if (double.IsInfinity(max)) max = 0;
            double total = 0;
            foreach (var v in row) total += Math.Exp(v - max);
            return Math.Log(total) + max;
        });

    /// <summary>The vector p-norm over the dims: p = inf is the largest |x|, -inf the smallest, 0 the count of non-zeros.</summary>
    public static Tensor Norm(Tensor a, double p, int[] dims, bool keepdim = false)
    {
        if (!a.IsFloat) throw new TensorException("norm(): input dtype should be floating point");
        return ReduceDims(a, dims, keepdim, ElementKind.Float, row =>
        {
            if (double.IsPositiveInfinity(p) || double.IsNegativeInfinity(p))
            {
                if (row.Length == 0) return double.IsPositiveInfinity(p) ? 0 : double.PositiveInfinity;
                double best = Math.Abs(row[0]);
                foreach (var v in row)
                {
                    if (float.IsNaN(v)) return double.NaN;
                    best = p > 0 ? Math.Max(best, Math.Abs(v)) : Math.Min(best, Math.Abs(v));
                }
                return best;
            }
            double acc = 0;
            foreach (var v in row)
                acc += p == 0 ? (v != 0 ? 1 : 0) : p == 1 ? Math.Abs(v) : p == 2 ? (double)v * v : Math.Pow(Math.Abs(v), p);
            return p is 0 or 1 ? acc : p == 2 ? Math.Sqrt(acc) : Math.Pow(acc, 1 / p);
        });
    }

    /// <summary>torch.any / torch.all: whether any (every) element is non-zero (NaN counts as non-zero).</summary>
    public static Tensor AnyAll(Tensor a, int[] dims, bool keepdim, bool all) =>
        ReduceDims(a, dims, keepdim, ElementKind.Bool, row =>
        {
            foreach (var v in row)
                if (all ? v == 0 : v != 0) return all ? 0 : 1;
            return all ? 1 : 0;
        }, sums: false);

    public static Tensor CountNonzero(Tensor a, int[] dims) =>
        ReduceDims(a, dims, false, ElementKind.Int, row =>
        {
            int n = 0;
            foreach (var v in row) if (v != 0) n++;
            return n;
        }, sums: false);

    /// <summary>Maximum (or minimum) and its first index along a dim, as torch.max(x, dim); a NaN wins at its first place.</summary>
    public static (Tensor Values, Tensor Indices) ExtremeAlong(Tensor a, int dim, bool keepdim, bool maximum)
    {
        var (outer, size, inner) = Around(a, dim);
        if (size == 0) throw new TensorException("cannot find the maximum or minimum along a dimension of size 0");
        var values = Tensor.Allocate(ReducedShape(a, [dim], keepdim), a.Kind);
        var indices = Tensor.Allocate(ReducedShape(a, [dim], keepdim), ElementKind.Int);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bestValue = a.Data[o * size * inner + i];
                for (int k = 1; k < size && !float.IsNaN(bestValue); k++)
                {
                    float v = a.Data[(o * size + k) * inner + i];
                    if ((maximum ? v > bestValue : v < bestValue) || float.IsNaN(v)) { best = k; bestValue = v; }
                }
                values.Data[o * inner + i] = bestValue;
                indices.Data[o * inner + i] = best;
            }
        return (values, indices);
    }

    /// <summary>Running sum or product along a dim, accumulated in double as torch's CPU kernel does.</summary>
    public static Tensor Cumulative(Tensor a, int dim, bool product, ElementKind? kind = null)
    {
        var result = Tensor.Allocate(a.Shape, kind ?? Accumulated(a));
        var (outer, size, inner) = Around(a, dim);
        FoldLengths.Report(size);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double acc = product ? 1 : 0;
                for (int k = 0; k < size; k++)
                {
                    int at = (o * size + k) * inner + i;
                    acc = product ? acc * a.Data[at] : acc + a.Data[at];
                    result.Data[at] = (float)acc;
                }
            }
        return result;
    }
}
