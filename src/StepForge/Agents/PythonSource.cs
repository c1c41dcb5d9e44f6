using System.Globalization;
using System.Text;
using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Agents;

/// <summary>
/// The task as generated Python source, for the single-ws setting ("without structure"): fns as functions, references
/// as functions, and <c>def body(...)</c> over the input streams for the model to complete.
/// </summary>
public static class PythonSource
{
    public static string Render(TaskSpec task, string? impl)
    {
        var s = new StringBuilder();
        s.AppendLine("import torch").AppendLine("import step  # the STeP operators").AppendLine();
        s.Append("# Task: ").AppendLine(task.Name);
        if (task.Description is { } description) Comment(s, description, "");
        s.Append("# Sizes: ").AppendJoin(", ", task.Sizes.Select(kv => $"{kv.Key} = {kv.Value.ToString(CultureInfo.InvariantCulture)}")).AppendLine();
        if (task.Global is { } global) s.AppendLine().AppendLine("# Global definitions:").AppendLine(global.TrimEnd());
        s.AppendLine().AppendLine("# Input streams (dims innermost first; the torch tensor's shape is their reverse):");
        foreach (var input in task.Inputs) s.AppendLine(CultureInfo.InvariantCulture, $"#   {input.Name}: dtype {input.Type.DType}, dims {Dims(input.Type)}");
        if (task.Parameters.Count > 0)
        {
            s.AppendLine("# Parameters (fns read them as input_data['name']):");
            foreach (var p in task.Parameters) s.AppendLine(CultureInfo.InvariantCulture, $"#   {p.Name}: dtype {p.Type.DType}, dims {Dims(p.Type)}");
        }
        foreach (var fn in task.Fns)
        {
            s.AppendLine().Append(CultureInfo.InvariantCulture, $"# fn {fn.Name}: input dtype {fn.Input}, output dtype {fn.Output}");
            if (fn.Init is { } init) s.Append(", init [").AppendJoin(", ", init.Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append(']');
            s.AppendLine();
            s.AppendLine(fn.Init is null ? $"def {fn.FuncName}(input):" : $"def {fn.FuncName}(input, state):");
            Indent(s, fn.Apply);
        }
        foreach (var output in task.Outputs)
        {
            for (int c = 0; c < output.DataTransforms.Count; c++)
            {
                bool tuple = output.DataTransforms.Count > 1;
                s.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"# Output {output.Name}{(tuple ? $", component {c}" : "")}: dtype {output.Type.DType}, dims {Dims(output.Type)}; its value is the last line:");
                s.AppendLine(CultureInfo.InvariantCulture, $"def reference_{output.Name}{(tuple ? $"_{c}" : "")}(input_data):");
                Indent(s, output.DataTransforms[c]);
            }
        }
        s.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"# Returns {string.Join(", ", task.Outputs.Select(o => o.Name))}, in this order.");
        s.AppendLine(CultureInfo.InvariantCulture, $"def body({string.Join(", ", task.Inputs.Select(i => i.Name))}):");
        Indent(s, impl ?? "...");
        return s.ToString();
    }

    private static string Dims(StreamType type) => "[" + string.Join(", ", type.Shape.Select(d => d.ToString())) + "]";

    private static void Indent(StringBuilder s, string code)
    {
        foreach (var line in code.TrimEnd().Split('\n')) s.Append("    ").AppendLine(line.TrimEnd('\r'));
    }

    private static void Comment(StringBuilder s, string text, string prefix)
    {
        foreach (var line in text.TrimEnd().Split('\n')) s.Append("# ").Append(prefix).AppendLine(line.TrimEnd('\r'));
    }
}
