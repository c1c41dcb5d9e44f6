namespace StepForge.Synthesis;

/// <summary>
/// What one search may spend. The budget is work, never time, so the same task and demonstrations give the same answer
/// on any machine at any load; <see cref="SafetySeconds"/> only stops a search that runs away, and such a search is
/// no answer at all (<see cref="SearchOutcome.Stopped"/>).
/// </summary>
/// <param name="MaxWork">Work spent evaluating candidates before giving up, in elements computed plus <see cref="ProgramSearch.StepWork"/> per
/// interpreter step of the fns (a measure of evaluation time that does not depend on the machine).</param>
/// <param name="MaxCandidates">Candidate steps evaluated (typed ones run on the task's data) before giving up.</param>
/// <param name="MaxValues">Distinct values kept in the pool before giving up.</param>
/// <param name="MaxKeptElements">Tensor elements the kept values may hold together (the search's memory).</param>
/// <param name="MoreAfterFirst">After the first verified program, the search goes on for this many times the candidates the first
/// took (within the budget) and returns the cheapest program it verified.</param>
/// <param name="SafetySeconds">Wall-clock safety net; a search stopped by it (or cancelled) gives no result.</param>
/// <param name="Solution">Which verified program to return in ranking order (0 = the cheapest): samples of one task differ.</param>
/// <param name="Ranking">Orders verified programs; <see cref="ProgramRanking.FewestCycles"/> (the cost model) when null.</param>
/// <param name="Progress">Told after each cost level: its number, values kept, candidates tried.</param>
public sealed record SearchOptions(
    long MaxWork = 400_000_000,
    long MaxCandidates = 300_000,
    int MaxValues = 60_000,
    long MaxKeptElements = 100_000_000,
    double MoreAfterFirst = 0.25,
    double SafetySeconds = 600,
    int Solution = 0,
    IProgramRanking? Ranking = null,
    Action<string>? Progress = null);

/// <summary>How a search ended.</summary>
public enum SearchOutcome
{
    /// <summary>A verified program was found.</summary>
    Found,

    /// <summary>The work budget was spent, or every program the search can build was tried, without a verified program.</summary>
    NotFound,

    /// <summary>Cancelled, or stopped by the wall-clock safety net: not an answer, the search must be run again.</summary>
    Stopped,
}

/// <summary>What a search did.</summary>
/// <param name="Tried">Candidate steps evaluated on the task's data.</param>
/// <param name="Kept">Distinct values in the pool at the end (values equal in type and data are kept once).</param>
/// <param name="Verified">Programs sent to the verifier; <paramref name="Rejected"/> of them failed it.</param>
/// <param name="Level">The last cost level enumerated (in half-bits of the search's grammar).</param>
/// <param name="Seconds">Wall-clock time, for information only: no decision depends on it.</param>
/// <param name="Work">Evaluation work spent (see <see cref="SearchOptions.MaxWork"/>).</param>
public sealed record SearchStats(long Tried, long Work, int Kept, int Verified, int Rejected, int Level, double Seconds);

/// <summary>A verified program and what it costs by the ranking's measures.</summary>
/// <param name="Ops">Operators in the program (Copy ops included).</param>
/// <param name="ElementsStreamed">Tensor elements all its streams carry at the task's sizes (after Partition, as the seeded data routes them).</param>
/// <param name="Error">The largest difference from the reference over the verifier's seeds (programs that agree with it within float32's
/// tolerance can still differ, say by where a small constant is added).</param>
/// <param name="Pieces">Learned pieces the program was built with, by name.</param>
public sealed record FoundProgram(string Program, int Ops, long ElementsStreamed, double Error, IReadOnlyList<string> Pieces);

/// <summary>The search's answer: the program it returns (already affine and verified), or none with the reason.</summary>
/// <param name="First">The first program verified, when the search went on to find a cheaper one.</param>
/// <param name="Found">Every program verified, cheapest first.</param>
/// <param name="Knowledge">What the search learned from its demonstrations and used, in one line.</param>
public sealed record SearchResult(SearchOutcome Outcome, FoundProgram? Answer, FoundProgram? First, IReadOnlyList<FoundProgram> Found, SearchStats Stats,
    string Message, string Knowledge)
{
    public string? Program => Answer?.Program;

    public bool IsFound => Outcome == SearchOutcome.Found;
}
