using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace StepForge.Tasks;

/// <summary>YAML that cannot be read: what is wrong and the line (1-based) where the reader stopped.</summary>
public sealed class YamlTextException(string problem, int? line) : Exception(problem)
{
    public int? Line { get; } = line;
}

/// <summary>
/// Reads untrusted YAML (task files, --impl files, model answers) into YamlDotNet's representation model with bounded
/// length and nesting. YamlDotNet builds nested nodes recursively, so 40,000 levels of <c>[</c> overflow the stack and
/// end the process: the text is first read as a stream of events, which needs no recursion, and refused when it
/// nests deeper than <see cref="MaxDepth"/>. Every exception the reader throws on malformed text (it throws more
/// than <see cref="YamlException"/>, e.g. InvalidOperationException on some line separators) becomes a
/// <see cref="YamlTextException"/>.
/// </summary>
public static class YamlText
{
    /// <summary>Task files nest five levels; anything much deeper is not a task, a candidate or an answer.</summary>
    public const int MaxDepth = 100;

    /// <summary>Characters of YAML read at most (a task file is a few kilobytes).</summary>
    public const int MaxLength = 4 << 20;

    /// <summary>The root node of the first document, or null for a text with no document.</summary>
    /// <exception cref="YamlTextException">when the text is too long, too deeply nested or not YAML.</exception>
    public static YamlNode? LoadRoot(string text)
    {
        if (text.Length > MaxLength)
            throw new YamlTextException($"{text.Length:N0} characters is more than the {MaxLength:N0} read", null);
        int? line = null;
        try
        {
            var parser = new Parser(new StringReader(text));
            int depth = 0;
            while (parser.MoveNext())
            {
                line = (int)parser.Current!.Start.Line;
                if (parser.Current is SequenceStart or MappingStart)
                {
                    if (++depth > MaxDepth) throw new YamlTextException($"nested more than {MaxDepth} levels deep", line);
                }
                else if (parser.Current is SequenceEnd or MappingEnd) depth--;
            }
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        catch (YamlException e)
        {
            throw new YamlTextException(FirstLine(e.Message), (int)e.Start.Line);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            throw new YamlTextException($"the YAML reader failed: {FirstLine(e.Message)}", line);
        }
    }

    private static string FirstLine(string message)
    {
        var trimmed = message.Split('\n')[0].Trim();
        int paren = trimmed.IndexOf("): ", StringComparison.Ordinal);
        return paren >= 0 && trimmed.StartsWith('(') ? trimmed[(paren + 3)..] : trimmed;
    }
}
