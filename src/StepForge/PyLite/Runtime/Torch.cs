using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>
/// The PyTorch subset bound as <c>torch</c>: the namespaces (torch, torch.nn, torch.nn.functional, torch.ops.aten)
/// built from the <see cref="Catalogue"/>, the dtypes, torch.finfo and the nn modules. Anything else is an
/// <see cref="UnsupportedFeatureException"/> naming it.
/// </summary>
public static class Torch
{
    public static readonly TorchDType Float32 = new("float32", ElementKind.Float);
    public static readonly TorchDType Float64 = new("float64", ElementKind.Float, FloatFormat.Double);
    public static readonly TorchDType Float16 = new("float16", ElementKind.Float, FloatFormat.Half);
    public static readonly TorchDType BFloat16 = new("bfloat16", ElementKind.Float, FloatFormat.BFloat16);
    public static readonly TorchDType Int64 = new("int64", ElementKind.Int);
    public static readonly TorchDType Int32 = new("int32", ElementKind.Int);
    public static readonly TorchDType BoolType = new("bool", ElementKind.Bool);

    /// <summary>The dtype a tensor reports: the engine's three kinds (half, bfloat16 and double tensors compute in float32).</summary>
    public static TorchDType DTypeOf(ElementKind kind) => kind switch
    {
        ElementKind.Float => Float32,
        ElementKind.Int => Int64,
        _ => BoolType,
    };

    private static readonly Dictionary<string, object?> DTypes = new()
    {
        ["float"] = Float32, ["float32"] = Float32, ["double"] = Float64, ["float64"] = Float64,
        ["half"] = Float16, ["float16"] = Float16, ["bfloat16"] = BFloat16,
        ["long"] = Int64, ["int64"] = Int64, ["int"] = Int32, ["int32"] = Int32,
        ["int16"] = new TorchDType("int16", ElementKind.Int), ["short"] = new TorchDType("int16", ElementKind.Int),
        ["int8"] = new TorchDType("int8", ElementKind.Int), ["uint8"] = new TorchDType("uint8", ElementKind.Int),
        ["bool"] = BoolType,
    };

    internal static IReadOnlyList<object?> Items(object? list) => list switch
    {
        PyList l => l.Items,
        PyTuple t => t.Items,
        _ => throw new TensorException($"expected a list or tuple, not {PyValue.TypeName(list)}"),
    };

    internal static List<Tensor> Tensors(object? list) => list switch
    {
        PyList or PyTuple => [.. Items(list).Select(Operators.ToTensor)],
        _ => throw new TensorException($"expected a list of tensors, not {PyValue.TypeName(list)}"),
    };

    internal static PyTuple Named(Tensor values, Tensor indices) => new([values, indices], ["values", "indices"]);

    /// <summary>torch.tensor(data): nested lists of numbers (or 1-element tensors), rectangular; the dtype follows the values.</summary>
    internal static Tensor FromNested(object? data)
    {
        if (data is Tensor tensor) return tensor.Copy();
        var values = new List<float>();
        var kinds = new HashSet<ElementKind>();
        var dims = new List<int>();
        void Walk(object? node, int depth)
        {
            if (node is PyList or PyTuple)
            {
                var items = Items(node);
                if (dims.Count == depth) dims.Add(items.Count);
                else if (dims.Count < depth || dims[depth] != items.Count) throw new TensorException("torch.tensor(): nested lists must be rectangular");
                foreach (var item in items) Walk(item, depth + 1);
                return;
            }
            if (dims.Count > depth) throw new TensorException("torch.tensor(): nested lists must be rectangular");
            if (node is Tensor { Count: 1 } t) { values.Add(t.Data[0]); kinds.Add(t.Kind); return; }
            values.Add((float)Operators.ToDouble(node));
            kinds.Add(node switch { bool => ElementKind.Bool, long => ElementKind.Int, _ => ElementKind.Float });
            Tensor.Budget?.ChargeElements(1);
        }
        Walk(data, 0);
        var kind = kinds.Contains(ElementKind.Float) ? ElementKind.Float : kinds.Contains(ElementKind.Int) ? ElementKind.Int : kinds.Count == 0 ? ElementKind.Float : ElementKind.Bool;
        if (Tensor.Numel(dims) != values.Count) throw new TensorException("torch.tensor(): nested lists must be rectangular");
        return new Tensor([.. dims], [.. values], kind);
    }

