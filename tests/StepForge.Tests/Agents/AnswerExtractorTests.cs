using StepForge.Agents;

namespace StepForge.Tests.Agents;

/// <summary>Finding the program in what a model says.</summary>
public class AnswerExtractorTests
{
    private const string Program = "a = step.Map(fn=f).apply(x)\nreturn a\n";

    [Theory]
    [InlineData("```yaml\nimpl: |\n  a = step.Map(fn=f).apply(x)\n  return a\n```")]
    [InlineData("Here you go:\n\n```yml\nimpl: |\n  a = step.Map(fn=f).apply(x)\n  return a\n```\nThat maps x.")]
    [InlineData("impl: |\n  a = step.Map(fn=f).apply(x)\n  return a\n")]
    [InlineData("Some thoughts.\nimpl: |\n  a = step.Map(fn=f).apply(x)\n  return a\n\n")]
    [InlineData("```\nimpl: |\n  a = step.Map(fn=f).apply(x)\n  return a\n```")]
    [InlineData("```python\na = step.Map(fn=f).apply(x)\nreturn a\n```")]
    [InlineData("<think>maybe impl: |\n  return y\n</think>\n```yaml\nimpl: |\n  a = step.Map(fn=f).apply(x)\n  return a\n```")]
    [InlineData("First try:\n```yaml\nimpl: |\n  return y\n```\nBetter:\n```yaml\nimpl: |\n  a = step.Map(fn=f).apply(x)\n  return a\n```")]
    public void AFencedOrBareImpl_IsFound_WithProseAround(string answer) =>
        Assert.Equal(Program, AnswerExtractor.ExtractImpl(answer).Impl);

    [Theory]
    [InlineData("", "the answer is empty")]
    [InlineData("   \n", "the answer is empty")]
    [InlineData("I cannot help with that.", "no program found")]
    [InlineData("```yaml\nimpl: [1, 2\n```", "no program found")]
    public void NoProgram_IsAProblemWithAReason(string answer, string problem)
    {
        var extraction = AnswerExtractor.ExtractImpl(answer);
        Assert.Null(extraction.Impl);
        Assert.Contains(problem, extraction.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AHugeAnswer_IsRefusedUnread()
    {
        var extraction = AnswerExtractor.ExtractImpl(new string('x', AnswerExtractor.MaxAnswerLength + 1));
        Assert.Contains("at most", extraction.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("```python\ndef body(x):\n    a = step.Map(fn=f).apply(x)\n    return a\n```")]
    [InlineData("Sure.\n```python\ndef body(x, w) -> tuple:\n  a = step.Map(fn=f).apply(x)\n  return a\nprint('done')\n```")]
    [InlineData("def body(x):\n\ta = step.Map(fn=f).apply(x)\n\treturn a\n")]
    public void ADefBody_IsFound_AndDedented(string answer) =>
        Assert.Equal(Program, AnswerExtractor.ExtractBody(answer).Impl);

    [Fact]
    public void ABodyWithoutStatements_IsAProblem() =>
        Assert.Contains("no statements", AnswerExtractor.ExtractBody("def body(x):\nreturn x").Problem, StringComparison.Ordinal);
}
