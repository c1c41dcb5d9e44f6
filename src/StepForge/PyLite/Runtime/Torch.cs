using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>
/// The PyTorch subset bound as <c>torch</c>: the functions, modules and tensor methods the benchmark tasks use.
/// Anything else is a clear "not supported" runtime error naming it.
/// </summary>
public static class Torch
{
    /// <summary>A torch function; with batched arguments it runs its rule in <see cref="BatchRules"/>, or cannot be batched.</summary>
    private static PyFunction Fn(string name, Func<Arguments, object?> body, params string[] parameters) =>
        new(name, (args, kwargs) =>
        {
            var a = new Arguments(name, args, kwargs, parameters);
            if (!Batching.Any(args) && !Batching.Any(kwargs.Values)) return body(a);
            return BatchRules.TryGetValue(name, out var rule) ? rule(a) : throw new NotBatchableException(name);
        });

    private static Batched B(object? v) => v as Batched ?? throw new NotBatchableException("an unbatched input here");

    private static object? BatchedMax(Arguments a, bool minimum)
    {
        var other = a.Get("dim");
        if (other is Tensor or Batched) return Batching.Binary(minimum ? BinaryKind.Min : BinaryKind.Max, a.Required("input"), other);
        var x = B(a.Required("input"));
        if (minimum) throw new NotBatchableException("torch.min");
        if (other is null) return Batching.Reduce(x, null, (t, d) => TensorMath.MaxAlong(t, d).Values);
        var (values, indices) = TensorMath.MaxAlong(x.Value, x.Dim(a.Int("dim")), a.Bool("keepdim", false));
        return new PyTuple([new Batched(values), new Batched(indices)], ["values", "indices"]);
    }

    internal static Batched Scatter(object? input, int dim, object? index, object? value, bool inPlace)
    {
        var x = B(input);
        if (inPlace) Batching.EnsureWritable(x, "scatter_");
        var idx = index is Batched bi ? bi.Value : Operators.ToTensor(index).Unsqueeze(0).BroadcastTo([x.Size, .. Operators.ToTensor(index).Shape]);
        return new Batched(TensorMath.Scatter(x.Value, x.Dim(dim), idx, (float)Operators.ToDouble(value), inPlace));
    }

    internal static object Concat(object? list, int dim, bool stack)
    {
        var items = list is PyList l ? l.Items : list is PyTuple t ? t.Items : throw new TensorException("expected a list of tensors");
        var tensors = Batching.Broadcast(items, out _);
        int logicalRank = tensors[0].Rank - 1 + (stack ? 1 : 0);
        int d = dim >= 0 ? dim + 1 : dim;
        if (dim >= logicalRank || dim < -logicalRank) throw new TensorException($"dimension {dim} is out of range");
        return new Batched(stack ? Tensor.Stack(tensors, d) : Tensor.Cat(tensors, d));
    }

    private static Func<Arguments, object?> UnaryRule(Func<Tensor, Tensor> f) => a => Batching.Unary(B(a.Required("input")), f);

    private static Func<Arguments, object?> BinaryRule(BinaryKind kind, string other = "other") => a => Batching.Binary(kind, a.Required("input"), a.Required(other));

