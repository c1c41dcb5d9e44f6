namespace StepForge.Tensors;

/// <summary>sort, argsort, median and kthvalue along a dim, with torch's CPU order among equal values.</summary>
public static partial class TensorMath
{
    /// <summary>Charges the comparisons of sorting (or selecting in) every line of a tensor along a dim of <paramref name="size"/>.</summary>
    private static void ChargeSorting(Tensor a, int size) =>
        Tensor.Budget?.ChargeWork((long)a.Count * Math.Max(1, 64 - long.LeadingZeroCount(size)));

    /// <summary>Copies the line of <paramref name="a"/> along a dim at (o, i) into <paramref name="line"/>.</summary>
    private static void ReadLine(Tensor a, int o, int i, int size, int inner, float[] line)
    {
        for (int k = 0; k < size; k++) line[k] = a.Data[(o * size + k) * inner + i];
    }

    /// <summary>
    /// torch.sort: values and indices along a dim, NaN counted largest. Stable keeps equal values in input order
    /// (std::stable_sort); otherwise equal values come in the order libstdc++'s std::sort leaves them, which is
    /// what torch's CPU kernel runs (see <see cref="TopKOrder.Sort"/>).
    /// </summary>
    public static (Tensor Values, Tensor Indices) Sort(Tensor a, int dim, bool descending, bool stable)
    {
        ChargeSorting(a, a.Shape[dim]);
        var values = Tensor.Allocate(a.Shape, a.Kind);
        var indices = Tensor.Allocate(a.Shape, ElementKind.Int);
        var (outer, size, inner) = Around(a, dim);
        var line = new float[size];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                ReadLine(a, o, i, size, inner, line);
                var order = stable ? TopKOrder.StableSort(line, descending) : TopKOrder.Sort(line, descending);
                for (int k = 0; k < size; k++)
                {
                    values.Data[(o * size + k) * inner + i] = line[order[k]];
                    indices.Data[(o * size + k) * inner + i] = order[k];
                }
            }
        return (values, indices);
    }

    /// <summary>
    /// torch.median(x, dim): the lower median and its index. torch orders (value, index) pairs, so among equal values
    /// the median's index is the one at its rank; a line holding NaN gives its first NaN.
    /// </summary>
    public static (Tensor Values, Tensor Indices) Median(Tensor a, int dim, bool keepdim)
    {
        ChargeSorting(a, a.Shape[dim]);
        var (outer, size, inner) = Around(a, dim);
        if (size == 0) throw new TensorException("median() cannot compute the median of a dimension of size 0");
        var values = Tensor.Allocate(ReducedShape(a, [dim], keepdim), a.Kind);
        var indices = Tensor.Allocate(ReducedShape(a, [dim], keepdim), ElementKind.Int);
        var line = new float[size];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                ReadLine(a, o, i, size, inner, line);
                int nan = Array.FindIndex(line, float.IsNaN);
                int at = nan >= 0 ? nan : TopKOrder.StableSort(line, descending: false)[(size - 1) / 2];
                values.Data[o * inner + i] = line[at];
                indices.Data[o * inner + i] = at;
            }
        return (values, indices);
    }

    /// <summary>torch.kthvalue: the k-th smallest (1-based) and its index, with the index torch's quickselect leaves among equal values.</summary>
    public static (Tensor Values, Tensor Indices) KthValue(Tensor a, int k, int dim, bool keepdim)
    {
        ChargeSorting(a, a.Shape[dim]);
        var (outer, size, inner) = Around(a, dim);
        if (k < 1 || k > size) throw new TensorException($"kthvalue(): k = {k} is out of range for a dimension of size {size}");
        var values = Tensor.Allocate(ReducedShape(a, [dim], keepdim), a.Kind);
        var indices = Tensor.Allocate(ReducedShape(a, [dim], keepdim), ElementKind.Int);
        var line = new float[size];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                ReadLine(a, o, i, size, inner, line);
                int at = TopKOrder.QuickSelect(line, k - 1);
                values.Data[o * inner + i] = line[at];
                indices.Data[o * inner + i] = at;
            }
        return (values, indices);
    }
}
