using StepForge.Tasks;

namespace StepForge.Agents;

/// <summary>What a proposer is asked: a program for this task, given these demonstrations.</summary>
/// <param name="Feedback">The verdict of the proposer's last answer in a feedback round, as text; null in the first round.</param>
/// <param name="Round">0 for the first answer, then one more per feedback round.</param>
public sealed record ProposalRequest(
    TaskSpec Task,
    Setting Setting,
    IReadOnlyList<Demonstration> Demonstrations,
    string? Feedback,
    double Temperature,
    int SampleIndex,
    int Round,
    int MaxTokens);

/// <summary>A proposer's answer: the request as it was put, the text, the program in it (or why there is none), and what it cost.</summary>
/// <param name="Prompt">What was asked, as the store keeps it (for the search: the task and demonstrations it was given).</param>
/// <param name="Impl">The program proposed; null when there is none.</param>
/// <param name="Problem">Why there is no program: the answer had none (a parse verdict) or the proposer found none.</param>
/// <param name="Unsolved">The proposer looked and found no program (the search's "not found"): an unsolved verdict, not a parse one.</param>
/// <param name="Cached">Taken from a cache: nothing was asked.</param>
public sealed record Proposal(
    Prompt Prompt,
    string Response,
    string? Impl,
    string? Problem,
    bool Unsolved,
    long InputTokens,
    long OutputTokens,
    bool UsageEstimated,
    decimal? Cost,
    double Seconds,
    int Retries,
    bool Cached);

/// <summary>
/// Something that writes a program for a task given demonstrations (solved tasks with verified programs): an LLM
/// behind a prompt (<see cref="LlmProposer"/>) or StepForge's own search (<see cref="SearchProposer"/>).
/// </summary>
public interface IProposer
{
    /// <summary>The model as results name it, e.g. <c>openai:gpt-4o</c> or <c>builtin:search</c>.</summary>
    string Id { get; }

    /// <summary>Calls that did work (cache hits excluded).</summary>
    long Calls { get; }

    /// <summary>Whether a dollar cost is known for its answers.</summary>
    bool HasPrice { get; }

    /// <exception cref="Llm.ModelCallException">when no answer could be had; a non-fatal one leaves the sample for a rerun.</exception>
    Task<Proposal> ProposeAsync(ProposalRequest request, CancellationToken cancellationToken);
}

/// <summary>A proposer that can also be the guardian of the agent setting (a second call that makes a program affine).</summary>
public interface IGuardian
{
    Task<Proposal> GuardAsync(TaskSpec task, string impl, double temperature, int sampleIndex, int round, int maxTokens, CancellationToken cancellationToken);
}
