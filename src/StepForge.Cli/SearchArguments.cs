using System.CommandLine;
using StepForge.Synthesis;

namespace StepForge.Cli;

/// <summary>The built-in search's budget, shared by <c>synthesize</c>, <c>run</c> and <c>improve</c>.</summary>
public sealed class SearchArguments(ConsoleIo io)
{
    private static readonly SearchOptions Defaults = new();

    public Option<long> MaxWork { get; } = new("--max-work")
    {
        Description = "builtin:search: work per task and sample, in tensor elements computed plus 25 per interpreter step of the fns " +
                      "(the budget: work, not time, so answers do not depend on the machine or its load).",
        DefaultValueFactory = _ => Defaults.MaxWork,
    };

    public Option<long> MaxCandidates { get; } = new("--max-candidates")
    {
        Description = "builtin:search: candidate steps evaluated per task and sample.",
        DefaultValueFactory = _ => Defaults.MaxCandidates,
    };

    public Option<int> MaxValues { get; } = new("--max-values")
    {
        Description = "builtin:search: distinct values kept per search (bounds its memory).",
        DefaultValueFactory = _ => Defaults.MaxValues,
    };

    public Option<double> SafetySeconds { get; } = new("--safety-seconds")
    {
        Description = "builtin:search: wall-clock safety net per search; a search it stops gives no answer (run and improve record a failed call that the next run retries).",
        DefaultValueFactory = _ => Defaults.SafetySeconds,
    };

    private const string NotPositive = "--max-work, --max-candidates, --max-values and --safety-seconds must be positive";

    public void AddTo(Command command)
    {
        command.Add(MaxWork.Refusing(io, v => v < 1 ? NotPositive : null));
        command.Add(MaxCandidates.Refusing(io, v => v < 1 ? NotPositive : null));
        command.Add(MaxValues.Refusing(io, v => v < 1 ? NotPositive : null));
        command.Add(SafetySeconds.Refusing(io, v => v <= 0 ? NotPositive : null));
    }

    public SearchOptions Options(ParseResult parsed) =>
        Defaults with { MaxWork = parsed.GetValue(MaxWork), MaxCandidates = parsed.GetValue(MaxCandidates), MaxValues = parsed.GetValue(MaxValues), SafetySeconds = parsed.GetValue(SafetySeconds) };
}
