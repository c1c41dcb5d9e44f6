using System.Globalization;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <summary>How one output component compared with the reference.</summary>
public sealed record OutputCheck(string Name, int Component, double MaxAbsError, bool Close, string? Detail);

/// <summary>
/// torch.testing.assert_close for float32: |actual - expected| &lt;= atol + rtol * |expected|; NaN is never close
/// unless <c>equalNan</c> (as assert_close's equal_nan).
/// </summary>
public static class OutputComparison
{
    public const double RelativeTolerance = 1.3e-6;
    public const double AbsoluteTolerance = 1e-5;

    public static OutputCheck Compare(string name, int component, Tensor expected, Tensor actual, bool equalNan = false)
    {
        if (!expected.Shape.SequenceEqual(actual.Shape))
            return new OutputCheck(name, component, double.PositiveInfinity, false,
                $"shape ({string.Join(", ", actual.Shape)}) differs from the reference's ({string.Join(", ", expected.Shape)})");
        double maxAbs = 0, worstExcess = double.NegativeInfinity;
        int worst = -1;
        double Difference(int i)
        {
            double e = expected.Data[i], a = actual.Data[i];
            if (e == a || equalNan && double.IsNaN(e) && double.IsNaN(a)) return 0;
            double d = Math.Abs(a - e);
            return double.IsNaN(d) ? double.PositiveInfinity : d;
        }
        for (int i = 0; i < expected.Count; i++)
        {
            double e = expected.Data[i];
            double diff = Difference(i);
            maxAbs = Math.Max(maxAbs, diff);
            double excess = diff - (AbsoluteTolerance + RelativeTolerance * Math.Abs(e));
            if (excess > worstExcess) { worstExcess = excess; worst = i; }
        }
        if (worst < 0 || worstExcess <= 0) return new OutputCheck(name, component, maxAbs, true, null);
        var index = Unravel(worst, expected.Shape);
        int mismatched = Enumerable.Range(0, expected.Count).Count(i => Difference(i) > AbsoluteTolerance + RelativeTolerance * Math.Abs(expected.Data[i]));
        return new OutputCheck(name, component, maxAbs, false,
            $"{mismatched} of {expected.Count} elements differ; worst at index ({string.Join(", ", index)}): " +
            $"expected {F(expected.Data[worst])}, actual {F(actual.Data[worst])}");
    }

    private static int[] Unravel(int flat, int[] shape)
    {
        var index = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }

    private static string F(float v) => v.ToString("G9", CultureInfo.InvariantCulture);
}
