using System.Text.RegularExpressions;
using StepForge.Tests.Support;

namespace StepForge.Tests;

/// <summary>
/// The README's "Data flows one way": each folder of the library is a stage, and none refers to a stage above it.
/// Read from the sources: a <c>using</c>, a qualified name (<c>StepForge.Step.X</c>) or a name relative to the root
/// namespace (<c>Step.X</c>) is a reference.
/// </summary>
public partial class LayoutTests
{
    /// <summary>The stages, lowest first.</summary>
    private static readonly string[] Stages =
        ["Diagnostics", "Tensors", "PyLite", "Step", "Simulation", "Cost", "Tasks", "Synthesis", "Agents", "Learning", "Reports"];

    /// <summary>The model path: used by Agents only, and it uses nothing above Tasks.</summary>
    private const string Llm = "Llm";

    private static string Library => Path.Combine(TestPaths.RepoRoot, "src", "StepForge");

    [Fact]
    public void EveryFolderOfTheLibrary_IsAStageWithAPlace()
    {
        var folders = Directory.EnumerateDirectories(Library).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).Order(StringComparer.Ordinal);
        Assert.Equal([.. Stages.Append(Llm).Order(StringComparer.Ordinal)], folders);
    }

    [Fact]
    public void NoStage_RefersToAStageAboveIt()
    {
        var wrong = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Library, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Library, file).Replace('\\', '/');
            var stage = relative.Split('/')[0];
            if (stage is "bin" or "obj" || !relative.Contains('/')) continue;
            foreach (var used in References(File.ReadAllText(file)).Where(u => u != stage && !Allowed(stage, u)).Order(StringComparer.Ordinal))
                wrong.Add($"{relative} uses {used}");
        }
        Assert.Empty(wrong);
    }

    [Theory]
    [InlineData("namespace StepForge.Tensors;\nusing StepForge.Step;\n", "Step")]
    [InlineData("var r = StepForge.Tasks.Verifier.Verify(t);", "Tasks")]
    [InlineData("throw new LimitExceededException(Step.Rules.LimitWork, \"x\");", "Step")]
    [InlineData("var c = estimate.Cost.Cycles; // Tasks.Verifier is mentioned here\nvar s = \"Agents.Sampler\";", null)]
    public void AReference_IsAUsingAQualifiedOrARelativeName_NotAMemberACommentOrAString(string code, string? stage)
    {
        Assert.Equal(stage is null ? [] : [stage], References(code));
    }

    private static bool Allowed(string stage, string used)
    {
        if (stage == Llm) return Array.IndexOf(Stages, used) <= Array.IndexOf(Stages, "Tasks");
        if (used == Llm) return stage == "Agents";
        return Array.IndexOf(Stages, used) < Array.IndexOf(Stages, stage);
    }

    private static IReadOnlyList<string> References(string code)
    {
        code = Comment().Replace(StringLiteral().Replace(code, "\"\""), "");
        var names = Stages.Append(Llm).ToHashSet(StringComparer.Ordinal);
        return [.. Reference().Matches(code).Select(m => m.Groups["stage"].Value).Where(names.Contains).Distinct()];
    }

    [GeneratedRegex(@"(?:\bStepForge\.|(?<![\w.]))(?<stage>[A-Z]\w*)\.[A-Z]|\busing\s+StepForge\.(?<stage>\w+)\s*;")]
    private static partial Regex Reference();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"@""(?:[^""]|"""")*""|""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex StringLiteral();
}
