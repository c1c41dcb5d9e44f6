using StepForge.Synthesis;
using StepForge.Tasks;

namespace StepForge.Tests.Synthesis;

/// <summary>The model-free search on small tasks: what it finds, and how it gives up.</summary>
public class ProgramSearchTests
{
    private const string Header = """
        name: {0}
        inputs:
          - name: x
            dtype: fp32
            dims: [N, M]
            data_gen: torch.rand
        fns:
          - name: Square
            func_name: fn_square
            input_dtype: fp32
            output_dtype: fp32
            apply: |
              return [input[0] * input[0]]
          - name: Add
            func_name: fn_add
            input_dtype: fp32
            output_dtype: fp32
            init: [0]
            apply: |
              return [state[0] + input[0]]
          - name: Divide
            func_name: fn_divide
            input_dtype: [fp32, fp32]
            output_dtype: fp32
            apply: |
              return [input[0] / input[1]]
        """;

    /// <summary>A small task file as text: x, three fns, and the given outputs.</summary>
    public static string Text(string name, string outputs) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, Header, name) + "\n" + outputs;

    public const string SumOfSquares = """
        outputs:
          - name: out
            dtype: fp32
            dims: [M]
            data_transform: |
              (input_data['x'] ** 2).sum(dim=1)
        """;

    public const string Double = """
        outputs:
          - name: out
            dtype: fp32
            dims: [N, M]
            data_transform: |
              2 * input_data['x']
        """;

    private static TaskSpec Task(string name, string outputs) =>
        TaskReader.Read(string.Format(System.Globalization.CultureInfo.InvariantCulture, Header, name) + "\n" + outputs, $"{name}.yaml");

    [Fact]
    public void ATwoOpProgram_IsFound()
    {
        var task = Task("sum-of-squares", SumOfSquares);
        var result = ProgramSearch.Run(task, new SearchOptions());
        Assert.True(result.IsFound, result.Message);
        Assert.Equal("t0 = step.Map(fn=fn_square).apply(x)\nt1 = step.Accum(fn=fn_add, b=1).apply(t0)\nreturn t1\n", result.Program);
        Assert.True(Verifier.Verify(task, result.Program, new VerifyOptions(Trials: 3, Sizes: new Dictionary<string, long> { ["M"] = 8, ["N"] = 3 })).IsCorrect);
    }

    [Fact]
    public void AFiveOpProgram_IsFound_AndMadeAffine()
    {
        var task = Task("divide-by-row-energy", """
            outputs:
              - name: out
                dtype: fp32
                dims: [N, M]
                data_transform: |
                  x = input_data['x']
                  x / (x ** 2).sum(dim=1, keepdim=True)
            """);
        var result = ProgramSearch.Run(task, new SearchOptions());
        Assert.True(result.IsFound, result.Message);
        var program = result.Program!;
        foreach (var op in new[] { "Map(fn=fn_square)", "Accum(fn=fn_add, b=1)", "Repeat(n=N)", "Zip()", "Map(fn=fn_divide)", "Copy()" })
            Assert.Contains("step." + op, program, StringComparison.Ordinal);
        var verdict = Verifier.Verify(task, program, new VerifyOptions(Trials: 3, AffineMode: StepForge.Step.AffineMode.Strict,
            Sizes: new Dictionary<string, long> { ["M"] = 6, ["N"] = 11 }));
        Assert.True(verdict.IsCorrect, verdict.Message);
        Assert.True(result.Stats.Tried > result.Stats.Kept);
    }

    [Fact]
    public void AnImpossibleTask_EndsWithNoProgramFound_WithinItsBudget()
    {
        // Doubling needs a fn that multiplies by two; the task has none.
        var task = Task("double", Double);
        var result = ProgramSearch.Run(task, new SearchOptions(MaxWork: 20_000_000));
        Assert.False(result.IsFound);
        Assert.StartsWith("no program found", result.Message, StringComparison.Ordinal);
        Assert.True(result.Stats.Seconds < 5, $"{result.Stats.Seconds} s");
    }

    [Fact]
    public void TheCandidateBudget_IsHonoured()
    {
        var task = Task("double", Double);
        var result = ProgramSearch.Run(task, new SearchOptions(MaxCandidates: 500));
        Assert.False(result.IsFound);
        Assert.InRange(result.Stats.Tried, 500, 5_000);
    }

    [Fact]
    public void TheTasksOwnProgram_IsNeverRead()
    {
        var task = Task("sum-of-squares", SumOfSquares + "\nimpl: |\n  this is not a program\n");
        Assert.Equal("this is not a program\n", task.Impl);
        Assert.True(ProgramSearch.Run(task, new SearchOptions()).IsFound);
    }
}
