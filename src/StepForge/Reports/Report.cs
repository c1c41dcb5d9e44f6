using StepForge.Learning;

namespace StepForge.Reports;

/// <summary>One point of a learning curve: after an iteration, tokens spent so far and tasks solved so far.</summary>
/// <param name="ParetoOptimal">No earlier point (fewer tokens spent) solved as many training tasks: a step of the training frontier.</param>
/// <param name="ParetoOptimalTest">The same for the held-out tasks.</param>
public sealed record CurvePoint(int Iteration, long InputTokens, long OutputTokens, int Solved, int SolvedTest, bool ParetoOptimal, bool ParetoOptimalTest = false);

/// <summary>A self-improvement run's learning curve: tasks solved against input tokens, iteration by iteration.</summary>
/// <param name="Tasks">Training tasks.</param>
public sealed record LearningCurve(string Store, string Run, string Model, string Setting, int Tasks, IReadOnlyList<CurvePoint> Points)
{
    /// <summary>The experiment's label in the report (its name, with its store when the name is in several).</summary>
    public string Experiment { get; init; } = Run;

    /// <summary>Held-out tasks (sampled every iteration, never shown).</summary>
    public int TestTasks { get; init; }
}

/// <summary>Solved fraction of one experiment's model and setting.</summary>
public sealed record SolvedFraction(string Model, string Setting, int Solved, int Tasks)
{
    public string Experiment { get; init; } = "";

    public double Fraction => Tasks == 0 ? 0 : (double)Solved / Tasks;
}

/// <summary>An experiment as a report names and describes it.</summary>
/// <param name="Label">How the report names it: its name, with the store's file when the name is in several stores.</param>
/// <param name="Definition">What defines it (null for samples stored without one, by library code).</param>
public sealed record ReportedExperiment(string Store, string Name, string Label, ExperimentDefinition? Definition, string? CommandLine, string? Version, string? Created);

/// <summary>Which command, StepForge and time wrote a report.</summary>
public sealed record ReportOrigin(string CommandLine, string Version, DateTimeOffset Written);

/// <summary>Everything a report shows, computed from one or more experience stores.</summary>
/// <param name="FastPs">The p of the fast_p columns (1, 2 and any asked for).</param>
public sealed record Report(
    IReadOnlyList<string> Stores,
    IReadOnlyList<int> Ks,
    IReadOnlyList<ResultRow> Tasks,
    IReadOnlyList<ResultRow> Groups,
    IReadOnlyList<SolvedFraction> Solved,
    IReadOnlyList<LearningCurve> Curves,
    IReadOnlyList<double> FastPs)
{
    public IReadOnlyList<ReportedExperiment> Experiments { get; init; } = [];

    /// <summary>Who wrote the report; null when it was built by code without a command line.</summary>
    public ReportOrigin? Origin { get; init; }
}