    /// <summary>torch.finfo(dtype): the float format's eps, max, min, tiny and bits.</summary>
    private static PyNamespace FInfo(object? dtype)
    {
        var format = dtype switch
        {
            null => FloatFormat.Single,
            TorchDType { Kind: ElementKind.Float } d => d.Format,
            _ => throw new TensorException("torch.finfo() needs a floating point dtype"),
        };
        var (eps, max, tiny, bits) = format switch
        {
            FloatFormat.Double => (double.BitIncrement(1.0) - 1.0, double.MaxValue, 2.2250738585072014e-308, 64L),
            FloatFormat.Half => (0.0009765625, 65504.0, 6.103515625e-05, 16L),
            FloatFormat.BFloat16 => (0.0078125, 3.3895313892515355e+38, 1.1754943508222875e-38, 16L),
            _ => ((double)(MathF.BitIncrement(1f) - 1f), (double)float.MaxValue, 1.1754943508222875e-38, 32L),
        };
        return new PyNamespace("finfo", new Dictionary<string, object?>
        {
            ["eps"] = eps, ["max"] = max, ["min"] = -max, ["tiny"] = tiny, ["smallest_normal"] = tiny, ["bits"] = bits,
        });
    }

    private static Dictionary<string, object?> Bound(IReadOnlyDictionary<string, TorchFunction> functions, string prefix) =>
        functions.ToDictionary(kv => kv.Key, kv => (object?)Catalogue.Bind(kv.Value, prefix + kv.Key));

    public static PyNamespace Create()
    {
        var nativeLayerNorm = Catalogue.Bind(Catalogue.Named("native_layer_norm"), "torch.ops.aten.native_layer_norm.default");
        var aten = new PyNamespace("torch.ops.aten", new Dictionary<string, object?>
        {
            ["native_layer_norm"] = new PyNamespace("torch.ops.aten.native_layer_norm", new Dictionary<string, object?> { ["default"] = nativeLayerNorm }),
        });
        var nn = NnModule.Classes();
        nn["functional"] = new PyNamespace("torch.nn.functional", Bound(Catalogue.Functional, "torch.nn.functional."));
        var torch = Bound(Catalogue.TorchFunctions, "torch.");
        foreach (var (name, dtype) in DTypes) torch[name] = dtype;
        torch["nn"] = new PyNamespace("torch.nn", nn);
        torch["ops"] = new PyNamespace("torch.ops", new Dictionary<string, object?> { ["aten"] = aten });
        torch["finfo"] = new PyFunction("torch.finfo", (args, kwargs) => FInfo(new Arguments("torch.finfo", args, kwargs, "type").Get("type")));
        torch["inf"] = double.PositiveInfinity;
        torch["nan"] = double.NaN;
        torch["pi"] = Math.PI;
        torch["e"] = Math.E;
        return new PyNamespace("torch", torch);
    }
}

/// <summary>The attributes of a tensor or batched tensor (<c>x.T</c>, <c>x.shape</c>, ...) and its methods from the catalogue.</summary>
public static class TensorAttributes
{
    /// <summary>The attribute, or null when tensors have none of that name.</summary>
    public static object? Get(object self, string name)
    {
        var (value, lead) = self is Batched b ? (b.Value, 1) : ((Tensor)self, 0);
        int rank = value.Rank - lead;
        var shape = value.Shape[lead..];
        object? Wrap(Tensor t) => lead == 0 ? t : new Batched(t);
        return name switch
        {
            "T" => rank < 2 ? self : Wrap(value.Permute([.. Enumerable.Range(0, lead), .. Enumerable.Range(lead, rank).Reverse()])),
            "mT" => rank < 2 ? throw new TensorException("tensor.mT is only supported on matrices or batches of matrices") : Wrap(value.Transpose(-2, -1)),
            "shape" => new PyTuple([.. shape.Select(s => (object?)(long)s)]),
            "ndim" => (long)rank,
            "dtype" => Torch.DTypeOf(value.Kind),
            "device" => "cpu",
            "is_cuda" => false,
            "requires_grad" => false,
            "data" => self,
            _ => Catalogue.Method(self, name),
        };
    }
}

/// <summary>
/// An instance of a torch.nn module (torch.nn.ReLU(), torch.nn.LayerNorm(64), ...): calling it runs the matching
/// functional with the options it was made with. Modules with parameters start from torch's deterministic
/// initialization (LayerNorm and RMSNorm: weight 1, bias 0); modules with random initialization are not supported.
/// </summary>
public sealed class NnModule : IPyCallable
{
    private readonly TorchFunction _function;
    private readonly Dictionary<string, object?> _options;

