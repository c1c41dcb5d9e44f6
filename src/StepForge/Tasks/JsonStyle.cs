using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using StepForge.Cost;

namespace StepForge.Tasks;

/// <summary>
/// The one JSON style of everything StepForge writes: System.Text.Json with snake_case keys and source-generated
/// serializers (one context per stage that writes JSON), and text left readable: the output is data for scripts and
/// agents, never pasted into HTML, so '&lt;', '+' and non-ASCII letters are not escaped.
/// </summary>
public static class JsonStyle
{
    public static JsonSerializerOptions Options() => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

/// <summary>The verdict lines (<c>check --json</c>, <c>verify --json</c>, the store's verdict_json) and the cost objects in them.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(VerdictJson))]
[JsonSerializable(typeof(CostJson))]
public sealed partial class TasksJson : JsonSerializerContext
{
    public static TasksJson Style { get; } = new(JsonStyle.Options());
}
