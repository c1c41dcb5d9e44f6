using StepForge.Tasks;

namespace StepForge.Agents;

/// <summary>Which sample this is: the store's key, and the reason a rerun can skip it.</summary>
public sealed record SampleKey(string Experiment, string Task, string Model, string Setting, double Temperature, int Index);

/// <summary>Everything about one finished sample.</summary>
/// <param name="Impl">The program extracted from the proposer's (last) answer; null when none was found.</param>
/// <param name="FinalImpl">The program that was verified (after the guardian).</param>
/// <param name="Fingerprint">The program's structure (<see cref="ProgramFingerprint"/>), for counting unique solutions.</param>
/// <param name="Rounds">Proposer answers used: 1, plus one per feedback round.</param>
public sealed record SampleRecord(
    SampleKey Key,
    string? Group,
    Prompt Prompt,
    string Response,
    string? GuardianResponse,
    string? Impl,
    string? FinalImpl,
    Verdict Verdict,
    string? Fingerprint,
    long InputTokens,
    long OutputTokens,
    bool UsageEstimated,
    decimal? Cost,
    double ModelSeconds,
    double VerifySeconds,
    int Calls,
    int Retries,
    int Rounds,
    bool Cached);

/// <summary>Where samples go as they finish (the experience store), and what it already holds.</summary>
public interface ISampleLog
{
    bool IsDone(SampleKey key);

    /// <summary>Stores a finished sample durably before returning.</summary>
    void Record(SampleRecord record);

    /// <summary>Notes a sample whose model call failed; it stays undone, so a rerun asks again.</summary>
    void RecordError(SampleKey key, string message);
}