    private static readonly Dictionary<string, Func<Arguments, object?>> BatchRules = new()
    {
        ["torch.exp"] = UnaryRule(TensorMath.Exp),
        ["torch.sqrt"] = UnaryRule(TensorMath.Sqrt),
        ["torch.cos"] = UnaryRule(TensorMath.Cos),
        ["torch.sin"] = UnaryRule(TensorMath.Sin),
        ["torch.abs"] = UnaryRule(TensorMath.Abs),
        ["torch.log"] = UnaryRule(TensorMath.Log),
        ["torch.tanh"] = UnaryRule(TensorMath.Tanh),
        ["torch.relu"] = UnaryRule(TensorMath.Relu),
        ["torch.sigmoid"] = UnaryRule(TensorMath.Sigmoid),
        ["torch.neg"] = UnaryRule(TensorMath.Negate),
        ["torch.square"] = UnaryRule(t => TensorMath.Binary(BinaryKind.Mul, t, t)),
        ["torch.rsqrt"] = UnaryRule(t => TensorMath.Map(t, x => 1f / MathF.Sqrt(x))),
        ["silu"] = UnaryRule(TensorMath.Silu),
        ["gelu"] = UnaryRule(TensorMath.Gelu),
        ["relu"] = UnaryRule(TensorMath.Relu),
        ["sigmoid"] = UnaryRule(TensorMath.Sigmoid),
        ["softmax"] = a => { var x = B(a.Required("input")); return new Batched(TensorMath.Softmax(x.Value, x.Dim(a.Int("dim")))); },
        ["torch.softmax"] = a => { var x = B(a.Required("input")); return new Batched(TensorMath.Softmax(x.Value, x.Dim(a.Int("dim")))); },
        ["torch.maximum"] = BinaryRule(BinaryKind.Max),
        ["torch.minimum"] = BinaryRule(BinaryKind.Min),
        ["torch.add"] = BinaryRule(BinaryKind.Add),
        ["torch.sub"] = BinaryRule(BinaryKind.Sub),
        ["torch.mul"] = BinaryRule(BinaryKind.Mul),
        ["torch.div"] = BinaryRule(BinaryKind.Div),
        ["torch.pow"] = BinaryRule(BinaryKind.Pow, "exponent"),
        ["torch.max"] = a => BatchedMax(a, false),
        ["torch.matmul"] = a => Batching.Matmul(a.Required("input"), a.Required("other")),
        ["torch.topk"] = a =>
        {
            var x = B(a.Required("input"));
            var (values, indices) = TensorMath.TopK(x.Value, a.Int("k"), x.Dim(a.Int("dim", -1)), a.Bool("largest", true));
            return new PyTuple([new Batched(values), new Batched(indices)], ["values", "indices"]);
        },
        ["torch.sum"] = a => Batching.Reduce(B(a.Required("input")), a.OptionalInt("dim"), (t, d) => TensorMath.Sum(t, d, a.Bool("keepdim", false))),
        ["torch.mean"] = a => Batching.Reduce(B(a.Required("input")), a.OptionalInt("dim"), (t, d) => TensorMath.Mean(t, d, a.Bool("keepdim", false))),
        ["torch.var"] = a => Batching.Reduce(B(a.Required("input")), a.OptionalInt("dim"), (t, d) => TensorMath.Var(t, d, a.Bool("keepdim", false), a.Bool("unbiased", true))),
        ["torch.zeros_like"] = a => new Batched(Tensor.Allocate([.. B(a.Required("input")).Value.Shape], KindOf(a) ?? B(a.Required("input")).Value.Kind)),
        ["torch.ones_like"] = a => new Batched(Tensor.Full([.. B(a.Required("input")).Value.Shape], 1, KindOf(a) ?? B(a.Required("input")).Value.Kind)),
        ["torch.scatter"] = a => Scatter(a.Required("input"), a.Int("dim"), a.Required("index"), a.Required("value"), false),
        ["torch.cat"] = a => Concat(a.Required("tensors"), a.Int("dim", 0), stack: false),
        ["torch.concat"] = a => Concat(a.Required("tensors"), a.Int("dim", 0), stack: false),
        ["torch.stack"] = a => Concat(a.Required("tensors"), a.Int("dim", 0), stack: true),
        ["torch.unsqueeze"] = a => BatchedMethods.Unsqueeze(B(a.Required("input")), a.Int("dim")),
        ["torch.flatten"] = a => BatchedMethods.Flatten(B(a.Required("input")), a.Int("start_dim", 0), a.Int("end_dim", -1)),
        ["torch.movedim"] = a => { var x = B(a.Required("input")); return new Batched(x.Value.Movedim(x.Dim(a.Int("source")), x.Dim(a.Int("destination")))); },
        ["torch.transpose"] = a => { var x = B(a.Required("input")); return new Batched(x.Value.Transpose(x.Dim(a.Int("dim0")), x.Dim(a.Int("dim1")))); },
        ["torch.chunk"] = a => { var x = B(a.Required("input")); return new PyTuple([.. x.Value.Chunk(a.Int("chunks"), x.Dim(a.Int("dim", 0))).Select(c => (object?)new Batched(c))]); },
        ["torch.clamp"] = a => Batching.Unary(B(a.Required("input")), t => TensorMath.Clamp(t, a.Get("min") is { } lo ? Operators.ToDouble(lo) : null, a.Get("max") is { } hi ? Operators.ToDouble(hi) : null)),
        ["native_layer_norm"] = a =>
        {
            if (a.Get("weight") is not null || a.Get("bias") is not null) throw new NotBatchableException("native_layer_norm with weight or bias");
            var (output, mean, rstd) = TensorMath.LayerNorm(B(a.Required("input")).Value, Shape([a.Required("normalized_shape")]), Operators.ToDouble(a.Required("eps")));
            return new PyTuple([new Batched(output), new Batched(mean), new Batched(rstd)]);
        },
    };

    public static readonly TorchDType Float32 = new("float32", ElementKind.Float);
    public static readonly TorchDType Int64 = new("int64", ElementKind.Int);
    public static readonly TorchDType BoolType = new("bool", ElementKind.Bool);

    private static Tensor T(object? v) => Operators.ToTensor(v);

    private static int Dim(Arguments a, string name = "dim", int? fallback = null) => a.Int(name, fallback);

    private static ElementKind? KindOf(Arguments a) =>
        a.Get("dtype") switch
        {
            null => null,
            TorchDType d => d.Kind,
            var other => throw new TensorException($"dtype must be a torch dtype, not {PyValue.TypeName(other)}"),
        };

    internal static int[] Shape(IReadOnlyList<object?> args)
    {
        var items = args.Count == 1 && args[0] is PyTuple or PyList
            ? (args[0] is PyTuple t ? t.Items : ((PyList)args[0]!).Items)
            : args;
        return [.. items.Select(i =>
        {
            long v = Operators.ToLong(i);
            return v is < 0 or > int.MaxValue ? throw new TensorException($"invalid dimension {v}") : (int)v;
        })];
    }

