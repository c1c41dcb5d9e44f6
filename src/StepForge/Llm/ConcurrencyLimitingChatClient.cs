using Microsoft.Extensions.AI;

namespace StepForge.Llm;

/// <summary>At most so many calls in flight at once (a provider's rate limits are the usual bound); the rest wait their turn.</summary>
public sealed class ConcurrencyLimitingChatClient(IChatClient inner, int limit) : DelegatingChatClient(inner)
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, limit));

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _slots.Dispose();
        base.Dispose(disposing);
    }
}
