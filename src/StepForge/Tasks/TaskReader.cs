using System.Globalization;
using StepForge.PyLite;
using StepForge.Step;
using YamlDotNet.RepresentationModel;

namespace StepForge.Tasks;

/// <summary>
/// Reads task files: the upstream <c>*_test.yaml</c>/<c>*_ref.yaml</c> files unchanged, and the project's own files.
/// Every problem is a <see cref="TaskFileException"/> naming the file, the key path (such as <c>fns[2].init</c>)
/// and what is wrong.
/// </summary>
public static class TaskReader
{
    private static readonly HashSet<string> TopKeys =
        ["test_name", "name", "group", "upstream", "description", "constraints", "sizes", "equal_nan", "global", "inputs", "parameters", "fns", "outputs", "impl"];

    private static readonly HashSet<string> DataGens = ["torch.rand", "torch.randn", "torch.ones", "torch.zeros", "binary"];

    public static TaskSpec ReadFile(string path)
    {
        string text;
        try
        {
            if (new FileInfo(path).Length > YamlText.MaxLength)
                throw new TaskFileException(path, null, $"the file is larger than {YamlText.MaxLength >> 20} MB; a task file is a few kilobytes");
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TaskFileException(path, null, e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"cannot read the file ({e.Message})");
        }
        return Read(text, path);
    }

    public static TaskSpec Read(string yaml, string path)
    {
        YamlNode? document;
        try
        {
            document = YamlText.LoadRoot(yaml);
        }
        catch (YamlTextException e)
        {
            throw new TaskFileException(path, null, $"not valid YAML: {e.Message}", e.Line);
        }
        if (document is null)
            throw new TaskFileException(path, null, "the file is empty; a task file is a YAML mapping with inputs, fns and outputs");
        var root = document as YamlMappingNode
            ?? throw new TaskFileException(path, null, "not a task file: the top level must be a YAML mapping with inputs, fns and outputs", Line(document));
        return new Reader(path, root).Read();
    }

    private static int? Line(YamlNode node) => node.Start.Line > 0 ? (int)node.Start.Line : null;

    private sealed class Reader(string path, YamlMappingNode root)
    {
        private Dictionary<string, long> _sizes = [];

