using StepForge.Tensors;

namespace StepForge.Tests.Tensors;

/// <summary>
/// matmul and einsum run on a SIMD kernel that must give the same bits as the plain definition: each output the sum of
/// its products in order of the contracted index, accumulated in double and rounded once. Shapes cover the wide kernel,
/// its column tiles, the narrow one (vectors across rows), shared weights, broadcast batches and the einsum forms that
/// become a matrix product.
/// </summary>
public class ProductKernelTests
{
    private static Tensor Random(Random random, params int[] shape)
    {
        var t = Tensor.Allocate(shape);
        for (int i = 0; i < t.Count; i++) t.Data[i] = (float)(random.NextDouble() * 4 - 2) * (i % 11 == 0 ? 1e-3f : 1f);
        return t;
    }

    /// <summary>Plain matmul of (batches, m, k) by (batches, k, n) or by one (k, n), by the definition.</summary>
    private static float[] Plain(Tensor a, Tensor b)
    {
        int batches = a.Shape[0], m = a.Shape[1], k = a.Shape[2], n = b.Shape[^1];
        int bBlock = k * n;
        var result = new float[batches * m * n];
        for (int t = 0; t < batches; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double acc = 0;
                    for (int p = 0; p < k; p++)
                        acc += (double)a.Data[(t * m + i) * k + p] * b.Data[(b.Rank == 2 ? 0 : t * bBlock) + p * n + j];
                    result[(t * m + i) * n + j] = (float)acc;
                }
        return result;
    }

    [Theory]
    [InlineData(1, 3, 5, 7)]
    [InlineData(2, 4, 9, 16)]
    [InlineData(3, 5, 17, 1)]
    [InlineData(1, 70, 300, 3)]
    [InlineData(1, 2, 130, 1100)]
    [InlineData(4, 1, 1, 33)]
    [InlineData(2, 7, 0, 5)]
    public void Matmul_GivesTheBitsOfTheDefinition(int batches, int m, int k, int n)
    {
        var random = new Random(batches * 1000 + m * 100 + k * 10 + n);
        var a = Random(random, batches, m, k);
        var b = Random(random, batches, k, n);
        Assert.Equal(Plain(a, b), TensorMath.Matmul(a, b).Data);
        // One weight shared by every batch: computed as one tall product.
        var w = Random(random, k, n);
        Assert.Equal(Plain(a, w), TensorMath.Matmul(a, w).Data);
    }

    [Fact]
    public void Matmul_OfVectors_MatchesTheDefinition()
    {
        var random = new Random(7);
        var x = Random(random, 1000);
        var y = Random(random, 1000);
        double acc = 0;
        for (int p = 0; p < 1000; p++) acc += (double)x.Data[p] * y.Data[p];
        Assert.Equal((float)acc, TensorMath.Matmul(x, y).Item());
    }

    /// <summary>einsum by its definition: for each output element, products summed in row-major order of the other letters (first appearance).</summary>
    private static float[] PlainEinsum(string left, string right, string output, Tensor a, Tensor b)
    {
        var sizes = new Dictionary<char, int>();
        for (int i = 0; i < left.Length; i++) sizes[left[i]] = a.Shape[i];
        for (int i = 0; i < right.Length; i++) sizes[right[i]] = b.Shape[i];
        var letters = output.Concat(sizes.Keys.Where(c => !output.Contains(c))).ToArray();
        var index = new Dictionary<char, int>();
        int outCount = output.Aggregate(1, (x, c) => x * sizes[c]);
        int reduce = letters.Skip(output.Length).Aggregate(1, (x, c) => x * sizes[c]);
        var result = new float[outCount];
        int Offset(string named, Tensor t)
        {
            int at = 0;
            for (int i = 0; i < named.Length; i++) at = at * t.Shape[i] + index[named[i]];
            return at;
        }
        for (int o = 0; o < outCount; o++)
        {
            double acc = 0;
            for (int r = 0; r < reduce; r++)
            {
                long flat = (long)o * reduce + r;
                for (int l = letters.Length - 1; l >= 0; l--)
                {
                    index[letters[l]] = (int)(flat % sizes[letters[l]]);
                    flat /= sizes[letters[l]];
                }
                acc += (double)a.Data[Offset(left, a)] * b.Data[Offset(right, b)];
            }
            result[o] = (float)acc;
        }
        return result;
    }

    [Theory]
    [InlineData("mkn,mkd->mnd", new[] { 3, 5, 4 }, new[] { 3, 5, 6 })]
    [InlineData("mnk,ekh->emnh", new[] { 2, 3, 5 }, new[] { 4, 5, 3 })]
    [InlineData("emnh,ehk->emnk", new[] { 2, 3, 4, 5 }, new[] { 2, 5, 6 })]
    [InlineData("zi,zj->zij", new[] { 5, 4 }, new[] { 5, 9 })]
    [InlineData("ij,jk->ki", new[] { 4, 6 }, new[] { 6, 3 })]
    [InlineData("abc,cba->b", new[] { 2, 3, 4 }, new[] { 4, 3, 2 })]
    [InlineData("i,i->", new[] { 40 }, new[] { 40 })]
    public void Einsum_OfTwoOperands_GivesTheBitsOfItsDefinition(string equation, int[] left, int[] right)
    {
        var random = new Random(equation.Length * 31 + left.Sum());
        var a = Random(random, left);
        var b = Random(random, right);
        var parts = equation.Split("->");
        var inputs = parts[0].Split(',');
        var expected = PlainEinsum(inputs[0], inputs[1], parts[1], a, b);
        Assert.Equal(expected, TensorMath.Einsum(equation, [a, b]).Data);
    }

    [Fact]
    public void Einsum_ChargesItsMultiplyAddsAndReportsItsSumLength()
    {
        var random = new Random(3);
        var a = Random(random, 4, 6, 5);
        var b = Random(random, 4, 6, 7);
        var budget = new ExecutionBudget();
        var folds = new FoldLengths();
        using (Tensor.Use(budget))
        using (FoldLengths.Track(folds))
            TensorMath.Einsum("mkn,mkd->mnd", [a, b]);
        Assert.True(budget.WorkUsed >= 4 * 6 * 5 * 7, $"charged {budget.WorkUsed}");
        Assert.Equal(6, folds.Longest.Values.Single());
    }
}
