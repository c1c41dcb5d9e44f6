using System.Text.Json.Serialization;
using StepForge.Cost;
using StepForge.Learning;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary>Every JSON object the commands print, serialized by one source-generated context in the one style (<see cref="JsonStyle"/>).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RunJson))]
[JsonSerializable(typeof(ImproveJson))]
[JsonSerializable(typeof(ReportJson))]
[JsonSerializable(typeof(BenchJson))]
[JsonSerializable(typeof(SynthesizeJson))]
[JsonSerializable(typeof(CostTaskJson))]
[JsonSerializable(typeof(CostComparisonJson))]
public sealed partial class CliJson : JsonSerializerContext
{
    public static CliJson Style { get; } = new(JsonStyle.Options());
}

/// <summary>One row of a results table: a task or a group, for one experiment, model and setting.</summary>
/// <param name="PassAt">pass@k by k (as text: "1", "5").</param>
/// <param name="FastAt">fast_p by p (as text: "1", "1.5").</param>
/// <param name="Verdicts">How many samples got each verdict (correct, wrong, unsolved, parse, ...).</param>
public sealed record RowJson(
    string Name,
    string? Group,
    string Experiment,
    string Model,
    string Setting,
    int Tasks,
    int Solved,
    int Samples,
    int Correct,
    int UniqueCorrect,
    IReadOnlyDictionary<string, int> Verdicts,
    IReadOnlyDictionary<string, double> PassAt,
    long InputTokens,
    long OutputTokens,
    decimal? Cost,
    long? BestCycles,
    long? BestOnchipBytes,
    long? ReferenceCycles,
    long? ReferenceOnchipBytes,
    double? Speedup,
    IReadOnlyDictionary<string, double> FastAt,
    IReadOnlyList<ProgramJson> Programs);

/// <summary>A distinct correct program of a task and its cost.</summary>
public sealed record ProgramJson(string Program, int Samples, long Cycles, long OnchipBytes, long OffchipBytes, long Flops, double? Speedup);

/// <summary><c>run --json</c>.</summary>
public sealed record RunJson(
    string Experiment,
    string Model,
    string Setting,
    string Db,
    int Planned,
    int Skipped,
    int Finished,
    int Failed,
    long ModelCalls,
    int Retries,
    IReadOnlyList<RowJson> Tasks,
    IReadOnlyList<RowJson> Groups);

/// <summary><c>improve --json</c>: the iterations as the store keeps them, and each solved task.</summary>
public sealed record ImproveJson(string Experiment, string StopReason, IReadOnlyList<IterationRecord> Iterations, IReadOnlyList<SolvedTaskJson> Solved);

/// <summary>A task the loop solved: in which iteration, with how many of its samples correct, and the program it is shown with.</summary>
public sealed record SolvedTaskJson(string Task, int Iteration, int Correct, int Samples, string Program);

/// <summary><c>report --json</c>.</summary>
public sealed record ReportJson(
    IReadOnlyList<string> Stores,
    IReadOnlyList<double> FastP,
    IReadOnlyList<ExperimentJson> Experiments,
    IReadOnlyList<CurveJson> Curves,
    IReadOnlyList<SolvedJson> Solved,
    IReadOnlyList<RowJson> Tasks,
    IReadOnlyList<RowJson> Groups);

/// <summary>An experiment of a report and what defines it (null parts: not recorded).</summary>
/// <param name="Label">How the report names it (its name, with its store when the name is in several).</param>
/// <param name="Reconstructed">Rebuilt from the samples of a store made before definitions were recorded.</param>
public sealed record ExperimentJson(
    string Store,
    string Name,
    string Label,
    string? Command,
    string? Model,
    string? Setting,
    IReadOnlyList<string>? Tasks,
    IReadOnlyList<string>? TestTasks,
    IReadOnlyDictionary<string, string>? Options,
    bool Reconstructed,
    string? CommandLine,
    string? Version,
    string? Created);

/// <summary>A self-improvement run's learning curve: training and held-out tasks solved after each iteration.</summary>
public sealed record CurveJson(string Store, string Run, string Experiment, string Model, string Setting, int Tasks, int TestTasks, IReadOnlyList<PointJson> Points);

/// <summary>A learning curve's point: after an iteration, tokens spent so far and tasks solved so far (Pareto-optimal on training, on held-out tasks).</summary>
public sealed record PointJson(int Iteration, long InputTokens, long OutputTokens, int Solved, int SolvedTest, bool ParetoOptimal, bool ParetoOptimalTest);

/// <summary>Tasks solved per experiment, model and setting.</summary>
public sealed record SolvedJson(string Experiment, string Model, string Setting, int Solved, int Tasks);

/// <summary><c>bench verify --json</c>.</summary>
public sealed record BenchJson(
    int Threads,
    double SecondsPerTask,
    double MeanSingleThreadRate,
    double MeanMultiThreadRate,
    double RoundRobinRate,
    double MeanReuseRate,
    string? SlowestTask,
    IReadOnlyList<BenchTaskJson> Tasks,
    CollectorJson Collector);

/// <summary>The garbage collector a bench ran under (gen0_size: from DOTNET_GCgen0size, null when the runtime sizes it).</summary>
public sealed record CollectorJson(bool Server, int Heaps, bool Concurrent, long? Gen0Size, long Gen0MaxBudget, long RegionSize, string Description);

/// <summary>One task of <c>bench verify --json</c>.</summary>
public sealed record BenchTaskJson(
    string Task,
    double SingleThreadRate,
    double MultiThreadRate,
    double ReuseRate,
    double MedianMs,
    double WorstMs,
    long AllocatedBytesPerVerification,
    long Elements,
    double NsPerElement,
    BaselineJson? Baseline,
    double GcShare,
    double MultiGcShare,
    string? Failure);

/// <summary>The same task at the sizes growth is measured from.</summary>
public sealed record BaselineJson(double MedianMs, double MeanMs, long Elements);

/// <summary>One task of <c>synthesize --json</c>.</summary>
public sealed record SynthesizeJson(
    string Task, string Name, bool Found, string Outcome, double CpuSeconds, double Seconds, long Tried, long Work, int Kept, int Verified, int Rejected, int Level,
    int? Ops, long? ElementsStreamed, int? FirstOps, long? FirstElementsStreamed, IReadOnlyList<string>? Pieces, string Knowledge, string Message, string? Program);

/// <summary>A costed program of <c>cost --json</c>: its verdict, and its cost or why it has none.</summary>
public sealed record CostProgramJson(
    string Verdict,
    string Message,
    CostJson? Cost,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CostProblem);

/// <summary>One task of <c>cost --json</c>: its reference program, or a candidate alone (a task without impl:).</summary>
public sealed record CostTaskJson(
    string Task,
    string Name,
    MachineJson Machine,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] CostProgramJson? Reference,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] CostProgramJson? Candidate);

/// <summary>One task of <c>cost --json --impl</c>: the reference and the candidate, and the speedup (null when either has no cost).</summary>
public sealed record CostComparisonJson(string Task, string Name, MachineJson Machine, CostProgramJson Reference, CostProgramJson Candidate, double? Speedup);
