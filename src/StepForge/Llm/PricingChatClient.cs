using Microsoft.Extensions.AI;

namespace StepForge.Llm;

/// <summary>
/// Prices every answer by its tokens, a cached one too (the store keeps tokens, not dollars, so a --price given later
/// applies to answers bought earlier).
/// </summary>
public sealed class PricingChatClient(IChatClient inner, Price? price) : DelegatingChatClient(inner)
{
    public Price? Price { get; } = price;

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var answer = ModelAnswer.Of(response);
        return (answer with { Cost = Price?.Cost(answer.InputTokens, answer.OutputTokens) }).AttachTo(response);
    }
}
