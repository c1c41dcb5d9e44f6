using System.Globalization;
using StepForge.Diagnostics;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <summary>How one output component compared with the reference.</summary>
/// <param name="Rule">Which comparison rule failed (<c>compare.allclose</c> or <c>compare.nonfinite</c>), null when close.</param>
public sealed record OutputCheck(string Name, int Component, double MaxAbsError, bool Close, string? Detail, string? Rule = null);

/// <summary>
/// When an actual value is close to an expected one: |actual - expected| &lt;= Absolute + Relative * |expected|.
/// </summary>
/// <param name="Scale">How many times torch.testing's float32 tolerance this is (1 at a task's own sizes).</param>
public sealed record Tolerance(double Relative, double Absolute, double Scale)
{
    /// <summary>torch.testing.assert_close's float32 tolerance, which step-semantics.md prescribes.</summary>
    public static readonly Tolerance Float32 = new(1.3e-6, 1e-5, 1);

    /// <summary>Above this factor a verdict warns that differences near float32 precision go unseen.</summary>
    public const double WideFactor = 16;

    /// <summary>
    /// The tolerance for a run at other sizes whose sums are <paramref name="growth"/> times longer than at the task's
    /// own sizes (the largest such ratio over the sums the program and the reference compute). The worst-case rounding
    /// error of a float32 sum grows linearly with its length (Higham's γ_n = n·u), so both tolerances grow by that
    /// ratio; a dimension nothing sums over widens nothing, and at the task's own sizes this is <see cref="Float32"/>.
    /// </summary>
    public static Tolerance Widened(double growth) =>
        growth <= 1 ? Float32 : new Tolerance(Float32.Relative * growth, Float32.Absolute * growth, growth);

    /// <summary>The largest difference allowed from <paramref name="expected"/>.</summary>
    public double Bound(double expected) => Absolute + Relative * Math.Abs(expected);

    public bool Allows(double difference, double expected) => difference <= Bound(expected);

    /// <summary><see cref="Scale"/> as verdicts print it.</summary>
    public string ScaleText => Scale.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Why the tolerance is wider than float32's, for verdict texts.</summary>
    public string Why => Scale <= 1 ? "" :
        "the longest sums of the program or the reference are that many times longer than at the task's sizes" +
        (Scale > WideFactor ? $"; above {WideFactor:0}x, differences near float32 precision go unseen: verify at the task's sizes to see them" : "");

    public override string ToString()
    {
        var rule = $"|actual - expected| <= {G(Absolute)} + {G(Relative)} * |expected|";
        return Scale == 1 ? rule : $"{rule} (torch.testing's float32 tolerance x {ScaleText}: {Why})";
    }

    private static string G(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
}

/// <summary>
/// torch.testing.assert_close for float32, element by element: an element is close when it equals the reference
/// (so an infinity is matched only by the same infinity), or when both are NaN and NaNs are declared equal (the
/// task's <c>equal_nan</c>, false by default as in assert_close), or when the difference is finite and within the
/// <see cref="Tolerance"/>. So a NaN or infinity on either side is never close to a finite value.
/// </summary>
public static class OutputComparison
{
    public static OutputCheck Compare(string name, int component, Tensor expected, Tensor actual, bool equalNan = false, Tolerance? tolerance = null)
    {
        var tol = tolerance ?? Tolerance.Float32;
        if (!expected.Shape.SequenceEqual(actual.Shape))
            return new OutputCheck(name, component, double.PositiveInfinity, false,
                $"shape ({string.Join(", ", actual.Shape)}) differs from the reference's ({string.Join(", ", expected.Shape)})", Rules.CompareAllClose.Id);
        double maxAbs = 0, worstExcess = double.NegativeInfinity;
        int worst = -1, firstNonFinite = -1, mismatched = 0;
        var e = expected.Data;
        var a = actual.Data;
        for (int i = 0; i < e.Length; i++)
        {
            float ei = e[i], ai = a[i];
            if (ei == ai || equalNan && float.IsNaN(ei) && float.IsNaN(ai)) continue;
            double diff = Math.Abs((double)ai - ei);
            if (!double.IsFinite(diff))
            {
                // Infinite or NaN: never within a tolerance (isclose keeps only finite differences).
                maxAbs = double.PositiveInfinity;
                mismatched++;
                if (firstNonFinite < 0) firstNonFinite = i;
                continue;
            }
            maxAbs = Math.Max(maxAbs, diff);
            double excess = diff - tol.Bound(ei);
            if (excess > 0) mismatched++;
            if (excess > worstExcess) { worstExcess = excess; worst = i; }
        }
        if (mismatched == 0) return new OutputCheck(name, component, maxAbs, true, null, null);
        if (firstNonFinite >= 0)
        {
            float ef = e[firstNonFinite], af = a[firstNonFinite];
            var why = float.IsNaN(ef) && float.IsNaN(af)
                ? " (NaN equals NaN only when the task sets equal_nan: true, as assert_close's equal_nan)"
                : float.IsFinite(ef) ? " (a non-finite value where the reference is finite)"
                : " (a NaN or infinity in the reference must be matched exactly)";
            return new OutputCheck(name, component, maxAbs, false,
                $"{mismatched} of {e.Length} elements differ; first non-finite mismatch at index ({string.Join(", ", Unravel(firstNonFinite, expected.Shape))}): " +
                $"expected {F(ef)}, actual {F(af)}{why}", Rules.CompareNonFinite.Id);
        }
        return new OutputCheck(name, component, maxAbs, false,
            $"{mismatched} of {e.Length} elements differ; worst at index ({string.Join(", ", Unravel(worst, expected.Shape))}): " +
            $"expected {F(e[worst])}, actual {F(a[worst])}", Rules.CompareAllClose.Id);
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

    private static string F(float v) => float.IsNaN(v) ? "nan" : float.IsPositiveInfinity(v) ? "inf" : float.IsNegativeInfinity(v) ? "-inf"
        : v.ToString("G9", CultureInfo.InvariantCulture);
}
