using System.Text.Json.Serialization;
using StepForge.Tasks;

namespace StepForge.Learning;

/// <summary>The JSON the experience store keeps in its columns (lists of task names, experiment definitions), in the one style.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(ExperimentDefinition))]
public sealed partial class LearningJson : JsonSerializerContext
{
    public static LearningJson Style { get; } = new(JsonStyle.Options());
}
