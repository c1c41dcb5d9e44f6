using System.Text;
using Microsoft.Extensions.AI;
using StepForge.Tasks;

namespace StepForge.Synthesis;

/// <summary>
/// The built-in model <c>builtin:search</c>: an <see cref="IChatClient"/> that reads the task from the proposer's
/// prompt (the structured YAML after "Your task:") and answers with the program <see cref="ProgramSearch"/> finds,
/// so runs, the store, the cache and the self-improvement loop treat it like any model. It uses no tokens; its
/// answer ends with the search's statistics. A guardian prompt gets its program back unchanged (the search's
/// programs are affine already).
/// </summary>
public sealed class SearchChatClient(SearchOptions options) : IChatClient
{
    // The search reads only the task, not the demonstrations around it: the same task asked again (in the next
    // iteration of the self-improvement loop, with other demonstrations) gets the same answer without searching again.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Task, int Sample), Lazy<string>> answers = new();

    /// <summary>The key of <see cref="ChatOptions.AdditionalProperties"/> that carries the sample index.</summary>
    public const string SampleIndexKey = "stepforge.sample_index";

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? chatOptions = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        var system = string.Concat(list.Where(m => m.Role == ChatRole.System).Select(m => m.Text));
        var user = list.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
        int sample = chatOptions?.AdditionalProperties?.TryGetValue(SampleIndexKey, out var value) == true && value is int index ? index : 0;
        var text = system.StartsWith("You check STeP programs", StringComparison.Ordinal)
            ? Guard(user)
            : await Task.Run(() => Propose(user, sample, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            ModelId = "builtin:search",
            Usage = new UsageDetails { InputTokenCount = 0, OutputTokenCount = 0, TotalTokenCount = 0 },
        };
    }

    private string Propose(string user, int sample, CancellationToken cancellationToken)
    {
        int at = user.LastIndexOf("Your task:", StringComparison.Ordinal);
        int open = at < 0 ? -1 : user.IndexOf("```yaml\n", at, StringComparison.Ordinal);
        int close = open < 0 ? -1 : user.IndexOf("\n```", open + 8, StringComparison.Ordinal);
        if (close < 0) return "no program found: builtin:search needs the task as structured YAML (settings single or agent)";
        var yaml = user[(open + 8)..(close + 1)];
        var answer = answers.GetOrAdd((yaml, sample), key => new Lazy<string>(() => Search(key.Task, key.Sample, cancellationToken)));
        try
        {
            return answer.Value;
        }
        catch (OperationCanceledException)
        {
            answers.TryRemove((yaml, sample), out _);
            throw;
        }
    }

    private string Search(string yaml, int sample, CancellationToken cancellationToken)
    {
        TaskSpec task;
        try
        {
            task = TaskReader.Read(yaml, "prompt.yaml");
        }
        catch (TaskFileException e)
        {
            return $"no program found: the task in the prompt does not load: {e.Message}";
        }
        var result = ProgramSearch.Run(task, options with { Solution = sample }, cancellationToken);
        // A search cut short by cancellation is no answer: it must not be cached as one.
        cancellationToken.ThrowIfCancellationRequested();
        var stats = $"search: {result.Message}; tried {result.Stats.Tried:N0} candidates, kept {result.Stats.Kept:N0} distinct values, " +
                    $"verified {result.Stats.Verified} program(s), {result.Stats.Seconds:0.0} s";
        if (!result.Found) return stats;
        var answer = new StringBuilder("```yaml\nimpl: |\n");
        foreach (var line in result.Program!.TrimEnd().Split('\n')) answer.Append("  ").Append(line).Append('\n');
        return answer.Append("```\n").Append(stats).ToString();
    }

    private static string Guard(string user)
    {
        int start = user.IndexOf("```yaml\n", StringComparison.Ordinal);
        int end = start < 0 ? -1 : user.IndexOf("```", start + 8, StringComparison.Ordinal);
        return start < 0 || end < 0 ? "" : user[start..(end + 3)];
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? chatOptions = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("builtin:search answers whole responses only");

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
