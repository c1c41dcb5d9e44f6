using System.Globalization;
using StepForge.Learning;

namespace StepForge.Cli;

/// <summary>The last line of run and improve: what was solved, what it spent, where it is kept and where its report is.</summary>
public static class ClosingLine
{
    /// <param name="solved">What was solved, e.g. "20/27 training and 1/1 test tasks solved".</param>
    /// <param name="samples">The experiment's samples, for their cost (unknown when one has none).</param>
    /// <param name="report">The report page written, or null.</param>
    public static string Text(string solved, long inputTokens, long outputTokens, IReadOnlyList<StoredSample> samples, string store, string? report)
    {
        var cost = samples.Any(s => s.Cost is null) ? "cost unknown (give --price IN,OUT)"
            : "cost $" + samples.Sum(s => s.Cost!.Value).ToString("0.0000", CultureInfo.InvariantCulture);
        return $"done: {solved}; {inputTokens.ToString("N0", CultureInfo.InvariantCulture)} tokens in, {outputTokens.ToString("N0", CultureInfo.InvariantCulture)} out; {cost}; " +
            $"store {store}; report " + (report ?? $"none (stepforge report {store} --html DIR writes one)");
    }
}
