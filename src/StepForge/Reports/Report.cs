using StepForge.Learning;

namespace StepForge.Reports;

/// <summary>One point of a learning curve: after an iteration, tokens spent so far and tasks solved so far.</summary>
/// <param name="ParetoOptimal">No point spends fewer (or as many) tokens and solves as many or more tasks.</param>
public sealed record CurvePoint(int Iteration, long InputTokens, long OutputTokens, int Solved, int SolvedTest, bool ParetoOptimal);

/// <summary>A self-improvement run's learning curve: tasks solved against input tokens, iteration by iteration.</summary>
public sealed record LearningCurve(string Store, string Run, string Model, string Setting, int Tasks, IReadOnlyList<CurvePoint> Points);

/// <summary>Solved fraction of one model in one setting, for the side-by-side chart.</summary>
public sealed record SolvedFraction(string Model, string Setting, int Solved, int Tasks)
{
    public double Fraction => Tasks == 0 ? 0 : (double)Solved / Tasks;
}

/// <summary>Everything a report shows, computed from one or more experience stores.</summary>
/// <param name="FastPs">The p of the fast_p columns (1, 2 and any asked for).</param>
public sealed record Report(
    IReadOnlyList<string> Stores,
    IReadOnlyList<int> Ks,
    IReadOnlyList<ResultRow> Tasks,
    IReadOnlyList<ResultRow> Groups,
    IReadOnlyList<SolvedFraction> Solved,
    IReadOnlyList<LearningCurve> Curves,
    IReadOnlyList<double> FastPs);
