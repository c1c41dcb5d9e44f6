using StepForge.Agents;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Agents;

/// <summary>What the proposer and guardian are shown.</summary>
public class PromptTests
{
    private static TaskSpec Rms => TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "norm", "rmsnorm.yaml"));

    public static TheoryData<string> ExampleNames() => [.. PromptLibrary.Examples.Select(e => e.Name)];

    [Theory]
    [MemberData(nameof(ExampleNames))]
    public void EveryExampleInAPrompt_IsATaskTheVerifierPasses(string name)
    {
        var example = PromptLibrary.Examples.Single(e => e.Name == name);
        var verdict = Verifier.Verify(example, options: new VerifyOptions(Trials: 3, AffineMode: StepForge.Step.AffineMode.Strict));
        Assert.True(verdict.IsCorrect, verdict.Message);
        var larger = Verifier.Verify(example, options: new VerifyOptions(Trials: 2, Sizes: new Dictionary<string, long> { ["M"] = 11, ["N"] = 13, ["D"] = 6 }.Where(kv => example.Sizes.ContainsKey(kv.Key)).ToDictionary()));
        Assert.True(larger.IsCorrect, larger.Message);
    }

    [Fact]
    public void TheExamples_ShowEveryKindOfOpThatNeedsShowing()
    {
        var programs = string.Join("\n", PromptLibrary.Examples.Select(e => e.Impl));
        foreach (var op in new[] { "Accum", "Map", "Zip", "Repeat", "Copy", "Partition", "Merge" })
            Assert.Contains($"step.{op}(", programs, StringComparison.Ordinal);
    }

    [Fact]
    public void TheStructuredPrompt_ShowsTheTaskAsYaml_WithoutItsProgram()
    {
        var prompt = ProposerPrompt.Build(Rms, Setting.Single);
        var task = prompt.User[prompt.User.LastIndexOf("Your task:", StringComparison.Ordinal)..];
        Assert.Contains("name: norm-rmsnorm", task, StringComparison.Ordinal);
        Assert.Contains("func_name: fn_add_eps", task, StringComparison.Ordinal);
        Assert.Contains("data_transform:", task, StringComparison.Ordinal);
        Assert.DoesNotContain("impl:", task, StringComparison.Ordinal);
        Assert.DoesNotContain("upstream:", prompt.User, StringComparison.Ordinal);
        Assert.Contains("Each stream may be used at most once", prompt.System, StringComparison.Ordinal);
        Assert.Contains("impl: |", prompt.System, StringComparison.Ordinal);
        // The structured task reads back as the same task.
        var yaml = task[(task.IndexOf("```yaml\n", StringComparison.Ordinal) + 8)..task.LastIndexOf("```", StringComparison.Ordinal)];
        var reread = TaskReader.Read(yaml, "prompt.yaml");
        Assert.Equal(Rms.Fns.Select(f => f.FuncName), reread.Fns.Select(f => f.FuncName));
        Assert.Null(reread.Impl);
    }

    [Fact]
    public void TheSourcePrompt_ShowsPythonWithABodyToComplete()
    {
        var prompt = ProposerPrompt.Build(Rms, Setting.SingleWs);
        var task = prompt.User[prompt.User.LastIndexOf("Your task:", StringComparison.Ordinal)..];
        Assert.Contains("def fn_add(input, state):", task, StringComparison.Ordinal);
        Assert.Contains("def reference_out(input_data):", task, StringComparison.Ordinal);
        Assert.Contains("def body(x):\n    ...", task, StringComparison.Ordinal);
        Assert.DoesNotContain("dtype: fp32", task, StringComparison.Ordinal);
        Assert.Contains("def body", prompt.System, StringComparison.Ordinal);
    }

    [Fact]
    public void Demonstrations_AndFeedback_AreShown()
    {
        var demo = new Demonstration(TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "index", "softmax-top1.yaml")), "x = 1\nreturn x\n");
        var prompt = ProposerPrompt.Build(Rms, Setting.Single, [demo], "Verdict: type at line 2");
        Assert.Contains("name: index-softmax-top1", prompt.User, StringComparison.Ordinal);
        Assert.Contains("Your previous answer was rejected by the verifier:\nVerdict: type at line 2", prompt.User, StringComparison.Ordinal);
    }

    [Fact]
    public void TheGuardianPrompt_CarriesTheProgram()
    {
        var prompt = GuardianPrompt.Build(Rms, "a = step.Map(fn=fn_sqrt).apply(x)\nreturn a\n");
        Assert.Contains("Input streams: x", prompt.User, StringComparison.Ordinal);
        Assert.Contains("impl: |\n  a = step.Map(fn=fn_sqrt).apply(x)\n  return a", prompt.User, StringComparison.Ordinal);
        Assert.Equal("a = step.Map(fn=fn_sqrt).apply(x)\nreturn a\n", AnswerExtractor.ExtractImpl(prompt.User).Impl);
    }
}