    private static Tensor FromNested(object? data)
    {
        var values = new List<float>();
        var kinds = new HashSet<ElementKind>();
        int[]? shape = null;
        void Walk(object? node, int depth, List<int> dims)
        {
            if (node is PyList or PyTuple)
            {
                var items = node is PyList l ? l.Items : ((PyTuple)node).Items;
                if (dims.Count == depth) dims.Add(items.Count);
                else if (dims[depth] != items.Count) throw new TensorException("torch.tensor(): nested lists must be rectangular");
                foreach (var item in items) Walk(item, depth + 1, dims);
                return;
            }
            if (node is Tensor { Count: 1 } t) { values.Add(t.Data[0]); kinds.Add(t.Kind); return; }
            values.Add((float)Operators.ToDouble(node));
            kinds.Add(node switch { bool => ElementKind.Bool, long => ElementKind.Int, _ => ElementKind.Float });
        }
        var dimList = new List<int>();
        Walk(data, 0, dimList);
        shape = [.. dimList];
        var kind = kinds.Contains(ElementKind.Float) ? ElementKind.Float : kinds.Contains(ElementKind.Int) ? ElementKind.Int : kinds.Count == 0 ? ElementKind.Float : ElementKind.Bool;
        Tensor.Budget?.ChargeElements(values.Count);
        return new Tensor(shape, [.. values], kind);
    }

    private static object? Max(Arguments a, bool minimum)
    {
        var x = T(a.Required("input"));
        var other = a.Get("dim");
        if (other is Tensor y) return TensorMath.Binary(minimum ? BinaryKind.Min : BinaryKind.Max, x, y);
        if (other is null && x.Count == 0) throw new TensorException($"{(minimum ? "min" : "max")}(): expected a non-empty tensor");
        if (other is null) return minimum ? Tensor.Scalar(x.Data.Min(), x.Kind) : TensorMath.MaxAll(x);
        if (minimum) throw new TensorException("torch.min(x, dim) is not supported");
        var (values, indices) = TensorMath.MaxAlong(x, a.Int("dim"), a.Bool("keepdim", false));
        return Named(values, indices);
    }

    internal static PyTuple Named(Tensor values, Tensor indices) => new([values, indices], ["values", "indices"]);

    private static Tensor Binary(Arguments a, BinaryKind kind) => TensorMath.Binary(kind, T(a.Required("input")), T(a.Required("other")));

    /// <summary>An nn module instance; elementwise modules batch as they are, Softmax shifts its dim.</summary>
    private static PyFunction Module(string name, Func<Tensor, Tensor> apply, Func<Batched, Batched>? batched = null) =>
        new(name, (args, kwargs) =>
        {
            var input = new Arguments(name, args, kwargs, "input").Required("input");
            return input is Batched b ? batched?.Invoke(b) ?? new Batched(apply(b.Value)) : apply(T(input));
        });

