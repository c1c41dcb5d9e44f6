using StepForge.Tests.Agents;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cost;

/// <summary>
/// A row-sum task with two correct programs of different cost, and a fake model that answers them in turn: the
/// task's reference program buffers each row and sums it in one Map; the other streams it through an Accum.
/// </summary>
public static class CostScenario
{
    public const string Buffered = "rows = step.Bufferize(a=1).apply(x)\nout = step.Map(fn=fn_row_sum).apply(rows)\nreturn out\n";

    /// <summary>The streaming program, with a comment that makes its text the longer one (so shortest and cheapest differ).</summary>
    public const string Streaming = "# stream every row through one adder: no buffer to fill first\nout = step.Accum(fn=fn_add, b=1).apply(x)\nreturn out\n";

    public static string Yaml(string name) => $$"""
        name: {{name}}
        group: costs
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
          - name: RowSum
            func_name: fn_row_sum
            input_dtype: Buffer(fp32, [N])
            output_dtype: fp32
            apply: |
              return [input[0].sum()]
        outputs:
          - name: out
            dtype: fp32
            dims: [M]
            data_transform: |
              input_data['x'].sum(-1)
        impl: |
        {{TaskYaml.Indent(Buffered.TrimEnd())}}
        """;

    /// <summary>Writes task files of these names into a fresh folder.</summary>
    public static string WriteTasks(params string[] names)
    {
        var dir = Scratch.Folder("stepforge-cost-");
        foreach (var name in names) File.WriteAllText(Path.Combine(dir, name + ".yaml"), Yaml(name));
        return dir;
    }

    public static FakeReply.Answer Answer(string program) =>
        new("Here it is.\n" + AgentScenario.Fenced(program));

    /// <summary>
    /// The fake model: task <paramref name="solvable"/> gets the buffered program first and the streaming one second
    /// (then alternately); any other task gets an answer without a program.
    /// </summary>
    public static Func<FakeRequest, int, FakeReply> Model(string solvable)
    {
        int asked = 0;
        return (request, _) => AgentScenario.TaskOf(request) == solvable
            ? Answer(Interlocked.Increment(ref asked) % 2 == 1 ? Buffered : Streaming)
            : new FakeReply.Answer("I cannot write this one.");
    }
}
