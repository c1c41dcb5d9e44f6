using System.Numerics;
using System.Runtime.InteropServices;

namespace StepForge.Tensors;

/// <summary>
/// The matrix product kernel behind matmul and einsum. Every output element is the sum of its products in order of
/// the contracted index, accumulated in double: a product of two floats is exact in double, so the result is the same
/// bit for bit whatever the vector width of the machine (SIMD runs across output columns, never across the sum).
/// </summary>
internal static class Gemm
{
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
        if (batches > 1 && bOffsets.All(o => o == bOffsets[0]) && aOffsets.Select((o, t) => o == aOffsets[0] + t * m * k).All(x => x))
        {
            Multiply(a, [aOffsets[0]], b, [bOffsets[0]], result, batches * m, n, k);
            return;
        }
        if (n < Vector<double>.Count)
        {
            Narrow(a, aOffsets, b, bOffsets, result, m, n, k);
            return;
        }
        // The (k, n) block of b in double, converted once for every batch that shares it.
        var block = new double[k * n];
        var acc = new double[n];
        int converted = -1;
        for (int t = 0; t < batches; t++)
        {
            if (bOffsets[t] != converted)
            {
                converted = bOffsets[t];
                var src = b.AsSpan(converted, k * n);
                for (int i = 0; i < src.Length; i++) block[i] = src[i];
            }
            int aBase = aOffsets[t];
            for (int i = 0; i < m; i++)
            {
                Array.Clear(acc);
                var row = a.AsSpan(aBase + i * k, k);
                for (int p = 0; p < k; p++) AddScaled(acc, block.AsSpan(p * n, n), row[p]);
                var dst = result.AsSpan((t * m + i) * n, n);
                for (int j = 0; j < n; j++) dst[j] = (float)acc[j];
            }
        }
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
    /// Few output columns (a matrix times a vector, a gate of E experts): vectors run across rows of a instead,
    /// with a transposed to (k, rows) once per block of rows.
    /// </summary>
    private static void Narrow(float[] a, int[] aOffsets, float[] b, int[] bOffsets, float[] result, int m, int n, int k)
    {
        const int Rows = 64;
        int batches = aOffsets.Length;
        var columns = new double[k * Rows];
        var acc = new double[Rows];
        for (int t = 0; t < batches; t++)
        {
            int aBase = aOffsets[t], bBase = bOffsets[t];
            for (int i0 = 0; i0 < m; i0 += Rows)
            {
                int rows = Math.Min(Rows, m - i0);
                for (int i = 0; i < rows; i++)
                {
                    int src = aBase + (i0 + i) * k;
                    for (int p = 0; p < k; p++) columns[p * rows + i] = a[src + p];
                }
                for (int j = 0; j < n; j++)
                {
                    var sum = acc.AsSpan(0, rows);
                    sum.Clear();
                    for (int p = 0; p < k; p++) AddScaled(sum, columns.AsSpan(p * rows, rows), b[bBase + p * n + j]);
                    for (int i = 0; i < rows; i++) result[(t * m + i0 + i) * n + j] = (float)sum[i];
                }
            }
        }
    }
}
