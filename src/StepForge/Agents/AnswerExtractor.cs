using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace StepForge.Agents;

/// <summary>The program found in an answer, or why there is none.</summary>
public sealed record Extraction(string? Impl, string? Problem)
{
    public static Extraction Found(string impl) => new(impl, null);

    public static Extraction Missing(string problem) => new(null, problem);
}

/// <summary>
/// Finds the program in a model's answer: a YAML <c>impl:</c> in a fenced block or bare, with any prose around it;
/// in the single-ws setting a <c>def body(...)</c> function. Answers are untrusted text: nothing here evaluates them.
/// </summary>
public static partial class AnswerExtractor
{
    /// <summary>Longer answers are refused unread (a verifier's input should be a program, not a book).</summary>
    public const int MaxAnswerLength = 200_000;

    public static Extraction Extract(string answer, Setting setting) =>
        setting == Setting.SingleWs ? ExtractBody(answer) : ExtractImpl(answer);

    public static Extraction ExtractImpl(string answer)
    {
        if (Refuse(answer) is { } problem) return Extraction.Missing(problem);
        answer = WithoutThinking(answer);
        var blocks = Fences().Matches(answer).Select(m => m.Groups["body"].Value).ToList();
        foreach (var block in blocks.Where(b => ImplKey().IsMatch(b)).Reverse())
            if (ImplFromYaml(block[ImplKey().Match(block).Index..]) is { } impl) return Extraction.Found(impl);
        var bare = ImplKey().Matches(answer).LastOrDefault();
        if (bare is not null)
        {
            var rest = answer[bare.Index..];
            int fence = rest.IndexOf("```", StringComparison.Ordinal);
            if (ImplFromYaml(fence >= 0 ? rest[..fence] : rest) is { } impl) return Extraction.Found(impl);
        }
        // A fenced program without the impl: key is still a program.
        var program = blocks.LastOrDefault(b => b.Contains("step.", StringComparison.Ordinal) && b.Contains("return", StringComparison.Ordinal));
        if (program is not null) return Extraction.Found(program.TrimEnd() + "\n");
        // A short answer without a program (a refusal, the built-in search giving up) is quoted: it says why.
        var said = answer.Trim();
        return Extraction.Missing("no program found in the answer (expected a YAML block with an impl: key)" +
            (said.Length <= 300 && !said.Contains('\n', StringComparison.Ordinal) ? $": \"{said}\"" : ""));
    }

    public static Extraction ExtractBody(string answer)
    {
        if (Refuse(answer) is { } problem) return Extraction.Missing(problem);
        answer = WithoutThinking(answer);
        var blocks = Fences().Matches(answer).Select(m => m.Groups["body"].Value).Where(b => BodyDef().IsMatch(b)).ToList();
        var source = blocks.Count > 0 ? blocks[^1] : answer;
        var def = BodyDef().Matches(source).LastOrDefault();
        if (def is null) return Extraction.Missing("no def body(...) function found in the answer");
        var lines = source[(def.Index + def.Length)..].Split('\n').Skip(1).ToList();
        var body = new List<string>();
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0) { body.Add(""); continue; }
            if (!char.IsWhiteSpace(line[0])) break;
            body.Add(line);
        }
        var nonEmpty = body.Where(l => l.Trim().Length > 0).ToList();
        if (nonEmpty.Count == 0) return Extraction.Missing("def body(...) has no statements");
        int indent = nonEmpty.Min(l => l.Length - l.TrimStart().Length);
        return Extraction.Found(string.Join("\n", body.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart())).Trim('\n') + "\n");
    }

    private static string? Refuse(string answer) =>
        answer.Trim().Length == 0 ? "the answer is empty"
        : answer.Length > MaxAnswerLength ? $"the answer is {answer.Length:N0} characters long; at most {MaxAnswerLength:N0} are read"
        : null;

    /// <summary>Reasoning models may think aloud in &lt;think&gt; tags; a program in there is not the answer.</summary>
    private static string WithoutThinking(string answer) => Thinking().Replace(answer, "");

    private static string? ImplFromYaml(string text)
    {
        try
        {
            if (Tasks.YamlText.LoadRoot(text) is YamlMappingNode map
                && map.Children.TryGetValue(new YamlScalarNode("impl"), out var node) && node is YamlScalarNode { Value: { Length: > 0 } impl })
                return impl;
        }
        catch (Tasks.YamlTextException)
        {
            // Not YAML after all: try the next place.
        }
        return null;
    }

    [GeneratedRegex(@"```[ \t]*[A-Za-z0-9_+-]*[ \t]*\r?\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex Fences();

    [GeneratedRegex(@"^impl:", RegexOptions.Multiline)]
    private static partial Regex ImplKey();

    [GeneratedRegex(@"^[ \t]*def[ \t]+body[ \t]*\([^)]*\)[ \t]*(->[^:]*)?:", RegexOptions.Multiline)]
    private static partial Regex BodyDef();

    [GeneratedRegex(@"<think>.*?(</think>|$)", RegexOptions.Singleline)]
    private static partial Regex Thinking();
}
