using System.Text.RegularExpressions;
using StepForge.Tests.Support;

namespace StepForge.Tests.Agents;

/// <summary>
/// Task variants of RMS norm, one per kind of answer, and a fake model that answers each by its name: the right
/// program, a wrong one, an ill-typed one, a non-affine one, garbage, nothing, or something hostile.
/// </summary>
public static partial class AgentScenario
{
    public static readonly string Source = File.ReadAllText(Path.Combine(TestPaths.ProjectBenchmark, "norm", "rmsnorm.yaml"));

    public static string Impl => Source[(Source.IndexOf("impl: |\n", StringComparison.Ordinal) + 8)..]
        .Split('\n').Select(l => l.StartsWith("  ", StringComparison.Ordinal) ? l[2..] : l).Aggregate((a, b) => a + "\n" + b).TrimEnd() + "\n";

    public static string NonAffine => Impl.Replace("x_sq, x_out = step.Copy().apply(x)\n", "", StringComparison.Ordinal)
        .Replace("x_sq", "x", StringComparison.Ordinal).Replace("x_out", "x", StringComparison.Ordinal);

    /// <summary>The kinds of answer and the verdict each must get in the single setting.</summary>
    public static readonly IReadOnlyDictionary<string, string> Expected = new Dictionary<string, string>
    {
        ["correct"] = "correct",
        ["wrong"] = "wrong",
        ["illtyped"] = "type",
        ["nonaffine"] = "affine",
        ["unparsable"] = "parse",
        ["empty"] = "parse",
        ["hostile"] = "parse",
    };

    /// <summary>Writes one task file per kind of answer into a fresh folder.</summary>
    public static string WriteTasks(IEnumerable<string>? kinds = null)
    {
        var dir = Scratch.Folder("stepforge-agents-");
        foreach (var kind in kinds ?? Expected.Keys)
            File.WriteAllText(Path.Combine(dir, $"rms-{kind}.yaml"), Source.Replace("name: norm-rmsnorm", $"name: rms-{kind}", StringComparison.Ordinal));
        return dir;
    }

    public static string Program(string kind) => kind switch
    {
        "correct" => Impl,
        "wrong" => Impl.Replace("shifted = step.Map(fn=fn_add_eps).apply(mean_sq)", "shifted = mean_sq", StringComparison.Ordinal),
        "illtyped" => Impl.Replace("step.Accum(fn=fn_add, b=1)", "step.Accum(fn=fn_div, b=1)", StringComparison.Ordinal),
        "nonaffine" => NonAffine,
        "hostile" => "os = __import__('os')\nos.system('touch /tmp/stepforge-pwned')\nreturn x\n",
        _ => "",
    };

    /// <summary>The task a proposer prompt asks for (YAML or Python source form).</summary>
    public static string TaskOf(FakeRequest request)
    {
        var tail = request.User[request.User.LastIndexOf("Your task:", StringComparison.Ordinal)..];
        return TaskName().Match(tail).Groups[1].Value;
    }

    public static bool IsGuardian(FakeRequest request) => request.System.StartsWith("You check STeP programs", StringComparison.Ordinal);

    /// <summary>How the fake model answers: prose around a fenced YAML block, or a def body(...) in the single-ws setting.</summary>
    public static string Answer(FakeRequest request)
    {
        if (IsGuardian(request))
        {
            // The guardian's answer: the program made affine (the fake knows only the non-affine one; others come back as they are).
            var given = ProgramIn(request.User);
            var program = given.Trim() == NonAffine.Trim() ? Impl : given;
            return "Here is the affine program.\n```yaml\nimpl: |\n" + Indent(program) + "```\n";
        }
        var kind = TaskOf(request)["rms-".Length..];
        if (kind == "empty") return "";
        if (kind == "unparsable") return "Sure!\n```yaml\nimpl: |\n  x = step.Map(fn=fn_square.apply(x\n  return x\n```";
        var text = Program(kind);
        if (request.System.Contains("def body", StringComparison.Ordinal))
            return "Let me think.\n```python\ndef body(x):\n" + Indent(text, "    ") + "```\nDone.";
        return "Let me work through the layout first.\n\n```yaml\nimpl: |\n" + Indent(text) + "```\n\nThis should be it.";
    }

    private static string ProgramIn(string user)
    {
        var start = user.IndexOf("impl: |\n", StringComparison.Ordinal) + 8;
        var end = user.IndexOf("```", start, StringComparison.Ordinal);
        return string.Join("\n", user[start..end].Split('\n').Select(l => l.StartsWith("  ", StringComparison.Ordinal) ? l[2..] : l)).TrimEnd() + "\n";
    }

    /// <summary>A program as a model writes it: a fenced YAML block with the program under <c>impl: |</c>.</summary>
    public static string Fenced(string program) => "```yaml\nimpl: |\n" + Indent(program) + "```\n";

    private static string Indent(string text, string by = "  ") =>
        string.Concat(text.TrimEnd().Split('\n').Select(l => by + l + "\n"));

    [GeneratedRegex(@"(?:^name: |^# Task: )(\S+)", RegexOptions.Multiline)]
    private static partial Regex TaskName();
}