    public static PyNamespace Create()
    {
        var nn = new Dictionary<string, object?>
        {
            ["Softmax"] = Fn("torch.nn.Softmax", a =>
            {
                int dim = a.Int("dim");
                return Module("Softmax", x => TensorMath.Softmax(x, dim), b => new Batched(TensorMath.Softmax(b.Value, b.Dim(dim))));
            }, "dim"),
            ["Sigmoid"] = Fn("torch.nn.Sigmoid", _ => Module("Sigmoid", TensorMath.Sigmoid)),
            ["SiLU"] = Fn("torch.nn.SiLU", _ => Module("SiLU", TensorMath.Silu)),
            ["GELU"] = Fn("torch.nn.GELU", a => (a.Get("approximate") as string ?? "none") == "none"
                ? Module("GELU", TensorMath.Gelu) : throw new TensorException("torch.nn.GELU(approximate='tanh') is not supported"), "approximate"),
            ["ReLU"] = Fn("torch.nn.ReLU", _ => Module("ReLU", TensorMath.Relu)),
            ["Tanh"] = Fn("torch.nn.Tanh", _ => Module("Tanh", TensorMath.Tanh)),
            ["functional"] = new PyNamespace("torch.nn.functional", new Dictionary<string, object?>
            {
                ["softmax"] = Fn("softmax", a => TensorMath.Softmax(T(a.Required("input")), Dim(a)), "input", "dim"),
                ["silu"] = Fn("silu", a => TensorMath.Silu(T(a.Required("input"))), "input"),
                ["gelu"] = Fn("gelu", a => TensorMath.Gelu(T(a.Required("input"))), "input"),
                ["relu"] = Fn("relu", a => TensorMath.Relu(T(a.Required("input"))), "input"),
                ["sigmoid"] = Fn("sigmoid", a => TensorMath.Sigmoid(T(a.Required("input"))), "input"),
            }),
        };

        var aten = new PyNamespace("torch.ops.aten", new Dictionary<string, object?>
        {
            ["native_layer_norm"] = new PyNamespace("torch.ops.aten.native_layer_norm", new Dictionary<string, object?>
            {
                ["default"] = Fn("native_layer_norm", a =>
                {
                    if (a.Get("weight") is not null || a.Get("bias") is not null)
                        throw new TensorException("native_layer_norm with weight or bias is not supported");
                    var (output, mean, rstd) = TensorMath.LayerNorm(T(a.Required("input")), Shape([a.Required("normalized_shape")]), Operators.ToDouble(a.Required("eps")));
                    return new PyTuple([output, mean, rstd]);
                }, "input", "normalized_shape", "weight", "bias", "eps"),
            }),
        });

        var torch = new Dictionary<string, object?>
        {
            ["float"] = Float32, ["float32"] = Float32, ["int64"] = Int64, ["long"] = Int64, ["bool"] = BoolType,
            ["nn"] = new PyNamespace("torch.nn", nn),
            ["ops"] = new PyNamespace("torch.ops", new Dictionary<string, object?> { ["aten"] = aten }),
            ["tensor"] = Fn("torch.tensor", a =>
            {
                var t = FromNested(a.Required("data"));
                return KindOf(a) is { } k ? t.WithKind(k) : t;
            }, "data", "dtype"),
            ["zeros"] = new PyFunction("torch.zeros", (args, kw) => Tensor.Allocate(Shape(args), KindFromKwargs(kw))),
            ["ones"] = new PyFunction("torch.ones", (args, kw) => Tensor.Full(Shape(args), 1, KindFromKwargs(kw))),
            ["zeros_like"] = Fn("torch.zeros_like", a => Tensor.Allocate([.. T(a.Required("input")).Shape], KindOf(a) ?? T(a.Required("input")).Kind), "input", "dtype"),
            ["ones_like"] = Fn("torch.ones_like", a => Tensor.Full([.. T(a.Required("input")).Shape], 1, KindOf(a) ?? T(a.Required("input")).Kind), "input", "dtype"),
            ["arange"] = new PyFunction("torch.arange", (args, kw) =>
            {
                var a = new Arguments("torch.arange", args, kw, "start", "end", "step", "dtype");
                if (args.Count == 0) throw new TensorException("torch.arange() needs an end");
                object? start = args.Count >= 2 ? args[0] : 0L, end = args.Count >= 2 ? args[1] : args[0], step = args.Count >= 3 ? args[2] : 1L;
                bool allInts = start is long && end is long && step is long;
                return TensorMath.Arange(Operators.ToDouble(start), Operators.ToDouble(end), Operators.ToDouble(step), KindOf(a) ?? (allInts ? ElementKind.Int : ElementKind.Float));
            }),
            ["cat"] = Fn("torch.cat", a => Tensor.Cat(Tensors(a.Required("tensors")), a.Int("dim", 0)), "tensors", "dim"),
            ["concat"] = Fn("torch.concat", a => Tensor.Cat(Tensors(a.Required("tensors")), a.Int("dim", 0)), "tensors", "dim"),
            ["stack"] = Fn("torch.stack", a => Tensor.Stack(Tensors(a.Required("tensors")), a.Int("dim", 0)), "tensors", "dim"),
            ["einsum"] = new PyFunction("torch.einsum", (args, _) =>
            {
                if (args.Count < 2 || args[0] is not string eq) throw new TensorException("torch.einsum() needs an equation and operands");
                var raw = args.Count == 2 && args[1] is PyList or PyTuple ? (args[1] is PyList l ? l.Items : ((PyTuple)args[1]!).Items) : args.Skip(1).ToList();
                if (Batching.Any(raw)) return Batching.Einsum(eq, raw);
                return TensorMath.Einsum(eq, [.. raw.Select(T)]);
            }),
            ["matmul"] = Fn("torch.matmul", a => TensorMath.Matmul(T(a.Required("input")), T(a.Required("other"))), "input", "other"),
            ["bmm"] = Fn("torch.bmm", a =>
            {
                var x = T(a.Required("input"));
                var y = T(a.Required("mat2"));
                if (x.Rank != 3 || y.Rank != 3) throw new TensorException("torch.bmm() needs two 3-d tensors");
                return TensorMath.Matmul(x, y);
            }, "input", "mat2"),
            ["max"] = Fn("torch.max", a => Max(a, false), "input", "dim", "keepdim"),
            ["min"] = Fn("torch.min", a => Max(a, true), "input", "dim", "keepdim"),
            ["maximum"] = Fn("torch.maximum", a => Binary(a, BinaryKind.Max), "input", "other"),
            ["minimum"] = Fn("torch.minimum", a => Binary(a, BinaryKind.Min), "input", "other"),
            ["add"] = Fn("torch.add", a => Binary(a, BinaryKind.Add), "input", "other"),
            ["sub"] = Fn("torch.sub", a => Binary(a, BinaryKind.Sub), "input", "other"),
            ["mul"] = Fn("torch.mul", a => Binary(a, BinaryKind.Mul), "input", "other"),
            ["div"] = Fn("torch.div", a => Binary(a, BinaryKind.Div), "input", "other"),
            ["square"] = Fn("torch.square", a => TensorMath.Binary(BinaryKind.Mul, T(a.Required("input")), T(a.Required("input"))), "input"),
            ["rsqrt"] = Fn("torch.rsqrt", a => TensorMath.Map(T(a.Required("input")), x => 1f / MathF.Sqrt(x)), "input"),
            ["neg"] = Fn("torch.neg", a => TensorMath.Negate(T(a.Required("input"))), "input"),
            ["where"] = Fn("torch.where", a => TensorMath.Where(T(a.Required("condition")), T(a.Required("input")), T(a.Required("other"))), "condition", "input", "other"),
            ["clamp"] = Fn("torch.clamp", a => TensorMath.Clamp(T(a.Required("input")), a.Get("min") is { } lo ? Operators.ToDouble(lo) : null, a.Get("max") is { } hi ? Operators.ToDouble(hi) : null), "input", "min", "max"),
            ["argmax"] = Fn("torch.argmax", a => a.OptionalInt("dim") is int d
                ? TensorMath.MaxAlong(T(a.Required("input")), d, a.Bool("keepdim", false)).Indices
                : TensorMath.MaxAlong(T(a.Required("input")).Reshape([-1]), 0).Indices, "input", "dim", "keepdim"),
            ["exp"] = Fn("torch.exp", a => TensorMath.Exp(T(a.Required("input"))), "input"),
            ["sqrt"] = Fn("torch.sqrt", a => TensorMath.Sqrt(T(a.Required("input"))), "input"),
            ["cos"] = Fn("torch.cos", a => TensorMath.Cos(T(a.Required("input"))), "input"),
            ["sin"] = Fn("torch.sin", a => TensorMath.Sin(T(a.Required("input"))), "input"),
            ["abs"] = Fn("torch.abs", a => TensorMath.Abs(T(a.Required("input"))), "input"),
            ["log"] = Fn("torch.log", a => TensorMath.Log(T(a.Required("input"))), "input"),
            ["tanh"] = Fn("torch.tanh", a => TensorMath.Tanh(T(a.Required("input"))), "input"),
            ["relu"] = Fn("torch.relu", a => TensorMath.Relu(T(a.Required("input"))), "input"),
            ["sigmoid"] = Fn("torch.sigmoid", a => TensorMath.Sigmoid(T(a.Required("input"))), "input"),
            ["pow"] = Fn("torch.pow", a => TensorMath.Binary(BinaryKind.Pow, T(a.Required("input")), T(a.Required("exponent"))), "input", "exponent"),
            ["softmax"] = Fn("torch.softmax", a => TensorMath.Softmax(T(a.Required("input")), Dim(a)), "input", "dim", "dtype"),
            ["topk"] = Fn("torch.topk", a =>
            {
                var (values, indices) = TensorMath.TopK(T(a.Required("input")), a.Int("k"), a.Int("dim", -1), a.Bool("largest", true));
                return Named(values, indices);
            }, "input", "k", "dim", "largest", "sorted"),
            ["sum"] = Fn("torch.sum", a => TensorMath.Sum(T(a.Required("input")), a.OptionalInt("dim"), a.Bool("keepdim", false)), "input", "dim", "keepdim"),
            ["mean"] = Fn("torch.mean", a => TensorMath.Mean(T(a.Required("input")), a.OptionalInt("dim"), a.Bool("keepdim", false)), "input", "dim", "keepdim"),
            ["var"] = Fn("torch.var", a => TensorMath.Var(T(a.Required("input")), a.OptionalInt("dim"), a.Bool("keepdim", false), a.Bool("unbiased", true)), "input", "dim", "unbiased", "keepdim"),
            ["scatter"] = Fn("torch.scatter", a => TensorMath.Scatter(T(a.Required("input")), a.Int("dim"), T(a.Required("index")), (float)Operators.ToDouble(a.Required("value")), false), "input", "dim", "index", "value"),
            ["unsqueeze"] = Fn("torch.unsqueeze", a => T(a.Required("input")).Unsqueeze(a.Int("dim")), "input", "dim"),
            ["squeeze"] = Fn("torch.squeeze", a => T(a.Required("input")).Squeeze(a.OptionalInt("dim")), "input", "dim"),
            ["flatten"] = Fn("torch.flatten", a => T(a.Required("input")).Flatten(a.Int("start_dim", 0), a.Int("end_dim", -1)), "input", "start_dim", "end_dim"),
            ["movedim"] = Fn("torch.movedim", a => T(a.Required("input")).Movedim(a.Int("source"), a.Int("destination")), "input", "source", "destination"),
            ["transpose"] = Fn("torch.transpose", a => T(a.Required("input")).Transpose(a.Int("dim0"), a.Int("dim1")), "input", "dim0", "dim1"),
            ["chunk"] = Fn("torch.chunk", a => new PyTuple([.. T(a.Required("input")).Chunk(a.Int("chunks"), a.Int("dim", 0))]), "input", "chunks", "dim"),
        };
        return new PyNamespace("torch", torch);
    }

