using System.Globalization;
using StepForge.Step;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace StepForge.Tasks;

/// <summary>Writes a task in the project's own format (the upstream keys plus group, description and sizes).</summary>
public static class TaskWriter
{
    public static string Write(TaskSpec task)
    {
        var root = new YamlMappingNode { { "name", task.Name } };
        if (task.Group is not null) root.Add("group", task.Group);
        if (task.Upstream is not null) root.Add("upstream", task.Upstream);
        if (task.Description is not null) root.Add("description", Text(task.Description));
        if (task.Constraints is not null) root.Add("constraints", Text(task.Constraints));
        var customSizes = task.Sizes.Where(kv => !TaskSpec.DefaultSizes.TryGetValue(kv.Key, out var v) || v != kv.Value)
            .Where(kv => !task.SizeSetByGlobal(kv.Key)).ToList();
        if (customSizes.Count > 0)
        {
            var sizes = new YamlMappingNode();
            foreach (var (k, v) in customSizes) sizes.Add(k, v.ToString(CultureInfo.InvariantCulture));
            root.Add("sizes", sizes);
        }
        if (task.EqualNan) root.Add("equal_nan", "true");
        if (task.Global is not null) root.Add("global", Text(task.Global));
        root.Add("inputs", Streams(task.Inputs));
        if (task.Parameters.Count > 0) root.Add("parameters", Streams(task.Parameters));
        var fns = new YamlSequenceNode();
        foreach (var fn in task.Fns)
        {
            var node = new YamlMappingNode
            {
                { "name", fn.Name },
                { "func_name", fn.FuncName },
                { "input_dtype", DTypeNode(fn.Input) },
                { "output_dtype", DTypeNode(fn.Output) },
                { "apply", Text(fn.Apply) },
            };
            if (fn.Init is { } init)
                node.Add("init", Flow(init.Select(v => double.IsNegativeInfinity(v) ? "-inf" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("R", CultureInfo.InvariantCulture))));
            fns.Add(node);
        }
        root.Add("fns", fns);
        var outputs = new YamlSequenceNode();
        foreach (var o in task.Outputs)
            outputs.Add(new YamlMappingNode
            {
                { "name", o.Name },
                { "dtype", DTypeNode(o.Type.DType) },
                { "dims", Flow(o.Type.Shape.Select(d => d.ToString())) },
                { "data_transform", o.DataTransforms.Count == 1 ? Text(o.DataTransforms[0]) : new YamlSequenceNode(o.DataTransforms.Select(Text)) },
            });
        root.Add("outputs", outputs);
        if (task.Impl is not null) root.Add("impl", Text(task.Impl));

        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        var text = writer.ToString();
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    private static YamlSequenceNode Streams(IEnumerable<InputSpec> streams)
    {
        var seq = new YamlSequenceNode();
        foreach (var s in streams)
        {
            var node = new YamlMappingNode
            {
                { "name", s.Name },
                { "dtype", DTypeNode(s.Type.DType) },
                { "dims", Flow(s.Type.Shape.Select(d => d.ToString())) },
            };
            if (s.DataGen is not null) node.Add("data_gen", s.DataGen);
            if (s.MinOnes is int min) node.Add("min", min.ToString(CultureInfo.InvariantCulture));
            if (s.MaxOnes is int max) node.Add("max", max.ToString(CultureInfo.InvariantCulture));
            seq.Add(node);
        }
        return seq;
    }

    private static YamlNode DTypeNode(DType dtype) =>
        dtype is TupleType t ? Flow(t.Items.Select(i => i.ToString())) : new YamlScalarNode(dtype.ToString());

    private static YamlSequenceNode Flow(IEnumerable<string> items)
    {
        var seq = new YamlSequenceNode(items.Select(i => new YamlScalarNode(i))) { Style = SequenceStyle.Flow };
        return seq;
    }

    private static YamlScalarNode Text(string text) =>
        text.Contains('\n', StringComparison.Ordinal)
            ? new YamlScalarNode(text) { Style = ScalarStyle.Literal }
            : new YamlScalarNode(text);
}
