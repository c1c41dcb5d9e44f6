using StepForge.Diagnostics;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tensors;

namespace StepForge.Tests.Tasks;

/// <summary>
/// step-semantics.md, "Verification of a candidate", rule 4: outputs are compared as torch.testing.assert_close
/// compares float32 tensors, on every element, NaN and infinities included.
/// </summary>
public class ComparisonRuleTests
{
    private static Tensor T(params float[] values) => new([values.Length], values);

    private static OutputCheck Compare(Tensor expected, Tensor actual, bool equalNan = false) =>
        OutputComparison.Compare("out", 0, expected, actual, equalNan);

    [Fact]
    public void FiniteValues_WithinRtolAndAtol_AreClose()
    {
        Assert.True(Compare(T(1f, 100f), T(1f + 9e-6f, 100f + 1.3e-4f)).Close);
        Assert.False(Compare(T(1f), T(1f + 3e-5f)).Close);
    }

    [Fact]
    public void AnInfinityInTheReference_IsMatchedOnlyByTheSameInfinity()
    {
        Assert.True(Compare(T(float.NegativeInfinity, float.PositiveInfinity), T(float.NegativeInfinity, float.PositiveInfinity)).Close);
        var finite = Compare(T(float.NegativeInfinity), T(-69f));
        Assert.False(finite.Close);
        Assert.Equal(Rules.CompareNonFinite.Id, finite.Rule);
        Assert.Contains("expected -inf, actual -69", finite.Detail, StringComparison.Ordinal);
        Assert.False(Compare(T(float.NegativeInfinity), T(float.PositiveInfinity)).Close);
        Assert.False(Compare(T(float.PositiveInfinity), T(float.NaN)).Close);
    }

    [Fact]
    public void ANaNInTheReference_IsNeverClose_UnlessEqualNan()
    {
        var finite = Compare(T(1f, float.NaN), T(1f, 2f));
        Assert.False(finite.Close);
        Assert.Contains("index (1): expected nan, actual 2", finite.Detail, StringComparison.Ordinal);
        Assert.False(Compare(T(float.NaN), T(float.NaN)).Close);
        Assert.True(Compare(T(float.NaN), T(float.NaN), equalNan: true).Close);
        Assert.False(Compare(T(float.NaN), T(0f), equalNan: true).Close);
    }

    [Fact]
    public void ANonFiniteCandidateValue_WhereTheReferenceIsFinite_IsNeverClose()
    {
        Assert.False(Compare(T(1f), T(float.NaN)).Close);
        Assert.False(Compare(T(1f), T(float.PositiveInfinity)).Close);
        Assert.False(Compare(T(3e38f), T(float.NegativeInfinity)).Close);
        Assert.False(Compare(T(1f), T(float.NaN), equalNan: true).Close);
    }

    [Fact]
    public void TheVerdict_NamesTheFirstNonFiniteMismatch_InRowMajorOrder()
    {
        var check = OutputComparison.Compare("out", 0, new Tensor([2, 2], [0f, float.NaN, float.NegativeInfinity, 1f]), new Tensor([2, 2], [5f, 3f, 4f, 1f]));
        Assert.Contains("3 of 4 elements differ; first non-finite mismatch at index (0, 1): expected nan, actual 3", check.Detail, StringComparison.Ordinal);
    }

    private const string SqrtTask = """
        name: sqrt-of-randn
        EQUAL_NAN
        inputs:
          - name: x
            dtype: fp32
            dims: [N, M]
            data_gen: torch.randn
        fns:
          - name: Sqrt
            func_name: fn_sqrt
            input_dtype: fp32
            output_dtype: fp32
            apply: |
              return [torch.sqrt(input[0])]
          - name: SqrtOfAbs
            func_name: fn_sqrt_abs
            input_dtype: fp32
            output_dtype: fp32
            apply: |
              return [torch.sqrt(torch.abs(input[0]))]
        outputs:
          - name: out
            dtype: fp32
            dims: [N, M]
            data_transform: |
              torch.sqrt(input_data['x'])
        """;

    private static TaskSpec Sqrt(bool equalNan) =>
        TaskReader.Read(SqrtTask.Replace("EQUAL_NAN", equalNan ? "equal_nan: true" : "", StringComparison.Ordinal), "sqrt.yaml");

    [Fact]
    public void ASqrtOfAbsCandidate_IsWrong_WhereTheReferenceIsNaN()
    {
        var verdict = Verifier.Verify(Sqrt(equalNan: true), "out = step.Map(fn=fn_sqrt_abs).apply(x)\nreturn out");
        Assert.Equal(VerdictKind.Wrong, verdict.Kind);
        Assert.Equal(Rules.CompareNonFinite.Id, verdict.Rule);
        Assert.Contains("expected nan", verdict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheExactCandidate_MatchesNaNs_OnlyWhenTheTaskSaysEqualNan()
    {
        const string program = "out = step.Map(fn=fn_sqrt).apply(x)\nreturn out";
        Assert.Equal(VerdictKind.Wrong, Verifier.Verify(Sqrt(equalNan: false), program).Kind);
        Assert.True(Verifier.Verify(Sqrt(equalNan: true), program).IsCorrect);
    }

    [Fact]
    public void ALogOfZeroReference_RejectsAFiniteStandIn_AndAcceptsMinusInfinity()
    {
        var task = TaskReader.Read("""
            name: log-of-zero
            inputs:
              - name: x
                dtype: fp32
                dims: [N, M]
                data_gen: torch.rand
            fns:
              - name: LogOfZero
                func_name: fn_log0
                input_dtype: fp32
                output_dtype: fp32
                apply: |
                  return [torch.log(input[0] * 0)]
              - name: Minus69
                func_name: fn_m69
                input_dtype: fp32
                output_dtype: fp32
                apply: |
                  return [input[0] * 0 - 69]
            outputs:
              - name: out
                dtype: fp32
                dims: [N, M]
                data_transform: |
                  torch.log(input_data['x'] * 0)
            """, "log.yaml");
        var stand = Verifier.Verify(task, "out = step.Map(fn=fn_m69).apply(x)\nreturn out");
        Assert.Equal(VerdictKind.Wrong, stand.Kind);
        Assert.Contains("expected -inf, actual -69", stand.Message, StringComparison.Ordinal);
        Assert.True(Verifier.Verify(task, "out = step.Map(fn=fn_log0).apply(x)\nreturn out").IsCorrect);
    }

    [Fact]
    public void EqualNan_MustBeTrueOrFalse()
    {
        var e = Assert.Throws<TaskFileException>(() => TaskReader.Read(SqrtTask.Replace("EQUAL_NAN", "equal_nan: maybe", StringComparison.Ordinal), "t.yaml"));
        Assert.Contains("equal_nan", e.Message, StringComparison.Ordinal);
    }
}
