using System.Globalization;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <summary>How one output component compared with the reference.</summary>
public sealed record OutputCheck(string Name, int Component, double MaxAbsError, bool Close, string? Detail);

/// <summary>
/// When an actual value is close to an expected one: |actual - expected| &lt;= Absolute + Relative * |expected|.
/// </summary>
/// <param name="Scale">How many times torch.testing's float32 tolerance this is (1 at a task's own sizes).</param>
public sealed record Tolerance(double Relative, double Absolute, double Scale)
{
    /// <summary>torch.testing.assert_close's float32 tolerance, which step-semantics.md prescribes.</summary>
    public static readonly Tolerance Float32 = new(1.3e-6, 1e-5, 1);

    /// <summary>
    /// The tolerance for a run at other sizes. The spec's tolerance is calibrated at the task's own sizes; a run that
    /// makes dimensions s times larger makes the sums behind each output up to s times longer (and their terms
    /// larger), and the worst-case rounding error of a float32 sum grows linearly with its length (Higham's
    /// γ_n = n·u). So both tolerances are multiplied by s, the largest ratio of a run size to the task's size,
    /// never by less than 1: at the task's sizes, or smaller ones, this is exactly <see cref="Float32"/>.
    /// </summary>
    public static Tolerance ForSizes(IReadOnlyDictionary<string, long> taskSizes, IReadOnlyDictionary<string, long>? runSizes)
    {
        double scale = 1;
        if (runSizes is not null)
            foreach (var (symbol, size) in runSizes)
                if (taskSizes.TryGetValue(symbol, out var own) && own > 0)
                    scale = Math.Max(scale, (double)size / own);
        return scale == 1 ? Float32 : new Tolerance(Float32.Relative * scale, Float32.Absolute * scale, scale);
    }

    /// <summary><see cref="ForSizes"/> over the symbols the task's streams and fns use: a size it does not use changes nothing.</summary>
    public static Tolerance ForTask(TaskSpec task, IReadOnlyDictionary<string, long>? runSizes)
    {
        if (runSizes is not { Count: > 0 }) return Float32;
        var used = task.DimensionSymbols();
        return ForSizes(task.Sizes.Where(kv => used.Contains(kv.Key)).ToDictionary(), runSizes);
    }

    /// <summary>The largest difference allowed from <paramref name="expected"/>.</summary>
    public double Bound(double expected) => Absolute + Relative * Math.Abs(expected);

    public bool Allows(double difference, double expected) => difference <= Bound(expected);

    /// <summary><see cref="Scale"/> as verdicts print it.</summary>
    public string ScaleText => Scale.ToString("0.##", CultureInfo.InvariantCulture);

    public override string ToString()
    {
        var rule = $"|actual - expected| <= {G(Absolute)} + {G(Relative)} * |expected|";
        return Scale == 1 ? rule : $"{rule} (torch.testing's float32 tolerance x {ScaleText}, the largest size ratio to the task's sizes)";
    }

    private static string G(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
}

/// <summary>
/// torch.testing.assert_close: every element within the <see cref="Tolerance"/>; NaN is never close unless
/// <c>equalNan</c> (as assert_close's equal_nan).
/// </summary>
public static class OutputComparison
{
    public static OutputCheck Compare(string name, int component, Tensor expected, Tensor actual, bool equalNan = false, Tolerance? tolerance = null)
    {
        var tol = tolerance ?? Tolerance.Float32;
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
            double excess = diff - tol.Bound(e);
            if (excess > worstExcess) { worstExcess = excess; worst = i; }
        }
        if (worst < 0 || worstExcess <= 0) return new OutputCheck(name, component, maxAbs, true, null);
        var index = Unravel(worst, expected.Shape);
        int mismatched = Enumerable.Range(0, expected.Count).Count(i => !tol.Allows(Difference(i), expected.Data[i]));
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