        public TaskSpec Read()
        {
            foreach (var key in root.Children.Keys)
            {
                var keyName = (key as YamlScalarNode)?.Value ?? "";
                if (!TopKeys.Contains(keyName))
                    throw Fail(keyName, $"unknown key; a task file has {string.Join(", ", TopKeys)}", key);
            }

            string name = OptionalString(root, "name", "name") ?? OptionalString(root, "test_name", "test_name")
                ?? Path.GetFileNameWithoutExtension(path);
            string? group = OptionalString(root, "group", "group");
            string? upstream = OptionalString(root, "upstream", "upstream");
            string? description = OptionalString(root, "description", "description");
            string? constraints = OptionalString(root, "constraints", "constraints");

            _sizes = new Dictionary<string, long>(TaskSpec.DefaultSizes);
            if (Get(root, "sizes") is { } sizesNode)
            {
                var map = sizesNode as YamlMappingNode ?? throw Fail("sizes", "must be a mapping such as {M: 5, N: 7}", sizesNode);
                foreach (var (k, v) in map.Children)
                {
                    var sym = Scalar(k, "sizes");
                    if (!IsIdentifier(sym)) throw Fail("sizes", $"'{sym}' is not a dimension symbol", k);
                    _sizes[sym] = PositiveInt(v, $"sizes.{sym}");
                }
            }

            string? global = OptionalString(root, "global", "global");
            var block = GlobalBlock.Empty;
            if (global is not null)
            {
                try
                {
                    block = GlobalBlock.Read(global, _sizes);
                }
                catch (PyLiteSyntaxException e)
                {
                    throw Fail("global", $"line {e.Line}, column {e.Column}: {e.Message}", Get(root, "global")!);
                }
                catch (FormatException e)
                {
                    throw Fail("global", e.Message, Get(root, "global")!);
                }
                foreach (var (k, v) in block.Dims) _sizes[k] = v;
            }

            var inputs = ReadStreams("inputs", required: true);
            var parameters = ReadStreams("parameters", required: false);
            var fns = ReadFns();
            var outputs = ReadOutputs();

            var seen = new Dictionary<string, string>();
            foreach (var (n, key) in inputs.Select((s, i) => (s.Name, $"inputs[{i}].name"))
                .Concat(parameters.Select((s, i) => (s.Name, $"parameters[{i}].name")))
                .Concat(outputs.Select((s, i) => (s.Name, $"outputs[{i}].name"))))
            {
                if (!seen.TryAdd(n, key)) throw Fail(key, $"duplicate name '{n}' (also {seen[n]})", null);
            }
            var fnNames = new Dictionary<string, int>();
            for (int i = 0; i < fns.Count; i++)
            {
                if (!fnNames.TryAdd(fns[i].FuncName, i))
                    throw Fail($"fns[{i}].func_name", $"duplicate function name '{fns[i].FuncName}' (also fns[{fnNames[fns[i].FuncName]}])", null);
                if (seen.ContainsKey(fns[i].FuncName))
                    throw Fail($"fns[{i}].func_name", $"'{fns[i].FuncName}' is also the name of a stream", null);
            }

            string? impl = OptionalString(root, "impl", "impl");
            bool equalNan = OptionalString(root, "equal_nan", "equal_nan") switch
            {
                null or "false" or "False" => false,
                "true" or "True" => true,
                var other => throw Fail("equal_nan", $"must be true or false, not '{other}'", Get(root, "equal_nan")),
            };
            return new TaskSpec(name, path, group, upstream, description, constraints, _sizes, global, block.Ints, block.Names,
                inputs, parameters, fns, outputs, impl)
            {
                EqualNan = equalNan,
                ImplLineOffset = Get(root, "impl") is YamlScalarNode implNode ? CandidateText.ProgramLineOffset(implNode) : 0,
            };
        }

        private TaskFileException Fail(string? key, string problem, YamlNode? node) =>
            new(path, key, problem, node is null ? null : Line(node));

        private static YamlNode? Get(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

        private string Scalar(YamlNode node, string key) =>
            node is YamlScalarNode s ? s.Value ?? "" : throw Fail(key, $"must be a single value, not a {Kind(node)}", node);

        private static string Kind(YamlNode node) => node switch
        {
            YamlSequenceNode => "list",
            YamlMappingNode => "mapping",
            _ => "value",
        };

        private string? OptionalString(YamlMappingNode map, string name, string key) =>
            Get(map, name) is { } node ? Scalar(node, key) : null;

        private string RequiredString(YamlMappingNode map, string name, string key) =>
            OptionalString(map, name, $"{key}.{name}") ?? throw Fail($"{key}.{name}", "missing", map);

        private long PositiveInt(YamlNode node, string key)
        {
            var text = Scalar(node, key);
            if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v <= 0)
                throw Fail(key, $"must be a positive integer, not '{text}'", node);
            return v;
        }

        private static bool IsIdentifier(string s) =>
            s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

        private YamlSequenceNode? Sequence(YamlMappingNode map, string name, string key, bool required)
        {
            var node = Get(map, name);
            if (node is null)
                return required ? throw Fail(key, "missing", map) : null;
            if (node is YamlScalarNode { Value: null or "" or "~" or "null" }) return required ? throw Fail(key, "must not be empty", node) : null;
            return node as YamlSequenceNode ?? throw Fail(key, $"must be a list, not a {Kind(node)}", node);
        }

        private YamlMappingNode Item(YamlNode node, string key) =>
            node as YamlMappingNode ?? throw Fail(key, $"must be a mapping (name, dtype, ...), not a {Kind(node)}", node);

