using System.Globalization;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace StepForge.Llm;

/// <summary>How hard to try one call: attempts, backoff, per-attempt timeout (headers and body), largest answer read.</summary>
public sealed record RetryPolicy(int MaxAttempts = 6, TimeSpan? BaseDelay = null, TimeSpan? MaxDelay = null, TimeSpan? AttemptTimeout = null,
    long MaxAnswerBytes = RetryPolicy.DefaultMaxAnswerBytes)
{
    /// <summary>Far above any real answer (a program is a few kilobytes, a long reasoning answer some hundreds).</summary>
    public const long DefaultMaxAnswerBytes = 1 << 20;

    public TimeSpan Base => BaseDelay ?? TimeSpan.FromSeconds(1);

    public TimeSpan Max => MaxDelay ?? TimeSpan.FromSeconds(60);

    public TimeSpan Timeout => AttemptTimeout ?? TimeSpan.FromSeconds(300);
}

/// <summary>What happened to the HTTP requests of one model call (flows with the async call into the handlers).</summary>
public sealed class CallTrace
{
    private static readonly AsyncLocal<CallTrace?> CurrentTrace = new();

    public static CallTrace? Current { get => CurrentTrace.Value; set => CurrentTrace.Value = value; }

    public int Retries { get; set; }

    public int? LastStatus { get; set; }

    public bool Unreachable { get; set; }

    /// <summary>The server's answer had no token usage (see <see cref="MissingUsageHandler"/>).</summary>
    public bool UsageMissing { get; set; }
}

/// <summary>
/// The retry layer of the model path: one Polly pipeline (retry outside, a timeout per attempt inside) around each
/// HTTP request. It retries what real APIs do to a busy client (408, 409, 429, 5xx and 529 answers, dropped
/// connections, attempts that time out), waiting as <c>retry-after-ms</c> or <c>Retry-After</c> asks, else with
/// exponential backoff and jitter. A server that cannot be reached at all (refused connection, unknown host) is not
/// retried: the run should stop at once; 401, 403 and 404 are not retryable either. Both SDKs send through it, so both
/// dialects behave alike.
/// </summary>
public sealed class ResilienceHandler : DelegatingHandler
{
    private static readonly HashSet<int> Retryable = [408, 409, 429, 500, 502, 503, 504, 529];

    private readonly RetryPolicy _policy;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    public ResilienceHandler(RetryPolicy policy, Action<string>? onRetry = null, HttpMessageHandler? inner = null)
        : base(inner ?? new SocketsHttpHandler())
    {
        _policy = policy;
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (policy.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = policy.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = policy.Base,
                MaxDelay = policy.Max,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.AttemptNumber)),
                // Polly does not cap a generated delay by MaxDelay: the server's wish is capped here.
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response && RetryAfter(response) is { } wish
                    ? (TimeSpan?)(wish > policy.Max ? policy.Max : wish)
                    : null),
                OnRetry = args =>
                {
                    if (CallTrace.Current is { } trace) trace.Retries++;
                    onRetry?.Invoke($"{Problem(args.Outcome)}; retrying in {args.RetryDelay.TotalSeconds:0.#} s (attempt {args.AttemptNumber + 2} of {policy.MaxAttempts})");
                    return default;
                },
            });
        }
        // A generator, not Timeout: the option refuses values outside 10 ms to 24 h, and --timeout takes any positive number.
        builder.AddTimeout(new TimeoutStrategyOptions { TimeoutGenerator = _ => ValueTask.FromResult(policy.Timeout) });
        _pipeline = builder.Build();
    }

    private string TimedOut => $"no answer within {_policy.Timeout.TotalSeconds:0.#} s";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[]? body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var trace = CallTrace.Current;
        int attempts = 0;
        try
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                attempts++;
                HttpResponseMessage response;
                try
                {
                    response = await base.SendAsync(Clone(request, body), token).ConfigureAwait(false);
                }
                catch (HttpRequestException e) when (attempts == 1 && IsUnreachable(e))
                {
                    if (trace is not null) trace.Unreachable = true;
                    throw;
                }
                if (trace is not null) trace.LastStatus = (int)response.StatusCode;
                if (Retryable.Contains((int)response.StatusCode)) return response;
                // The body is read here, within the attempt's timeout and up to the size bound: a server that sends its
                // headers and then trickles must not hold the run.
                try
                {
                    await ReadBody(response, _policy.MaxAnswerBytes, token).ConfigureAwait(false);
                }
                catch
                {
                    // A half-read body is no answer: never handed on, even after the last attempt.
                    response.Dispose();
                    throw;
                }
                return response;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException)
        {
            throw new HttpRequestException($"{TimedOut} (after {attempts} attempts)");
        }
        catch (HttpRequestException e) when (e is not AnswerTooLongException && !(attempts == 1 && IsUnreachable(e)))
        {
            throw new HttpRequestException($"{e.Message} (after {attempts} attempts)");
        }
    }

    private static bool IsUnreachable(HttpRequestException e) =>
        e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError && e.StatusCode is null;

    /// <param name="attemptNumber">Zero-based: an unreachable server is given up on only at the first attempt (a dropped connection later is retried).</param>
    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, int attemptNumber) => outcome switch
    {
        { Exception: AnswerTooLongException } => false,
        { Exception: HttpRequestException e } => attemptNumber > 0 || !IsUnreachable(e),
        { Exception: TimeoutRejectedException } => true,
        { Exception: not null } => false,
        { Result: { } response } => Retryable.Contains((int)response.StatusCode),
        _ => false,
    };

    private string Problem(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        TimeoutRejectedException => TimedOut,
        { } e => e.Message,
        null => $"HTTP {(int)outcome.Result!.StatusCode}",
    };

    private static async Task ReadBody(HttpResponseMessage response, long maxBytes, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is long declared && declared > maxBytes) throw new AnswerTooLongException(maxBytes);
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        using (var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes) throw new AnswerTooLongException(maxBytes);
                buffer.Write(chunk, 0, read);
            }
        }
        var content = new ByteArrayContent(buffer.ToArray());
        foreach (var header in response.Content.Headers)
            if (!header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        response.Content.Dispose();
        response.Content = content;
    }

    /// <summary>The server's wish: <c>retry-after-ms</c>, or <c>Retry-After</c> as seconds or as a date.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
            return TimeSpan.FromMilliseconds(millis);
        if (response.Headers.TryGetValues("Retry-After", out var values))
        {
            var value = values.FirstOrDefault()?.Trim();
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
                return TimeSpan.FromSeconds(seconds);
            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
                return when > DateTimeOffset.UtcNow ? when - DateTimeOffset.UtcNow : TimeSpan.Zero;
        }
        return null;
    }

    private static HttpRequestMessage Clone(HttpRequestMessage request, byte[]? body)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var header in request.Headers) copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        if (body is not null)
        {
            copy.Content = new ByteArrayContent(body);
            foreach (var header in request.Content!.Headers) copy.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        return copy;
    }
}

/// <summary>An answer longer than the client reads: not retried (the model would say the same), recorded as a failed sample.</summary>
public sealed class AnswerTooLongException(long maxBytes)
    : HttpRequestException($"the answer is longer than {maxBytes:N0} bytes, the most StepForge reads (--max-answer-bytes); it was not stored");
