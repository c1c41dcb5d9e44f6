namespace StepForge.Llm;

/// <summary>US dollars per million input and output tokens.</summary>
public sealed record Price(decimal InputPerMillion, decimal OutputPerMillion)
{
    public decimal Cost(long inputTokens, long outputTokens) =>
        (inputTokens * InputPerMillion + outputTokens * OutputPerMillion) / 1_000_000m;

    /// <summary>Parses <c>IN,OUT</c> (dollars per million tokens), as <c>--price</c> takes it.</summary>
    public static Price Parse(string text)
    {
        var parts = text.Split(',');
        if (parts.Length == 2
            && decimal.TryParse(parts[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var input)
            && decimal.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var output)
            && input >= 0 && output >= 0)
            return new Price(input, output);
        throw new ArgumentException($"--price {text}: expected IN,OUT in dollars per million tokens, e.g. 3,15");
    }
}

/// <summary>
/// List prices of well-known models (dollars per million tokens, as published by the providers in 2025–2026), matched
/// by the longest name prefix. Unknown models have no price: their cost is reported as unknown, never as zero.
/// </summary>
public static class Pricing
{
    private static readonly (string Prefix, Price Price)[] Table =
    [
        ("claude-opus-4", new Price(15m, 75m)),
        ("claude-sonnet-4", new Price(3m, 15m)),
        ("claude-3-7-sonnet", new Price(3m, 15m)),
        ("claude-3-5-sonnet", new Price(3m, 15m)),
        ("claude-haiku-4", new Price(1m, 5m)),
        ("claude-3-5-haiku", new Price(0.8m, 4m)),
        ("gpt-4.1-nano", new Price(0.1m, 0.4m)),
        ("gpt-4.1-mini", new Price(0.4m, 1.6m)),
        ("gpt-4.1", new Price(2m, 8m)),
        ("gpt-4o-mini", new Price(0.15m, 0.6m)),
        ("gpt-4o", new Price(2.5m, 10m)),
        ("o3-mini", new Price(1.1m, 4.4m)),
        ("o4-mini", new Price(1.1m, 4.4m)),
        ("o3", new Price(2m, 8m)),
        ("deepseek-chat", new Price(0.27m, 1.1m)),
        ("deepseek-reasoner", new Price(0.55m, 2.19m)),
    ];

    public static Price? For(string model)
    {
        Price? best = null;
        int bestLength = -1;
        foreach (var (prefix, price) in Table)
            if (model.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && prefix.Length > bestLength) (best, bestLength) = (price, prefix.Length);
        return best;
    }
}