        private DType ReadDType(YamlMappingNode map, string name, string key)
        {
            var node = Get(map, name) ?? throw Fail($"{key}.{name}", "missing", map);
            DType dtype;
            try
            {
                dtype = node switch
                {
                    YamlSequenceNode seq when seq.Children.Count > 0 =>
                        DType.Tuple(seq.Children.Select((c, i) => DTypeSyntax.ParseDType(Scalar(c, $"{key}.{name}[{i}]")))),
                    YamlSequenceNode => throw new FormatException("an empty list is not a dtype"),
                    _ => DTypeSyntax.ParseDType(Scalar(node, $"{key}.{name}")),
                };
            }
            catch (FormatException e)
            {
                throw Fail($"{key}.{name}", e.Message, node);
            }
            CheckSymbols(dtype.AllDims, $"{key}.{name}", node);
            return dtype;
        }

        private void CheckSymbols(IEnumerable<Dim> dims, string key, YamlNode node)
        {
            foreach (var symbol in dims.SelectMany(d => d.Symbols))
                if (!_sizes.ContainsKey(symbol))
                    throw Fail(key, $"unknown dimension symbol '{symbol}' (known: {string.Join(", ", _sizes.Keys)}; a task adds one with ctx[{symbol}] = ... in global, or under sizes)", node);
        }

        private ValueList<Dim> ReadDims(YamlMappingNode map, string key)
        {
            var node = Get(map, "dims") ?? throw Fail($"{key}.dims", "missing", map);
            var seq = node as YamlSequenceNode ?? throw Fail($"{key}.dims", "must be a list of dimensions such as [N, M]", node);
            if (seq.Children.Count == 0) throw Fail($"{key}.dims", "a stream needs at least one dimension", node);
            var dims = new List<Dim>();
            for (int i = 0; i < seq.Children.Count; i++)
            {
                var text = Scalar(seq.Children[i], $"{key}.dims[{i}]");
                try { dims.Add(DTypeSyntax.ParseDim(text)); }
                catch (FormatException e) { throw Fail($"{key}.dims[{i}]", e.Message, seq.Children[i]); }
            }
            CheckSymbols(dims, $"{key}.dims", node);
            return new ValueList<Dim>(dims);
        }

        private string RequireIdentifier(YamlMappingNode map, string name, string key)
        {
            var value = RequiredString(map, name, key);
            if (!IsIdentifier(value)) throw Fail($"{key}.{name}", $"'{value}' is not a valid name", Get(map, name));
            return value;
        }

        private List<InputSpec> ReadStreams(string section, bool required)
        {
            var result = new List<InputSpec>();
            var seq = Sequence(root, section, section, required);
            if (seq is null) return result;
            for (int i = 0; i < seq.Children.Count; i++)
            {
                string key = $"{section}[{i}]";
                var map = Item(seq.Children[i], key);
                var name = RequireIdentifier(map, "name", key);
                var type = new StreamType(ReadDType(map, "dtype", key), ReadDims(map, key));
                string? gen = OptionalString(map, "data_gen", $"{key}.data_gen");
                int? min = Get(map, "min") is { } minNode ? (int)NonNegative(minNode, $"{key}.min") : null;
                int? max = Get(map, "max") is { } maxNode ? (int)NonNegative(maxNode, $"{key}.max") : null;
                if (type.DType is MultihotType mh)
                {
                    if (min is null || max is null)
                        throw Fail(key, "a Multihot input needs min and max (how many flags are set per position)", map);
                    var width = mh.Width.Evaluate(_sizes);
                    if (min > max || (width is not null && max > width))
                        throw Fail(key, $"min and max must satisfy 0 <= min <= max <= {mh.Width} (got min {min}, max {max})", map);
                }
                else
                {
                    if (gen is null) throw Fail($"{key}.data_gen", $"missing (one of {string.Join(", ", DataGens)})", map);
                    if (!DataGens.Contains(gen))
                        throw Fail($"{key}.data_gen", $"unknown generator '{gen}' (expected one of {string.Join(", ", DataGens)})", Get(map, "data_gen"));
                }
                result.Add(new InputSpec(name, type, gen, min, max));
            }
            return result;
        }

