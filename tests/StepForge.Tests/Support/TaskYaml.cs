namespace StepForge.Tests.Support;

/// <summary>Pieces of task files that tests write inline.</summary>
public static class TaskYaml
{
    /// <summary>Every line of <paramref name="text"/> indented by <paramref name="spaces"/>, for a block scalar such as <c>impl: |</c>.</summary>
    public static string Indent(string text, int spaces = 2) =>
        string.Join("\n", text.Split('\n').Select(l => new string(' ', spaces) + l));
}
