using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Microsoft.Extensions.AI;
using OpenAI;

namespace StepForge.Llm;

/// <summary>Everything a run needs to reach its model.</summary>
/// <param name="Concurrency">Calls in flight at once (per-provider rate limits are the usual bound).</param>
public sealed record ModelSettings(ModelSpec Spec, string? ApiKey, RetryPolicy Retry, int Concurrency = 8, Price? Price = null);

/// <summary>
/// The model path, composed in this one place: Microsoft.Extensions.AI chat clients, each with one job, over the
/// provider's SDK (OpenAI's for OpenAI-compatible servers, Anthropic's for Claude), whose HTTP goes through the retry
/// layer. From the outside in:
/// <list type="number">
/// <item><see cref="PricingChatClient"/>: the cost of every answer, cached ones too;</item>
/// <item><see cref="StoredResponseCache"/>: answers already bought, from the SQLite store;</item>
/// <item><see cref="ConcurrencyLimitingChatClient"/>: so many calls in flight at once;</item>
/// <item><see cref="CallReportingChatClient"/>: tokens (or their estimate), seconds and retries of each call, failures classified;</item>
/// <item>the SDK's chat client, over an HttpClient whose handler is <see cref="ResilienceHandler"/> (one Polly pipeline:
/// retries, a timeout per attempt covering the body) and, for Anthropic, <see cref="MissingUsageHandler"/>.</item>
/// </list>
/// </summary>
public sealed class ModelPipeline : IDisposable
{
    private readonly HttpClient _http;
    private readonly CallReportingChatClient _reporting;
    private readonly PricingChatClient _pricing;

    private ModelPipeline(ModelSpec spec, IChatClient chat, HttpClient http)
    {
        Spec = spec;
        Chat = chat;
        _http = http;
        _reporting = chat.GetService<CallReportingChatClient>()!;
        _pricing = chat.GetService<PricingChatClient>()!;
    }

    /// <exception cref="ArgumentException">for the built-in search, which is no API model (Agents runs it as a proposer).</exception>
    public static ModelPipeline Create(ModelSettings settings, ResponseCache? cache, Action<string>? onRetry = null)
    {
        var spec = settings.Spec;
        if (spec.Dialect == ModelDialect.Builtin) throw new ArgumentException($"{ModelSpec.BuiltinSearch} is not reached through an API client", nameof(settings));
        // The handler retries and times out; the SDKs are told not to, so a call is tried exactly as the policy says.
        HttpMessageHandler handler = new ResilienceHandler(settings.Retry, onRetry);
        if (spec.Dialect == ModelDialect.Anthropic) handler = new MissingUsageHandler(handler);
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var builder = new ChatClientBuilder(Provider(settings, http))
            .Use(inner => new PricingChatClient(inner, settings.Price ?? Pricing.For(spec.Model)));
        if (cache is not null) builder.Use(inner => new StoredResponseCache(inner, cache, spec.Id));
        var chat = builder
            .Use(inner => new ConcurrencyLimitingChatClient(inner, settings.Concurrency))
            .Use(inner => new CallReportingChatClient(inner, spec))
            .Build();
        return new ModelPipeline(spec, chat, http);
    }

    public ModelSpec Spec { get; }

    /// <summary>The composed client: ask it with <see cref="ModelChat.AskAsync"/>.</summary>
    public IChatClient Chat { get; }

    /// <summary>Calls that reached the model (cache hits excluded).</summary>
    public long Calls => _reporting.Calls;

    public bool HasPrice => _pricing.Price is not null;

    private static IChatClient Provider(ModelSettings settings, HttpClient http)
    {
        var spec = settings.Spec;
        var key = settings.ApiKey ?? "none";
        if (spec.Dialect == ModelDialect.Anthropic)
        {
            // Retries and timeouts are ResilienceHandler's; without --base-url the SDK's own default (or ANTHROPIC_BASE_URL) applies.
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
        Chat.Dispose();
        _http.Dispose();
    }
}