        private long NonNegative(YamlNode node, string key)
        {
            var text = Scalar(node, key);
            if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < 0 || v > int.MaxValue)
                throw Fail(key, $"must be a non-negative integer, not '{text}'", node);
            return v;
        }

        private List<FnDecl> ReadFns()
        {
            var result = new List<FnDecl>();
            var seq = Sequence(root, "fns", "fns", required: true)!;
            for (int i = 0; i < seq.Children.Count; i++)
            {
                string key = $"fns[{i}]";
                var map = Item(seq.Children[i], key);
                var name = RequiredString(map, "name", key);
                var funcName = RequireIdentifier(map, "func_name", key);
                var input = ReadDType(map, "input_dtype", key);
                var output = ReadDType(map, "output_dtype", key);
                var apply = RequiredString(map, "apply", key);
                CheckPython(apply, $"{key}.apply", Get(map, "apply")!);
                ValueList<double>? init = null;
                if (Get(map, "init") is { } initNode)
                {
                    var items = initNode is YamlSequenceNode s ? s.Children.ToList() : [initNode];
                    init = new ValueList<double>(items.Select((n, j) => InitValue(n, $"{key}.init[{j}]")));
                    if (init.Value.Count != output.Components.Count)
                        throw Fail($"{key}.init", $"needs one value per output component: {output.Components.Count} for {output}, got {init.Value.Count}", initNode);
                }
                result.Add(new FnDecl(name, funcName, input, output, apply, init));
            }
            return result;
        }

        private double InitValue(YamlNode node, string key)
        {
            var text = Scalar(node, key).Trim();
            var normalized = text.ToLowerInvariant().Replace(".inf", "inf", StringComparison.Ordinal);
            if (normalized is "inf" or "+inf") return double.PositiveInfinity;
            if (normalized is "-inf") return double.NegativeInfinity;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
            throw Fail(key, $"'{text}' is not a number (use a number, inf or -inf)", node);
        }

        private void CheckPython(string source, string key, YamlNode node)
        {
            try
            {
                PyLite.Parser.ParseModule(source);
            }
            catch (PyLiteSyntaxException e)
            {
                int? fileLine = node is YamlScalarNode scalar ? CandidateText.ProgramLineOffset(scalar) + e.Line : null;
                throw new TaskFileException(path, key, $"line {e.Line}, column {e.Column} of the snippet: {e.Message}", fileLine ?? Line(node));
            }
        }

        private List<OutputSpec> ReadOutputs()
        {
            var result = new List<OutputSpec>();
            var seq = Sequence(root, "outputs", "outputs", required: true)!;
            for (int i = 0; i < seq.Children.Count; i++)
            {
                string key = $"outputs[{i}]";
                var map = Item(seq.Children[i], key);
                var name = RequireIdentifier(map, "name", key);
                var type = new StreamType(ReadDType(map, "dtype", key), ReadDims(map, key));
                var node = Get(map, "data_transform") ?? throw Fail($"{key}.data_transform", "missing", map);
                // One entry per component, as upstream's generator reads it; a single string is a list of one.
                var entries = node is YamlSequenceNode s ? [.. s.Children.Select((c, j) => (Node: c, Key: $"{key}.data_transform[{j}]"))] : new[] { (Node: node, Key: $"{key}.data_transform") };
                int components = type.DType.Components.Count;
                if (entries.Length != components)
                    throw Fail($"{key}.data_transform", $"has {entries.Length} entr{(entries.Length == 1 ? "y" : "ies")} for {components} output component(s) of dtype {type.DType}: " +
                        "it needs one entry per component, in order (entry i computes component i)", node);
                var transforms = new List<string>();
                foreach (var (entryNode, entryKey) in entries)
                {
                    var transform = Scalar(entryNode, entryKey);
                    if (string.IsNullOrWhiteSpace(transform)) throw Fail(entryKey, "must not be empty", entryNode);
                    CheckPython(transform, entryKey, entryNode);
                    transforms.Add(transform);
                }
                result.Add(new OutputSpec(name, type, new ValueList<string>(transforms)));
            }
            return result;
        }
    }
}