    private static ElementKind KindFromKwargs(IReadOnlyDictionary<string, object?> kwargs)
    {
        foreach (var key in kwargs.Keys)
            if (key != "dtype") throw new TensorException($"unexpected keyword argument '{key}'");
        return kwargs.TryGetValue("dtype", out var d) && d is TorchDType t ? t.Kind : ElementKind.Float;
    }

    internal static List<Tensor> Tensors(object? list) => list switch
    {
        PyList l => [.. l.Items.Select(T)],
        PyTuple t => [.. t.Items.Select(T)],
        _ => throw new TensorException($"expected a list of tensors, not {PyValue.TypeName(list)}"),
    };
}

/// <summary>The methods and attributes of a tensor (<c>x.unsqueeze(-1)</c>, <c>x.T</c>, ...).</summary>
public static class TensorMethods
{
    private static PyFunction M(string name, Func<Arguments, object?> body, params string[] parameters) =>
        new("Tensor." + name, (args, kwargs) => body(new Arguments("Tensor." + name, args, kwargs, parameters)));

    public static object? Get(Tensor t, string name) => name switch
    {
        "T" or "mT" => t.ReverseDims(),
        "shape" => new PyTuple([.. t.Shape.Select(s => (object?)(long)s)]),
        "ndim" => (long)t.Rank,
        "dtype" => t.Kind switch { ElementKind.Float => Torch.Float32, ElementKind.Int => Torch.Int64, _ => Torch.BoolType },
        "size" => M(name, a => a.OptionalInt("dim") is int d
            ? t.Rank == 0 ? throw new TensorException($"size(): dimension {d} is out of range for a tensor with no dimensions") : (long)t.Shape[t.NormalizeDim(d)]
            : new PyTuple([.. t.Shape.Select(s => (object?)(long)s)]), "dim"),
        "dim" => M(name, _ => (long)t.Rank),
        "numel" => M(name, _ => (long)t.Count),
        "item" => M(name, _ => t.Kind == ElementKind.Float ? (double)t.Item() : t.Kind == ElementKind.Int ? (long)t.Item() : t.Item() != 0),
        "float" => M(name, _ => t.Kind == ElementKind.Float ? t : new Tensor(t.Shape, t.Data, ElementKind.Float)),
        "long" or "int" => M(name, _ => TensorMath.Map(t, MathF.Truncate, ElementKind.Int)),
        "bool" => M(name, _ => TensorMath.Map(t, x => x != 0 ? 1 : 0, ElementKind.Bool)),
        "clone" or "contiguous" or "detach" => M(name, _ => t.Copy()),
        "to" => M(name, a => a.Get("dtype") is TorchDType d ? (d.Kind == ElementKind.Float ? new Tensor(t.Shape, t.Data, d.Kind) : TensorMath.Map(t, MathF.Truncate, d.Kind)) : t, "dtype"),
        "unsqueeze" => M(name, a => t.Unsqueeze(a.Int("dim")), "dim"),
        "squeeze" => M(name, a => t.Squeeze(a.OptionalInt("dim")), "dim"),
        "flatten" => M(name, a => t.Flatten(a.Int("start_dim", 0), a.Int("end_dim", -1)), "start_dim", "end_dim"),
        "movedim" => M(name, a => t.Movedim(a.Int("source"), a.Int("destination")), "source", "destination"),
        "transpose" => M(name, a => t.Transpose(a.Int("dim0"), a.Int("dim1")), "dim0", "dim1"),
        "permute" => new PyFunction("Tensor.permute", (args, _) => t.Permute(Torch.Shape(args))),
        "reshape" or "view" => new PyFunction("Tensor." + name, (args, _) => t.Reshape([.. ShapeWithInference(args)])),
        "expand" => new PyFunction("Tensor.expand", (args, _) => t.BroadcastTo([.. ShapeWithInference(args)])),
        "repeat" => new PyFunction("Tensor.repeat", (args, _) => t.Tile(Torch.Shape(args))),
        "chunk" => M(name, a => new PyTuple([.. t.Chunk(a.Int("chunks"), a.Int("dim", 0))]), "chunks", "dim"),
        "sum" => M(name, a => TensorMath.Sum(t, a.OptionalInt("dim"), a.Bool("keepdim", false)), "dim", "keepdim"),
        "mean" => M(name, a => TensorMath.Mean(t, a.OptionalInt("dim"), a.Bool("keepdim", false)), "dim", "keepdim"),
        "var" => M(name, a => TensorMath.Var(t, a.OptionalInt("dim"), a.Bool("keepdim", false), a.Bool("unbiased", true)), "dim", "unbiased", "keepdim"),
        "max" => M(name, a => a.Get("dim") switch
        {
            null => TensorMath.MaxAll(t),
            Tensor other => TensorMath.Binary(BinaryKind.Max, t, other),
            _ => MaxNamed(t, a.Int("dim"), a.Bool("keepdim", false)),
        }, "dim", "keepdim"),
        "pow" => M(name, a => TensorMath.Binary(BinaryKind.Pow, t, Operators.ToTensor(a.Required("exponent"))), "exponent"),
        "exp" => M(name, _ => TensorMath.Exp(t)),
        "sqrt" => M(name, _ => TensorMath.Sqrt(t)),
        "cos" => M(name, _ => TensorMath.Cos(t)),
        "sin" => M(name, _ => TensorMath.Sin(t)),
        "abs" => M(name, _ => TensorMath.Abs(t)),
        "sigmoid" => M(name, _ => TensorMath.Sigmoid(t)),
        "relu" => M(name, _ => TensorMath.Relu(t)),
        "tanh" => M(name, _ => TensorMath.Tanh(t)),
        "softmax" => M(name, a => TensorMath.Softmax(t, a.Int("dim")), "dim"),
        "topk" => M(name, a =>
        {
            var (values, indices) = TensorMath.TopK(t, a.Int("k"), a.Int("dim", -1), a.Bool("largest", true));
            return Torch.Named(values, indices);
        }, "k", "dim", "largest", "sorted"),
        "argmax" => M(name, a => a.OptionalInt("dim") is int d ? TensorMath.MaxAlong(t, d, a.Bool("keepdim", false)).Indices
            : TensorMath.MaxAlong(t.Reshape([-1]), 0).Indices, "dim", "keepdim"),
        "clamp" or "clip" => M(name, a => TensorMath.Clamp(t, a.Get("min") is { } lo ? Operators.ToDouble(lo) : null, a.Get("max") is { } hi ? Operators.ToDouble(hi) : null), "min", "max"),
        "rsqrt" => M(name, _ => TensorMath.Map(t, x => 1f / MathF.Sqrt(x))),
        "square" => M(name, _ => TensorMath.Binary(BinaryKind.Mul, t, t)),
        "log" => M(name, _ => TensorMath.Log(t)),
        "neg" => M(name, _ => TensorMath.Negate(t)),
        "scatter" or "scatter_" => M(name, a => TensorMath.Scatter(t, a.Int("dim"), Operators.ToTensor(a.Required("index")),
            (float)Operators.ToDouble(a.Required("value")), inPlace: name == "scatter_"), "dim", "index", "value"),
        _ => null,
    };

