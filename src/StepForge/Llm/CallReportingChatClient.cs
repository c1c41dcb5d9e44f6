using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace StepForge.Llm;

/// <summary>
/// The last layer before the provider: it follows one call on the wire (a <see cref="CallTrace"/> the HTTP handlers
/// fill in) and reports it. An answer gets its account (tokens as reported, or estimated from the texts when the
/// server gave none; seconds; retries); a failure becomes a <see cref="ModelCallException"/> that says what went
/// wrong and whether the run must stop. It counts the calls that reached the model.
/// </summary>
public sealed class CallReportingChatClient(IChatClient inner, ModelSpec spec) : DelegatingChatClient(inner)
{
    private long _calls;

    /// <summary>Calls that reached the model (cache hits never get this far).</summary>
    public long Calls => Interlocked.Read(ref _calls);

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var sent = messages as IReadOnlyCollection<ChatMessage> ?? [.. messages];
        var trace = new CallTrace();
        CallTrace.Current = trace;
        var watch = Stopwatch.StartNew();
        ChatResponse response;
        try
        {
            Interlocked.Increment(ref _calls);
            response = await base.GetResponseAsync(sent, ForProvider(options), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw Describe(e, trace);
        }
        finally
        {
            CallTrace.Current = null;
        }
        var text = response.Text ?? "";
        long? input = trace.UsageMissing ? null : response.Usage?.InputTokenCount;
        long? output = trace.UsageMissing ? null : response.Usage?.OutputTokenCount;
        var answer = new ModelAnswer(text,
            input ?? sent.Sum(m => EstimateTokens(m.Text)),
            output ?? EstimateTokens(text),
            input is null || output is null, watch.Elapsed.TotalSeconds, trace.Retries, Cached: false, Cost: null);
        return answer.AttachTo(response);
    }

    private static long EstimateTokens(string text) => (text.Length + 3) / 4;

    /// <summary>The options without StepForge's own properties (role, sample index): they are for the layers above, not the server.</summary>
    private static ChatOptions? ForProvider(ChatOptions? options)
    {
        if (options?.AdditionalProperties is not { } properties || !ModelRequest.PropertyNames.Any(properties.ContainsKey)) return options;
        var copy = options.Clone();
        var kept = new AdditionalPropertiesDictionary(properties);
        foreach (var name in ModelRequest.PropertyNames) kept.Remove(name);
        copy.AdditionalProperties = kept.Count == 0 ? null : kept;
        return copy;
    }

    private ModelCallException Describe(Exception e, CallTrace trace)
    {
        var where = spec.BaseUrl?.ToString() ?? (spec.Dialect == ModelDialect.Anthropic ? "api.anthropic.com" : "api.openai.com");
        if (trace.Unreachable)
            return new ModelCallException($"cannot reach {where}: {Innermost(e).Message}", fatal: true, e);
        return trace.LastStatus switch
        {
            401 or 403 => new ModelCallException($"{where} refused the API key (HTTP {trace.LastStatus}); check {spec.KeyVariable}", fatal: true, e),
            404 => new ModelCallException($"{where} does not know model {spec.Model} or the URL is wrong (HTTP 404)", fatal: true, e),
            >= 400 and var status => new ModelCallException(
                $"{spec.Model}: HTTP {status}" + (trace.Retries > 0 ? $" after {trace.Retries} retries" : "") + $": {Short(Innermost(e).Message)}", fatal: false, e),
            _ when e is OperationCanceledException => new ModelCallException($"{spec.Model}: the call was cancelled", fatal: false, e),
            _ => new ModelCallException($"{spec.Model}: unusable answer: {Short(Innermost(e).Message)}", fatal: false, e),
        };
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null && e is not HttpRequestException) e = e.InnerException;
        return e;
    }

    private static string Short(string text) => text.Length <= 200 ? text.ReplaceLineEndings(" ") : text[..200].ReplaceLineEndings(" ") + "...";
}
