using Microsoft.Extensions.AI;

namespace StepForge.Llm;

/// <summary>One request to a model: a system text, a user text, and how to sample.</summary>
/// <param name="Role">Who asks (proposer, guardian, ...): part of the cache key, so roles never share answers.</param>
/// <param name="SampleIndex">Which of the n samples this is: part of the cache key, so n samples are n answers.</param>
public sealed record ModelRequest(string System, string User, double Temperature, int SampleIndex, string Role, int MaxTokens = 4096)
{
    private const string RoleProperty = "stepforge.role";
    private const string SampleIndexProperty = "stepforge.sample_index";
    // ChatOptions.Temperature is a float; the cache key has always hashed the double asked for, so that travels too.
    private const string TemperatureProperty = "stepforge.temperature";

    /// <summary>The names of the properties the layers above the provider read (<see cref="From"/>); the provider is not sent them.</summary>
    public static IReadOnlyList<string> PropertyNames { get; } = [RoleProperty, SampleIndexProperty, TemperatureProperty];

    public IList<ChatMessage> Messages => [new(ChatRole.System, System), new(ChatRole.User, User)];

    /// <summary>How to sample, with the role and sample index in the additional properties (the cache keys on them).</summary>
    public ChatOptions Options => new()
    {
        Temperature = (float)Temperature,
        MaxOutputTokens = MaxTokens,
        AdditionalProperties = new() { [RoleProperty] = Role, [SampleIndexProperty] = SampleIndex, [TemperatureProperty] = Temperature },
    };

    /// <summary>The request a chat call carries, or null when it is not one of StepForge's (no role or sample index).</summary>
    public static ModelRequest? From(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        if (options?.AdditionalProperties is not { } properties
            || !properties.TryGetValue(RoleProperty, out string? role) || role is null
            || !properties.TryGetValue(SampleIndexProperty, out int sampleIndex))
            return null;
        double temperature = properties.TryGetValue(TemperatureProperty, out double exact) ? exact : options.Temperature ?? 1;
        string system = "", user = "";
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.System) system += message.Text;
            else if (message.Role == ChatRole.User) user += message.Text;
        }
        return new ModelRequest(system, user, temperature, sampleIndex, role, options.MaxOutputTokens ?? 4096);
    }
}

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
    decimal? Cost)
{
    private const string Property = "stepforge.answer";

    /// <summary>The account of a chat response, as the layers of <see cref="ModelPipeline"/> attach it.</summary>
    /// <exception cref="InvalidOperationException">for a response that did not come through the pipeline.</exception>
    public static ModelAnswer Of(ChatResponse response) =>
        response.AdditionalProperties is { } properties && properties.TryGetValue(Property, out ModelAnswer? answer) && answer is not null
            ? answer
            : throw new InvalidOperationException("the chat response carries no StepForge account: it did not come through ModelPipeline");

    /// <summary>Attaches this account to the response (replacing an earlier one).</summary>
    public ChatResponse AttachTo(ChatResponse response)
    {
        response.AdditionalProperties ??= [];
        response.AdditionalProperties[Property] = this;
        return response;
    }

    /// <summary>A chat response that is this answer: the text, the token usage, and the account.</summary>
    public ChatResponse ToResponse() => AttachTo(new ChatResponse(new ChatMessage(ChatRole.Assistant, Text))
    {
        Usage = new UsageDetails { InputTokenCount = InputTokens, OutputTokenCount = OutputTokens, TotalTokenCount = InputTokens + OutputTokens },
    });
}

/// <summary>A call that failed after its retries. <see cref="Fatal"/> failures (unreachable server, bad key, unknown model) stop a run.</summary>
public sealed class ModelCallException(string message, bool fatal, Exception? inner = null) : Exception(message, inner)
{
    public bool Fatal { get; } = fatal;
}

/// <summary>Asking a model through the pipeline with StepForge's request and answer records.</summary>
public static class ModelChat
{
    /// <exception cref="ModelCallException">when the call fails after its retries.</exception>
    public static async Task<ModelAnswer> AskAsync(this IChatClient chat, ModelRequest request, CancellationToken cancellationToken) =>
        ModelAnswer.Of(await chat.GetResponseAsync(request.Messages, request.Options, cancellationToken).ConfigureAwait(false));
}