    private static PyTuple MaxNamed(Tensor t, int dim, bool keepdim)
    {
        var (values, indices) = TensorMath.MaxAlong(t, dim, keepdim);
        return Torch.Named(values, indices);
    }

    private static int[] ShapeWithInference(IReadOnlyList<object?> args)
    {
        var items = args.Count == 1 && args[0] is PyTuple or PyList ? (args[0] is PyTuple t ? t.Items : ((PyList)args[0]!).Items) : args;
        return [.. items.Select(i => (int)Math.Clamp(Operators.ToLong(i), -1, int.MaxValue))];
    }
}

/// <summary>The methods and attributes of a batched tensor: each works on the logical (per-element) shape.</summary>
public static class BatchedMethods
{
    private static PyFunction M(string name, Func<Arguments, object?> body, params string[] parameters) =>
        new("Tensor." + name, (args, kwargs) => body(new Arguments("Tensor." + name, args, kwargs, parameters)));

    private static Batched Map(Batched b, Func<Tensor, Tensor> f) => new(f(b.Value));

    public static Batched Unsqueeze(Batched b, int dim)
    {
        int logical = b.LogicalRank;
        if (dim < -(logical + 1) || dim > logical) throw new TensorException($"dimension {dim} is out of range for unsqueeze");
        return new Batched(b.Value.Unsqueeze(dim >= 0 ? dim + 1 : dim));
    }

