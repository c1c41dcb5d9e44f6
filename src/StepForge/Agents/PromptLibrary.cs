using System.Reflection;
using StepForge.Tasks;

namespace StepForge.Agents;

/// <summary>The prompt texts and op examples shipped with StepForge (embedded resources, written by us).</summary>
public static class PromptLibrary
{
    private static readonly Assembly Assembly = typeof(PromptLibrary).Assembly;

    public static string Language { get; } = Read("Prompts.language.md");

    public static string Proposer { get; } = Read("Prompts.proposer.md").Replace("{language}", Language, StringComparison.Ordinal);

    public static string ProposerWithoutStructure { get; } = Read("Prompts.proposer-ws.md").Replace("{language}", Language, StringComparison.Ordinal);

    public static string Guardian { get; } = Read("Prompts.guardian.md");

    /// <summary>Small tasks with verified programs that show the ops at work (a test verifies each).</summary>
    public static IReadOnlyList<TaskSpec> Examples { get; } =
    [
        .. Assembly.GetManifestResourceNames()
            .Where(n => n.Contains(".Agents.Examples.", StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => TaskReader.Read(ReadResource(n), "examples/" + n[(n.IndexOf(".Examples.", StringComparison.Ordinal) + 10)..])),
    ];

    private static string Read(string relative) => ReadResource(Assembly.GetManifestResourceNames()
        .Single(n => n.EndsWith(".Agents." + relative, StringComparison.Ordinal)));

    private static string ReadResource(string name)
    {
        using var stream = Assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