    private NnModule(string name, TorchFunction function, Dictionary<string, object?> options, bool training)
    {
        Name = name;
        _function = function;
        _options = options;
        Training = training;
    }

    public string Name { get; }

    /// <summary>nn modules start in training mode; only Dropout behaves differently (and is then not supported).</summary>
    public bool Training { get; }

    public object? Call(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
    {
        var input = new Arguments(Name, args, kwargs, "input").Required("input");
        var call = new Dictionary<string, object?>(_options);
        if (_function.Parameters.Contains("training")) call["training"] = Training;
        return Catalogue.Invoke(_function, Name, null, [input], call);
    }

    public object? Get(string attribute) => attribute switch
    {
        "eval" => new PyFunction(Name + ".eval", (_, _) => new NnModule(Name, _function, _options, false)),
        "train" => new PyFunction(Name + ".train", (args, kwargs) =>
            new NnModule(Name, _function, _options, new Arguments(Name + ".train", args, kwargs, "mode").Bool("mode", true))),
        "training" => Training,
        "forward" => new PyFunction(Name + ".forward", Call),
        _ => null,
    };

    public override string ToString() => $"<module {Name}>";

    /// <summary>
    /// One nn module class: its constructor's parameters, and the functional it calls with them (constructor
    /// parameters the functional lacks, such as elementwise_affine, are accepted and dropped).
    /// </summary>
    private sealed record ModuleClass(string Name, string Functional, string[] Parameters, Dictionary<string, object?>? Defaults = null, bool Torch = false);

    private static readonly ModuleClass[] Modules =
    [
        new("ReLU", "relu", ["inplace"]),
        new("ReLU6", "relu6", ["inplace"]),
        new("LeakyReLU", "leaky_relu", ["negative_slope", "inplace"]),
        new("ELU", "elu", ["alpha", "inplace"]),
        new("SELU", "selu", ["inplace"]),
        new("CELU", "celu", ["alpha", "inplace"]),
        new("GELU", "gelu", ["approximate"]),
        new("SiLU", "silu", ["inplace"]),
        new("Mish", "mish", ["inplace"]),
        new("Softplus", "softplus", ["beta", "threshold"]),
        new("Softsign", "softsign", []),
        new("Hardtanh", "hardtanh", ["min_val", "max_val", "inplace"]),
        new("Hardsigmoid", "hardsigmoid", ["inplace"]),
        new("Hardswish", "hardswish", ["inplace"]),
        new("Sigmoid", "sigmoid", []),
        new("Tanh", "tanh", []),
        new("Softmax", "softmax", ["dim"]),
        new("LogSoftmax", "log_softmax", ["dim"]),
        new("LayerNorm", "layer_norm", ["normalized_shape", "eps", "elementwise_affine", "bias", "device", "dtype"]),
        new("RMSNorm", "rms_norm", ["normalized_shape", "eps", "elementwise_affine", "device", "dtype"]),
        new("Dropout", "dropout", ["p", "inplace"]),
        new("Flatten", "flatten", ["start_dim", "end_dim"], new() { ["start_dim"] = 1L }, Torch: true),
        new("Identity", "detach", []),
    ];

    internal static Dictionary<string, object?> Classes()
    {
        var classes = new Dictionary<string, object?>();
        foreach (var m in Modules)
        {
            var function = m.Torch || m.Name == "Identity" ? Catalogue.TorchFunctions[m.Functional] : Catalogue.Functional[m.Functional];
            string name = "torch.nn." + m.Name;
            classes[m.Name] = new PyFunction(name, (args, kwargs) =>
            {
                var a = new Arguments(name, m.Name == "Identity" ? [] : args, m.Name == "Identity" ? new Dictionary<string, object?>() : kwargs, m.Parameters);
                var options = new Dictionary<string, object?>(m.Defaults ?? []);
                foreach (var p in m.Parameters.Where(p => a.Has(p) && function.Parameters.Contains(p))) options[p] = a.Get(p);
                return new NnModule(name, function, options, training: true);
            });
        }
        classes["Linear"] = new PyFunction("torch.nn.Linear", (_, _) =>
            throw new UnsupportedFeatureException("torch.nn.Linear", "its weights are initialized at random; use torch.nn.functional.linear with given weights"));
        return classes;
    }
}
