using YamlDotNet.RepresentationModel;

namespace StepForge.Tasks;

/// <summary>A candidate program and where it starts in its file, so verdicts can point at the file's own lines.</summary>
/// <param name="LineOffset">Add to a line of the program to get the line in the file.</param>
public sealed record CandidateProgram(string Source, int LineOffset);

/// <summary>Reads a candidate program given with <c>--impl</c>: a YAML file with an <c>impl:</c> key, or a bare program.</summary>
public static class CandidateText
{
    public static string FromText(string text) => Read(text).Source;

    public static CandidateProgram Read(string text)
    {
        try
        {
            if (YamlText.LoadRoot(text) is YamlMappingNode map
                && map.Children.TryGetValue(new YamlScalarNode("impl"), out var impl) && impl is YamlScalarNode scalar)
                return new CandidateProgram(scalar.Value ?? "", ProgramLineOffset(scalar));
        }
        catch (YamlTextException)
        {
            // Not YAML: a bare program.
        }
        return new CandidateProgram(text, 0);
    }

    /// <summary>
    /// Where a program held in a YAML scalar starts: a block scalar (<c>impl: |</c>) on the line after its indicator,
    /// any other scalar on its own line.
    /// </summary>
    public static int ProgramLineOffset(YamlScalarNode scalar) =>
        scalar.Style is YamlDotNet.Core.ScalarStyle.Literal or YamlDotNet.Core.ScalarStyle.Folded ? (int)scalar.Start.Line : (int)scalar.Start.Line - 1;
}
