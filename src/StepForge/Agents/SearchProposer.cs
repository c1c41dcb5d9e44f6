using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using StepForge.Llm;
using StepForge.Synthesis;

namespace StepForge.Agents;

/// <summary>
/// StepForge's own search as proposer (<c>builtin:search</c>): it gets the task and the demonstrations as data, learns
/// from the demonstrations' verified programs (<see cref="SearchKnowledge"/>) and searches (<see cref="ProgramSearch"/>).
/// It uses no tokens and no network. Its answer is the program in the usual YAML form followed by the search's
/// statistics; a search that finds nothing is an unsolved answer; a search stopped by its wall-clock safety net, or
/// cancelled, is a failed call (the next run asks again), never an answer.
/// </summary>
public sealed class SearchProposer(SearchOptions options) : IProposer
{
    // The search is deterministic: the same task, demonstrations and sample get the same answer, so it is searched once.
    private readonly ConcurrentDictionary<string, Lazy<Proposal>> _answers = new(StringComparer.Ordinal);
    private long _calls;

    public string Id => "builtin:search";

    public long Calls => Interlocked.Read(ref _calls);

    public bool HasPrice => true;

    public async Task<Proposal> ProposeAsync(ProposalRequest request, CancellationToken cancellationToken)
    {
        var prompt = Describe(request);
        var key = prompt.User + "\u0000" + request.SampleIndex.ToString(CultureInfo.InvariantCulture);
        var answer = _answers.GetOrAdd(key, _ => new Lazy<Proposal>(() => Search(request, prompt, cancellationToken)));
        try
        {
            return await Task.Run(() => answer.Value, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A search that did not end with an answer is not kept: the next call searches again.
            _answers.TryRemove(key, out _);
            throw;
        }
    }

    private Proposal Search(ProposalRequest request, Prompt prompt, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        var knowledge = SearchKnowledge.Learn(request.Demonstrations.Select(d => new SolvedExample(d.Task, d.Impl)));
        var result = ProgramSearch.Run(request.Task, options with { Solution = request.SampleIndex }, knowledge, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        if (result.Outcome == SearchOutcome.Stopped)
            throw new ModelCallException($"{Id}: {result.Message}; the task is searched again by the next run", fatal: false);
        var stats = $"search: {result.Message}; tried {result.Stats.Tried:N0} candidates ({result.Stats.Work:N0} units of work), kept {result.Stats.Kept:N0} distinct values, " +
                    $"verified {result.Stats.Verified} program(s), last cost level {result.Stats.Level}; {result.Knowledge}";
        var text = new StringBuilder();
        if (result.Program is { } program)
        {
            text.Append("```yaml\nimpl: |\n");
            foreach (var line in program.TrimEnd().Split('\n')) text.Append("  ").Append(line).Append('\n');
            text.Append("```\n");
        }
        text.Append(stats);
        return new Proposal(prompt, text.ToString(), result.Program, result.IsFound ? null : result.Message, Unsolved: !result.IsFound,
            0, 0, UsageEstimated: false, Cost: 0m, result.Stats.Seconds, Retries: 0, Cached: false);
    }

    /// <summary>What the search is given, as the store keeps it: its budget, the task and the demonstrations' programs.</summary>
    private Prompt Describe(ProposalRequest request)
    {
        var system = $"{Id}: bottom-up search, cheapest first by a grammar learned from the demonstrations; budget {options.MaxWork:N0} units of work, {options.MaxCandidates:N0} candidates, " +
                     $"{options.MaxValues:N0} values, {options.MaxKeptElements:N0} elements kept";
        var user = new StringBuilder("Task:\n").Append(ProposerPrompt.StructuredTask(request.Task, null));
        foreach (var demo in request.Demonstrations)
        {
            user.Append("\nDemonstration ").Append(demo.Task.Name).Append(":\n").Append(ProposerPrompt.StructuredTask(demo.Task, demo.Impl));
        }
        return new Prompt(system, user.ToString());
    }
}
