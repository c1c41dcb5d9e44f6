using System.Text;
using System.Text.Json.Nodes;

namespace StepForge.Llm;

/// <summary>
/// The Anthropic SDK refuses a message without <c>usage</c>, which some Anthropic-compatible proxies leave out. An
/// answer should not be lost for want of a token count: this fills in zeros and notes on the call's trace that the
/// usage is missing, so that the client estimates it and says so.
/// </summary>
public sealed class MissingUsageHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode || response.Content is null) return response;
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        JsonNode? json = null;
        try
        {
            json = JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: the SDK reports it.
        }
        if (json is JsonObject message && message["type"]?.GetValueKind() == System.Text.Json.JsonValueKind.String
            && (string?)message["type"] == "message" && message["usage"] is null)
        {
            message["usage"] = new JsonObject { ["input_tokens"] = 0, ["output_tokens"] = 0 };
            text = message.ToJsonString();
            if (CallTrace.Current is { } trace) trace.UsageMissing = true;
        }
        var copy = new StringContent(text, Encoding.UTF8);
        foreach (var header in response.Content.Headers) copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        copy.Headers.ContentLength = null;
        response.Content = copy;
        return response;
    }
}
