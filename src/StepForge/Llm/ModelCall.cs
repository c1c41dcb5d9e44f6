namespace StepForge.Llm;

/// <summary>One request to a model: a system text, a user text, and how to sample.</summary>
/// <param name="Role">Who asks (proposer, guardian, ...): part of the cache key, so roles never share answers.</param>
/// <param name="SampleIndex">Which of the n samples this is: part of the cache key, so n samples are n answers.</param>
public sealed record ModelRequest(string System, string User, double Temperature, int SampleIndex, string Role, int MaxTokens = 4096);

/// <summary>A model's answer and what it cost.</summary>
/// <param name="UsageEstimated">The server reported no token usage; the counts are estimated from the text (4 characters a token).</param>
/// <param name="Cached">Taken from the response cache: nothing was asked.</param>
/// <param name="Cost">Dollars, when the model's price is known.</param>
public sealed record ModelAnswer(
    string Text,
    long InputTokens,
    long OutputTokens,
    bool UsageEstimated,
    double Seconds,
    int Retries,
    bool Cached,
    decimal? Cost);

/// <summary>A call that failed after its retries. <see cref="Fatal"/> failures (unreachable server, bad key, unknown model) stop a run.</summary>
public sealed class ModelCallException(string message, bool fatal, Exception? inner = null) : Exception(message, inner)
{
    public bool Fatal { get; } = fatal;
}
