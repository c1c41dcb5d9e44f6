using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using Anthropic;
using Microsoft.Extensions.AI;
using OpenAI;

namespace StepForge.Llm;

/// <summary>Everything a run needs to reach its model.</summary>
/// <param name="Concurrency">Calls in flight at once (per-provider rate limits are the usual bound).</param>
public sealed record ModelSettings(ModelSpec Spec, string? ApiKey, RetryPolicy Retry, int Concurrency = 8, Price? Price = null);

/// <summary>
/// One model behind Microsoft.Extensions.AI's <see cref="IChatClient"/> (the OpenAI SDK for OpenAI-compatible servers,
/// the Anthropic SDK for Claude), with retries, a concurrency limit, the response cache, and token and cost accounting.
/// </summary>
public sealed class ModelClient : IDisposable
{
    private readonly IChatClient _chat;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _slots;
    private readonly ResponseCache? _cache;
    private readonly Price? _price;
    private long _calls;

    /// <exception cref="ArgumentException">for the built-in search, which is no API model (Agents runs it as a proposer).</exception>
    public ModelClient(ModelSettings settings, ResponseCache? cache, Action<string>? onRetry = null)
    {
        if (settings.Spec.Dialect == ModelDialect.Builtin) throw new ArgumentException($"{ModelSpec.BuiltinSearch} is not reached through an API client", nameof(settings));
        Spec = settings.Spec;
        _cache = cache;
        _price = settings.Price ?? Pricing.For(settings.Spec.Model);
        _slots = new SemaphoreSlim(Math.Max(1, settings.Concurrency));
        // Our handler retries and times out; the SDKs are told not to, so a call is tried exactly as the policy says.
        HttpMessageHandler handler = new RetryHandler(settings.Retry, onRetry);
        if (settings.Spec.Dialect == ModelDialect.Anthropic) handler = new MissingUsageHandler(handler);
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _chat = Create(settings, _http);
    }

    public ModelSpec Spec { get; }

    /// <summary>Calls that reached the model (cache hits excluded).</summary>
    public long Calls => Interlocked.Read(ref _calls);

    public bool HasPrice => _price is not null;

    /// <exception cref="ModelCallException">when the call fails after its retries.</exception>
    public async Task<ModelAnswer> AskAsync(ModelRequest request, CancellationToken cancellationToken)
    {
        var key = ResponseCache.Key(Spec.Id, request);
        if (_cache?.TryGet(key) is { } hit) return hit with { Cost = _price?.Cost(hit.InputTokens, hit.OutputTokens) };

        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var trace = new CallTrace();
        CallTrace.Current = trace;
        var watch = Stopwatch.StartNew();
        ChatResponse response;
        try
        {
            Interlocked.Increment(ref _calls);
            var options = new ChatOptions
            {
                Temperature = (float)request.Temperature,
                MaxOutputTokens = request.MaxTokens,
            };
            response = await _chat.GetResponseAsync(
                [new ChatMessage(ChatRole.System, request.System), new ChatMessage(ChatRole.User, request.User)], options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw Describe(e, trace);
        }
        finally
        {
            CallTrace.Current = null;
            _slots.Release();
        }
        var text = response.Text ?? "";
        long? input = trace.UsageMissing ? null : response.Usage?.InputTokenCount;
        long? output = trace.UsageMissing ? null : response.Usage?.OutputTokenCount;
        bool estimated = input is null || output is null;
        var answer = new ModelAnswer(text,
            input ?? EstimateTokens(request.System) + EstimateTokens(request.User),
            output ?? EstimateTokens(text),
            estimated, watch.Elapsed.TotalSeconds, trace.Retries, Cached: false, Cost: null);
        _cache?.Put(key, Spec.Id, request, answer);
        return answer with { Cost = _price?.Cost(answer.InputTokens, answer.OutputTokens) };
    }

    private static long EstimateTokens(string text) => (text.Length + 3) / 4;

    private ModelCallException Describe(Exception e, CallTrace trace)
    {
        var where = Spec.BaseUrl?.ToString() ?? (Spec.Dialect == ModelDialect.Anthropic ? "api.anthropic.com" : "api.openai.com");
        if (trace.Unreachable)
            return new ModelCallException($"cannot reach {where}: {Innermost(e).Message}", fatal: true, e);
        return trace.LastStatus switch
        {
            401 or 403 => new ModelCallException($"{where} refused the API key (HTTP {trace.LastStatus}); check {Spec.KeyVariable}", fatal: true, e),
            404 => new ModelCallException($"{where} does not know model {Spec.Model} or the URL is wrong (HTTP 404)", fatal: true, e),
            >= 400 and var status => new ModelCallException(
                $"{Spec.Model}: HTTP {status}" + (trace.Retries > 0 ? $" after {trace.Retries} retries" : "") + $": {Short(Innermost(e).Message)}", fatal: false, e),
            _ when e is OperationCanceledException => new ModelCallException($"{Spec.Model}: the call was cancelled", fatal: false, e),
            _ => new ModelCallException($"{Spec.Model}: unusable answer: {Short(Innermost(e).Message)}", fatal: false, e),
        };
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null && e is not HttpRequestException) e = e.InnerException;
        return e;
    }

    private static string Short(string text) => text.Length <= 200 ? text.ReplaceLineEndings(" ") : text[..200].ReplaceLineEndings(" ") + "...";

    private static IChatClient Create(ModelSettings settings, HttpClient http)
    {
        var spec = settings.Spec;
        var key = settings.ApiKey ?? "none";
        if (spec.Dialect == ModelDialect.Anthropic)
        {
            // Retries and timeouts are RetryHandler's; without --base-url the SDK's own default (or ANTHROPIC_BASE_URL) applies.
            var client = spec.BaseUrl is null
                ? new AnthropicClient { ApiKey = key, HttpClient = http, MaxRetries = 0, Timeout = Timeout.InfiniteTimeSpan }
                : new AnthropicClient { ApiKey = key, HttpClient = http, MaxRetries = 0, Timeout = Timeout.InfiniteTimeSpan, BaseUrl = spec.BaseUrl.ToString().TrimEnd('/') };
            return client.AsIChatClient(spec.Model, 4096);
        }
        var options = new OpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        if (spec.BaseUrl is not null) options.Endpoint = spec.BaseUrl;
        return new OpenAIClient(new ApiKeyCredential(key), options).GetChatClient(spec.Model).AsIChatClient();
    }

    public void Dispose()
    {
        _chat.Dispose();
        _http.Dispose();
        _slots.Dispose();
    }
}
