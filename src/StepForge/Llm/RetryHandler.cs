using System.Globalization;

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

/// <summary>What happened to the HTTP requests of one model call (flows with the async call into the handler).</summary>
public sealed class CallTrace
{
    private static readonly AsyncLocal<CallTrace?> CurrentTrace = new();

    public static CallTrace? Current { get => CurrentTrace.Value; set => CurrentTrace.Value = value; }

    public int Retries { get; set; }

    public int? LastStatus { get; set; }

    public string? LastProblem { get; set; }

    public bool Unreachable { get; set; }

    /// <summary>The server's answer had no token usage (see <see cref="MissingUsageHandler"/>).</summary>
    public bool UsageMissing { get; set; }
}

/// <summary>
/// Retries what real APIs do to a busy client: 408, 429, 5xx and 529 answers and dropped connections, with exponential
/// backoff and jitter, honouring <c>Retry-After</c> and <c>retry-after-ms</c>; a timeout per attempt. A server that
/// cannot be reached at all (refused connection, unknown host) is not retried: the run should stop at once.
/// Both SDKs send through it, so both dialects behave alike.
/// </summary>
public sealed class RetryHandler(RetryPolicy policy, Action<string>? onRetry = null, HttpMessageHandler? inner = null)
    : DelegatingHandler(inner ?? new SocketsHttpHandler())
{
    private static readonly HashSet<int> Retryable = [408, 409, 429, 500, 502, 503, 504, 529];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[]? body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var trace = CallTrace.Current;
        for (int attempt = 1; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(policy.Timeout);
            var copy = Clone(request, body);
            HttpResponseMessage? response = null;
            string problem;
            TimeSpan? serverDelay = null;
            try
            {
                response = await base.SendAsync(copy, timeout.Token).ConfigureAwait(false);
                if (trace is not null) trace.LastStatus = (int)response.StatusCode;
                if (!Retryable.Contains((int)response.StatusCode))
                {
                    // The body is read here, within the attempt's timeout and up to the size bound: a server that sends
                    // its headers and then trickles must not hold the run.
                    try
                    {
                        await ReadBody(response, policy.MaxAnswerBytes, timeout.Token).ConfigureAwait(false);
                    }
                    catch
                    {
                        // A half-read body is no answer: never handed on, even after the last attempt.
                        response.Dispose();
                        response = null;
                        throw;
                    }
                    return response;
                }
                problem = $"HTTP {(int)response.StatusCode}";
                serverDelay = RetryAfter(response);
            }
            catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                                                 && e.StatusCode is null && attempt == 1)
            {
                if (trace is not null) trace.Unreachable = true;
                throw;
            }
            catch (AnswerTooLongException)
            {
                throw;
            }
            catch (HttpRequestException e)
            {
                problem = e.Message;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                problem = $"no answer within {policy.Timeout.TotalSeconds:0.#} s";
            }
            if (trace is not null) trace.LastProblem = problem;
            if (attempt >= policy.MaxAttempts)
            {
                if (response is not null) return response;
                throw new HttpRequestException($"{problem} (after {attempt} attempts)");
            }
            response?.Dispose();
            var delay = serverDelay ?? Backoff(attempt);
            if (delay > policy.Max) delay = policy.Max;
            if (trace is not null) trace.Retries++;
            onRetry?.Invoke($"{problem}; retrying in {delay.TotalSeconds:0.#} s (attempt {attempt + 1} of {policy.MaxAttempts})");
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

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

    private TimeSpan Backoff(int attempt)
    {
        double seconds = policy.Base.TotalSeconds * Math.Pow(2, attempt - 1);
        return TimeSpan.FromSeconds(seconds * (0.75 + 0.5 * Random.Shared.NextDouble()));
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