    public static Batched Flatten(Batched b, int start, int end)
    {
        if (b.LogicalRank == 0) return new Batched(b.Value.Reshape([b.Size, 1]));
        return new Batched(b.Value.Flatten(b.Dim(start), b.Dim(end)));
    }

    private static int[] LogicalShapeArgs(IReadOnlyList<object?> args)
    {
        var items = args.Count == 1 && args[0] is PyTuple or PyList ? (args[0] is PyTuple t ? t.Items : ((PyList)args[0]!).Items) : args;
        return [.. items.Select(i => (int)Math.Clamp(Operators.ToLong(i), -1, int.MaxValue))];
    }

    private static Batched Lift(Batched b, int rank) =>
        rank <= b.LogicalRank ? b : new Batched(b.Value.Reshape([b.Size, .. Enumerable.Repeat(1, rank - b.LogicalRank), .. b.LogicalShape]));

    private static Batched Reduce(Batched b, Arguments a, Func<Tensor, int, bool, Tensor> f) =>
        Batching.Reduce(b, a.OptionalInt("dim"), (t, d) => f(t, d, a.Bool("keepdim", false)));

    public static object? Get(Batched b, string name) => name switch
    {
        "T" or "mT" => b.LogicalRank < 2 ? b : new Batched(b.Value.Permute([0, .. Enumerable.Range(1, b.LogicalRank).Reverse()])),
        "shape" => new PyTuple([.. b.LogicalShape.Select(s => (object?)(long)s)]),
        "ndim" => (long)b.LogicalRank,
        "size" => M(name, a => a.OptionalInt("dim") is int d ? (long)b.Value.Shape[b.Dim(d) < 0 ? b.Dim(d) + b.Value.Rank : b.Dim(d)] : new PyTuple([.. b.LogicalShape.Select(s => (object?)(long)s)]), "dim"),
        "dim" => M(name, _ => (long)b.LogicalRank),
        "float" => M(name, _ => b.Value.Kind == ElementKind.Float ? b : new Batched(new Tensor(b.Value.Shape, b.Value.Data, ElementKind.Float))),
        "clone" or "contiguous" or "detach" => M(name, _ => Map(b, t => t.Copy())),
        "unsqueeze" => M(name, a => Unsqueeze(b, a.Int("dim")), "dim"),
        "squeeze" => M(name, a => a.OptionalInt("dim") is int d
            ? Map(b, t => t.Squeeze(b.Dim(d)))
            : new Batched(b.Value.Reshape([b.Size, .. b.LogicalShape.Where(s => s != 1)])), "dim"),
        "flatten" => M(name, a => Flatten(b, a.Int("start_dim", 0), a.Int("end_dim", -1)), "start_dim", "end_dim"),
        "movedim" => M(name, a => Map(b, t => t.Movedim(b.Dim(a.Int("source")), b.Dim(a.Int("destination")))), "source", "destination"),
        "transpose" => M(name, a => Map(b, t => t.Transpose(b.Dim(a.Int("dim0")), b.Dim(a.Int("dim1")))), "dim0", "dim1"),
        "permute" => new PyFunction("Tensor.permute", (args, _) =>
            Map(b, t => t.Permute([0, .. Torch.Shape(args).Select(d => (d < 0 ? d + b.LogicalRank : d) + 1)]))),
        "reshape" or "view" => new PyFunction("Tensor." + name, (args, _) => Map(b, t => t.Reshape([b.Size, .. LogicalShapeArgs(args)]))),
        "expand" => new PyFunction("Tensor.expand", (args, _) =>
        {
            var target = LogicalShapeArgs(args);
            var lifted = Lift(b, target.Length);
            return new Batched(lifted.Value.BroadcastTo([b.Size, .. target]));
        }),
        "repeat" => new PyFunction("Tensor.repeat", (args, _) =>
        {
            var reps = Torch.Shape(args);
            if (reps.Length < b.LogicalRank) throw new TensorException("repeat() needs at least as many sizes as the tensor has dimensions");
            return new Batched(Lift(b, reps.Length).Value.Tile([1, .. reps]));
        }),
        "chunk" => M(name, a => new PyTuple([.. b.Value.Chunk(a.Int("chunks"), b.Dim(a.Int("dim", 0))).Select(c => (object?)new Batched(c))]), "chunks", "dim"),
        "sum" => M(name, a => Reduce(b, a, (t, d, k) => TensorMath.Sum(t, d, k)), "dim", "keepdim"),
        "mean" => M(name, a => Reduce(b, a, (t, d, k) => TensorMath.Mean(t, d, k)), "dim", "keepdim"),
        "var" => M(name, a => Batching.Reduce(b, a.OptionalInt("dim"), (t, d) => TensorMath.Var(t, d, a.Bool("keepdim", false), a.Bool("unbiased", true))), "dim", "unbiased", "keepdim"),
        "max" => M(name, a => a.Get("dim") switch
        {
            null => Batching.Reduce(b, null, (t, d) => TensorMath.MaxAlong(t, d).Values),
            Tensor or Batched => Batching.Binary(BinaryKind.Max, b, a.Get("dim")),
            _ => (object)Named(TensorMath.MaxAlong(b.Value, b.Dim(a.Int("dim")), a.Bool("keepdim", false))),
        }, "dim", "keepdim"),
        "argmax" => M(name, a => a.OptionalInt("dim") is int d
            ? new Batched(TensorMath.MaxAlong(b.Value, b.Dim(d), a.Bool("keepdim", false)).Indices)
            : new Batched(TensorMath.MaxAlong(b.Value.Reshape([b.Size, -1]), 1).Indices), "dim", "keepdim"),
        "pow" => M(name, a => Batching.Binary(BinaryKind.Pow, b, a.Required("exponent")), "exponent"),
        "exp" => M(name, _ => Map(b, TensorMath.Exp)),
        "sqrt" => M(name, _ => Map(b, TensorMath.Sqrt)),
        "cos" => M(name, _ => Map(b, TensorMath.Cos)),
        "sin" => M(name, _ => Map(b, TensorMath.Sin)),
        "abs" => M(name, _ => Map(b, TensorMath.Abs)),
        "log" => M(name, _ => Map(b, TensorMath.Log)),
        "neg" => M(name, _ => Map(b, TensorMath.Negate)),
        "sigmoid" => M(name, _ => Map(b, TensorMath.Sigmoid)),
        "relu" => M(name, _ => Map(b, TensorMath.Relu)),
        "tanh" => M(name, _ => Map(b, TensorMath.Tanh)),
        "rsqrt" => M(name, _ => Map(b, t => TensorMath.Map(t, x => 1f / MathF.Sqrt(x)))),
        "square" => M(name, _ => Map(b, t => TensorMath.Binary(BinaryKind.Mul, t, t))),
        "clamp" or "clip" => M(name, a => Map(b, t => TensorMath.Clamp(t, a.Get("min") is { } lo ? Operators.ToDouble(lo) : null, a.Get("max") is { } hi ? Operators.ToDouble(hi) : null)), "min", "max"),
        "softmax" => M(name, a => Map(b, t => TensorMath.Softmax(t, b.Dim(a.Int("dim")))), "dim"),
        "topk" => M(name, a => Named(TensorMath.TopK(b.Value, a.Int("k"), b.Dim(a.Int("dim", -1)), a.Bool("largest", true))), "k", "dim", "largest", "sorted"),
        "scatter" or "scatter_" => M(name, a => Torch.Scatter(b, a.Int("dim"), a.Required("index"), a.Required("value"), inPlace: name == "scatter_"), "dim", "index", "value"),
        _ => null,
    };

    private static PyTuple Named((Tensor Values, Tensor Indices) pair) =>
        new([new Batched(pair.Values), new Batched(pair.Indices)], ["values", "indices"]);
}
