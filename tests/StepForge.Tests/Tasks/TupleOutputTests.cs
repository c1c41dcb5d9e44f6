using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Tests.Tasks;

/// <summary>
/// step-semantics.md, "Verification of a candidate": a tuple-typed output's data_transform has one entry per component,
/// entry i computing component i (as upstream's generator reads it).
/// </summary>
public class TupleOutputTests
{
    private const string Template = """
        name: double-and-increment
        inputs:
          - name: x
            dtype: fp32
            dims: [N, M]
            data_gen: torch.randn
        fns:
          - name: DoubleAndIncrement
            func_name: fn_pair
            input_dtype: fp32
            output_dtype: [fp32, fp32]
            apply: |
              return [input[0] * 2, input[0] + 1]
        outputs:
          - name: out
            dtype: [fp32, fp32]
            dims: [N, M]
            data_transform:
        TRANSFORMS
        impl: |
          out = step.Map(fn=fn_pair).apply(x)
          return out
        """;

    private static TaskSpec Task(params string[] entries) =>
        TaskReader.Read(Template.Replace("TRANSFORMS", string.Join("\n", entries.Select(e => "      - " + e)), StringComparison.Ordinal), "pair.yaml");

    [Fact]
    public void EntryI_ComputesComponentI()
    {
        var task = Task("input_data['x'] * 2", "input_data['x'] + 1");
        Assert.Equal(2, task.Outputs[0].DataTransforms.Count);
        var verdict = Verifier.Verify(task, options: new VerifyOptions(Trials: 2));
        Assert.True(verdict.IsCorrect, verdict.Message);
        Assert.Equal(2, verdict.Outputs!.Count);
    }

    [Fact]
    public void SwappedEntries_AreWrong_OnTheFirstComponent()
    {
        var verdict = Verifier.Verify(Task("input_data['x'] + 1", "input_data['x'] * 2"));
        Assert.Equal(VerdictKind.Wrong, verdict.Kind);
        Assert.Contains("component 0", verdict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEntryMayPrepareItsExpressionWithStatements_AndSeeEarlierEntriesNames()
    {
        var task = Task("|\n        y = input_data['x'] * 2\n        y", "y / 2 + 1");
        Assert.True(Verifier.Verify(task).IsCorrect);
    }

    [Fact]
    public void OneEntryForTwoComponents_IsABadTaskFile()
    {
        var e = Assert.Throws<TaskFileException>(() => Task("input_data['x'] * 2"));
        Assert.Contains("outputs[0].data_transform", e.Message, StringComparison.Ordinal);
        Assert.Contains("one entry per component", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheWriter_KeepsOneEntryPerComponent()
    {
        var task = Task("input_data['x'] * 2", "input_data['x'] + 1");
        var again = TaskReader.Read(TaskWriter.Write(task), "again.yaml");
        Assert.Equal(task.Outputs[0].DataTransforms, again.Outputs[0].DataTransforms);
    }
}
