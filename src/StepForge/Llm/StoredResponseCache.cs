using Microsoft.Extensions.AI;

namespace StepForge.Llm;

/// <summary>
/// The response cache as a chat client: a request StepForge asked before (same model, role, texts, temperature, sample
/// index and token limit: <see cref="ResponseCache.Key"/>) is answered from the SQLite store, nothing asked; a new
/// answer is stored as soon as it arrives. M.E.AI's CachingChatClient is not used: its write hook is given the key and
/// the response alone, and each stored row records the request's role, temperature and sample index too.
/// </summary>
public sealed class StoredResponseCache(IChatClient inner, ResponseCache store, string modelId) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var sent = messages as IReadOnlyCollection<ChatMessage> ?? [.. messages];
        if (ModelRequest.From(sent, options) is not { } request) return await base.GetResponseAsync(sent, options, cancellationToken).ConfigureAwait(false);
        var key = ResponseCache.Key(modelId, request);
        if (store.TryGet(key) is { } hit) return hit.ToResponse();
        var response = await base.GetResponseAsync(sent, options, cancellationToken).ConfigureAwait(false);
        store.Put(key, modelId, request, ModelAnswer.Of(response));
        return response;
    }
}
