using StepForge.Cost;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cost;

/// <summary>Small tasks whose costs can be counted by hand, and helpers to cost programs for them.</summary>
public static class CostFixture
{
    public static TaskSpec Task(string yaml) => TaskReader.Read(yaml, "cost-test.yaml");

    /// <summary>The cost of a program (the task's own when null); fails the test when it has none.</summary>
    public static ProgramCost CostOf(TaskSpec task, string? program = null, Machine? machine = null)
    {
        var estimate = TaskCost.Estimate(task, program ?? task.Impl!, new CostOptions(machine));
        Assert.True(estimate.HasCost, estimate.Problem?.Message);
        return estimate.Cost!;
    }

    public static ProgramCost CostOf(string yaml, string? program = null, Machine? machine = null) => CostOf(Task(yaml), program, machine);

    /// <summary>The unit whose label starts so (an op such as "Accum@1", or "input x", "output out").</summary>
    public static OpCost Op(ProgramCost cost, string label) =>
        Assert.Single(cost.Ops, o => o.Label.StartsWith(label, StringComparison.Ordinal));

    public static ChannelCost Channel(ProgramCost cost, string stream) => Assert.Single(cost.Channels, c => c.Stream == stream);

    /// <summary>x: fp32 with dims [N, M] at the default sizes N = 7, M = 5 (35 elements, rows of 7), and scalar fns.</summary>
    public const string Header = """
        name: cost-rows
        inputs:
          - name: x
            dtype: fp32
            dims: [N, M]
            data_gen: torch.randn
        fns:
          - name: Add
            func_name: fn_add
            input_dtype: fp32
            output_dtype: fp32
            init: [0]
            apply: |
              return [input[0] + state[0]]
          - name: Sub
            func_name: fn_sub
            input_dtype: [fp32, fp32]
            output_dtype: fp32
            apply: |
              return [input[0] - input[1]]
          - name: Exp
            func_name: fn_exp
            input_dtype: fp32
            output_dtype: fp32
            apply: |
              return [torch.exp(input[0])]

        """;

    /// <summary>cost-model.md's worked example: the row sum of x, out = Accum(fn_add, b=1)(x).</summary>
    public const string RowSum = Header + """
        outputs:
          - name: out
            dtype: fp32
            dims: [M]
            data_transform: |
              input_data['x'].sum(-1)
        impl: |
          out = step.Accum(fn=fn_add, b=1).apply(x)
          return out
        """;

    /// <summary>x minus its row sum, by cost-model.md's reconvergent example: a, b = Copy(x); s = Accum(a); r = Repeat(n=N)(s); Zip((b, r)).</summary>
    public const string MinusRowSum = Header + """
        outputs:
          - name: out
            dtype: fp32
            dims: [N, M]
            data_transform: |
              input_data['x'] - input_data['x'].sum(-1, keepdim=True)
        impl: |
          a, b = step.Copy().apply(x)
          s = step.Accum(fn=fn_add, b=1).apply(a)
          r = step.Repeat(n=N).apply(s)
          z = step.Zip().apply((b, r))
          out = step.Map(fn=fn_sub).apply(z)
          return out
        """;

    /// <summary>Two outputs from one Copy of x: its row sums (5 values) and x itself (35).</summary>
    public const string SumsAndCopy = Header + """
        outputs:
          - name: sums
            dtype: fp32
            dims: [M]
            data_transform: |
              input_data['x'].sum(-1)
          - name: copy
            dtype: fp32
            dims: [N, M]
            data_transform: |
              input_data['x']
        impl: |
          a, b = step.Copy().apply(x)
          s = step.Accum(fn=fn_add, b=1).apply(a)
          return s, b
        """;

    /// <summary>A task whose output is x unchanged in shape and type, for layout programs.</summary>
    public static string Same(string impl, string outputDims = "[N, M]", string outputType = "fp32") => Header + $$"""
        outputs:
          - name: out
            dtype: {{outputType}}
            dims: {{outputDims}}
            data_transform: |
              input_data['x']
        impl: |
        {{TaskYaml.Indent(impl.Trim())}}
        """;
}
