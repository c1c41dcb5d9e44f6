namespace StepForge.Llm;

/// <summary>The API dialect a model is reached with.</summary>
public enum ModelDialect
{
    /// <summary>OpenAI chat completions: OpenAI itself and every compatible server (DeepSeek, Together, vLLM, Ollama).</summary>
    OpenAI,

    /// <summary>Anthropic's messages API (Claude).</summary>
    Anthropic,

    /// <summary>StepForge's own model-free proposer (<c>builtin:search</c>): no network, no key, no tokens.</summary>
    Builtin,
}

/// <summary>
/// Which model to ask and where: <c>--model</c> is <c>anthropic:NAME</c>, <c>openai:NAME</c> or a bare name
/// (names starting with <c>claude</c> are Anthropic's, the rest speak OpenAI's dialect); <c>--base-url</c> points an
/// OpenAI-compatible name at another server.
/// </summary>
public sealed record ModelSpec(ModelDialect Dialect, string Model, Uri? BaseUrl, string? ApiKeyVariable)
{
    /// <summary>The model as results and the response cache name it: dialect, name and server.</summary>
    public string Id => $"{Dialect switch { ModelDialect.Anthropic => "anthropic", ModelDialect.Builtin => "builtin", _ => "openai" }}:{Model}" + (BaseUrl is null ? "" : $"@{BaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/')}");

    /// <exception cref="ArgumentException">when the name or URL is not usable, with a message for the user.</exception>
    public static ModelSpec Parse(string model, string? baseUrl = null, string? apiKeyVariable = null)
    {
        model = model.Trim();
        if (model.Length == 0) throw new ArgumentException("--model is empty");
        ModelDialect dialect;
        string name;
        if (model.StartsWith("builtin:", StringComparison.OrdinalIgnoreCase))
        {
            if (!model.Equals(BuiltinSearch, StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"--model {model}: the only built-in model is {BuiltinSearch}");
            return new ModelSpec(ModelDialect.Builtin, "search", null, null);
        }
        if (model.StartsWith("anthropic:", StringComparison.OrdinalIgnoreCase)) (dialect, name) = (ModelDialect.Anthropic, model["anthropic:".Length..]);
        else if (model.StartsWith("openai:", StringComparison.OrdinalIgnoreCase)) (dialect, name) = (ModelDialect.OpenAI, model["openai:".Length..]);
        else (dialect, name) = (model.StartsWith("claude", StringComparison.OrdinalIgnoreCase) ? ModelDialect.Anthropic : ModelDialect.OpenAI, model);
        if (name.Length == 0) throw new ArgumentException($"--model {model} names no model");
        Uri? url = null;
        if (baseUrl is { Length: > 0 })
        {
            if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
                throw new ArgumentException($"--base-url {baseUrl} is not an http(s) URL");
        }
        return new ModelSpec(dialect, name, url, apiKeyVariable is { Length: > 0 } ? apiKeyVariable : null);
    }

    /// <summary>The environment variable the key is read from, by the usual conventions of each provider.</summary>
    public string KeyVariable => ApiKeyVariable ?? (Dialect, BaseUrl?.Host) switch
    {
        (ModelDialect.Anthropic, _) => "ANTHROPIC_API_KEY",
        (_, { } host) when host.Contains("deepseek", StringComparison.OrdinalIgnoreCase) => "DEEPSEEK_API_KEY",
        (_, { } host) when host.Contains("together", StringComparison.OrdinalIgnoreCase) => "TOGETHER_API_KEY",
        _ => "OPENAI_API_KEY",
    };

    /// <summary>The model-free proposer, used when no model is configured.</summary>
    public const string BuiltinSearch = "builtin:search";

    /// <summary>Local servers (vLLM, Ollama) and the built-in search need no key.</summary>
    public bool IsLocal => Dialect == ModelDialect.Builtin || (BaseUrl is { } u && (u.IsLoopback || u.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)));
}
