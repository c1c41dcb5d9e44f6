using System.Numerics;
using System.Runtime.InteropServices;

namespace StepForge.Tensors;

/// <summary>
/// The matrix product kernel behind matmul and einsum. Every output element is the sum of its products in order of
/// the contracted index, accumulated in double: a product of two floats is exact in double, so the result is the same
/// bit for bit whatever the vector width of the machine (SIMD runs across output elements, never along a sum).
/// Scratch memory is a few tiles, whatever the sizes.
/// </summary>
internal static class Gemm
{
    /// <summary>
    /// This thread's accumulators, grown to the largest product it has met (at most a block of rows by a block of
    /// contracted indices, about 140 KB): a matrix product runs at every step of a fold, and fresh scratch each time
    /// was a good part of what verification allocated. Not cleared: each product clears what it reads.
    /// </summary>
    [ThreadStatic] private static double[]? _scratch;

    private static Span<double> Scratch(int length)
    {
        if (_scratch is not { } scratch || scratch.Length < length) _scratch = scratch = new double[length];
        return scratch.AsSpan(0, length);
    }

    /// <summary>Output columns per tile: the tile of b (k rows of it) is read once per row of a, from cache.</summary>
    private const int ColumnTile = 512;

    /// <summary>Rows of a per block when vectors run across rows, and contracted indices per transposed block.</summary>
    private const int RowBlock = 64, DepthBlock = 256;

    /// <summary>
    /// <paramref name="result"/>[t, i, j] = sum over p of a[aOffsets[t] + i*k + p] * b[bOffsets[t] + p*n + j], for t
    /// in batches: row-major (m, k) blocks of a times (k, n) blocks of b.
    /// </summary>
    public static void Multiply(float[] a, int[] aOffsets, float[] b, int[] bOffsets, float[] result, int m, int n, int k)
    {
        int batches = aOffsets.Length;
        if (m == 0 || n == 0 || batches == 0) return;
        if (k == 0)
        {
            Array.Clear(result, 0, batches * m * n);
            return;
        }
        // Every batch against one block of b, with a's blocks back to back (a batched fn times a weight): one tall product.
        if (batches > 1 && SharedRight(aOffsets, bOffsets, m * k))
        {
            Multiply(a, [aOffsets[0]], b, [bOffsets[0]], result, batches * m, n, k);
            return;
        }
        if (n < Vector<double>.Count * 2)
        {
            Narrow(a, aOffsets, b, bOffsets, result, m, n, k);
            return;
        }
        var acc = Scratch(Math.Min(n, ColumnTile));
        for (int t = 0; t < batches; t++)
        {
            int aBase = aOffsets[t], bBase = bOffsets[t];
            for (int j0 = 0; j0 < n; j0 += ColumnTile)
            {
                int width = Math.Min(ColumnTile, n - j0);
                var sum = acc[..width];
                for (int i = 0; i < m; i++)
                {
                    sum.Clear();
                    var row = a.AsSpan(aBase + i * k, k);
                    for (int p = 0; p < k; p++) AddScaled(sum, b.AsSpan(bBase + p * n + j0, width), row[p]);
                    Narrowed(sum, result.AsSpan((t * m + i) * n + j0, width));
                }
            }
        }
    }

    private static bool SharedRight(int[] aOffsets, int[] bOffsets, int aBlock)
    {
        for (int t = 1; t < aOffsets.Length; t++)
            if (bOffsets[t] != bOffsets[0] || aOffsets[t] != aOffsets[0] + t * aBlock) return false;
        return true;
    }

    /// <summary>Each double rounded to float.</summary>
    private static void Narrowed(ReadOnlySpan<double> values, Span<float> destination)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var source = MemoryMarshal.Cast<double, Vector<double>>(values);
            var target = MemoryMarshal.Cast<float, Vector<float>>(destination);
            int pairs = Math.Min(target.Length, source.Length / 2);
            for (int v = 0; v < pairs; v++) target[v] = Vector.Narrow(source[2 * v], source[2 * v + 1]);
            j = pairs * Vector<float>.Count;
        }
        for (; j < destination.Length; j++) destination[j] = (float)values[j];
    }

    /// <summary>acc += s * x, lane by lane, x widened to double.</summary>
    private static void AddScaled(Span<double> acc, ReadOnlySpan<float> x, double s)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vs = new Vector<double>(s);
            var accVectors = MemoryMarshal.Cast<double, Vector<double>>(acc);
            var xVectors = MemoryMarshal.Cast<float, Vector<float>>(x);
            int pairs = Math.Min(xVectors.Length, accVectors.Length / 2);
            for (int v = 0; v < pairs; v++)
            {
                Vector.Widen(xVectors[v], out var low, out var high);
                accVectors[2 * v] += low * vs;
                accVectors[2 * v + 1] += high * vs;
            }
            j = pairs * Vector<float>.Count;
        }
        for (; j < acc.Length; j++) acc[j] += x[j] * s;
    }

    /// <summary>acc += s * x, lane by lane.</summary>
    private static void AddScaled(Span<double> acc, ReadOnlySpan<double> x, double s)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vs = new Vector<double>(s);
            var accVectors = MemoryMarshal.Cast<double, Vector<double>>(acc);
            var xVectors = MemoryMarshal.Cast<double, Vector<double>>(x);
            for (int v = 0; v < accVectors.Length; v++) accVectors[v] += xVectors[v] * vs;
            j = accVectors.Length * Vector<double>.Count;
        }
        for (; j < acc.Length; j++) acc[j] += x[j] * s;
    }

    /// <summary>
    /// Few output columns (a matrix times a vector, a gate over a few experts): vectors run across rows of a, which
    /// is transposed a block of rows by a block of contracted indices at a time.
    /// </summary>
    private static void Narrow(float[] a, int[] aOffsets, float[] b, int[] bOffsets, float[] result, int m, int n, int k)
    {
        int batches = aOffsets.Length;
        int columnsLength = Math.Min(k, DepthBlock) * Math.Min(m, RowBlock);
        var scratch = Scratch(columnsLength + n * Math.Min(m, RowBlock));
        Span<double> columns = scratch[..columnsLength], acc = scratch[columnsLength..];
        for (int t = 0; t < batches; t++)
        {
            int aBase = aOffsets[t], bBase = bOffsets[t];
            for (int i0 = 0; i0 < m; i0 += RowBlock)
            {
                int rows = Math.Min(RowBlock, m - i0);
                acc.Clear();
                for (int p0 = 0; p0 < k; p0 += DepthBlock)
                {
                    int depth = Math.Min(DepthBlock, k - p0);
                    for (int i = 0; i < rows; i++)
                    {
                        int src = aBase + (i0 + i) * k + p0;
                        for (int p = 0; p < depth; p++) columns[p * rows + i] = a[src + p];
                    }
                    for (int j = 0; j < n; j++)
                    {
                        var sum = acc.Slice(j * rows, rows);
                        for (int p = 0; p < depth; p++) AddScaled(sum, columns.Slice(p * rows, rows), b[bBase + (p0 + p) * n + j]);
                    }
                }
                for (int j = 0; j < n; j++)
                    for (int i = 0; i < rows; i++) result[(t * m + i0 + i) * n + j] = (float)acc[j * rows + i];
            }
        }
    }
}
