using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>Tensors made from sizes and values, dtype casts, and the tensor methods that describe a tensor.</summary>
internal static partial class Catalogue
{
    /// <summary>The dtype a fill value implies, as torch.full infers it: bool, int64 or float32.</summary>
    private static ElementKind KindOfValue(object? value) => value switch
    {
        bool => ElementKind.Bool,
        long => ElementKind.Int,
        Tensor t => t.Kind,
        _ => ElementKind.Float,
    };

    private static Tensor Filled(int[] shape, double value, TorchDType? dtype, ElementKind fallback)
    {
        var kind = dtype?.Kind ?? fallback;
        var t = Tensor.Full(shape, TensorMath.CastValue((float)value, kind), kind);
        return dtype is { } d ? TensorMath.Cast(t, d.Kind, d.Format) : t;
    }

    private static IEnumerable<TorchFunction> Creation() =>
    [
        new("tensor", T, ["data", "dtype", "device", "requires_grad"], c =>
        {
            var t = Torch.FromNested(c.Raw("data"));
            return DTypeOf(c) is { } d ? TensorMath.Cast(t, d.Kind, d.Format) : t;
        }) { Batches = false, Broadcast = [] },
        new("zeros", T, ["*size", "dtype", "device", "requires_grad"], c => Filled(c.Sizes(c.Args.Star()), 0, DTypeOf(c), ElementKind.Float)),
        new("ones", T, ["*size", "dtype", "device", "requires_grad"], c => Filled(c.Sizes(c.Args.Star()), 1, DTypeOf(c), ElementKind.Float)),
        new("empty", T, ["*size", "dtype", "device", "requires_grad"], c => Filled(c.Sizes(c.Args.Star()), 0, DTypeOf(c), ElementKind.Float)),
        new("full", T, ["size", "fill_value", "dtype", "device", "requires_grad"], c =>
        {
            var size = c.Raw("size") is PyTuple or PyList ? Torch.Items(c.Raw("size")) : [c.Raw("size")];
            return Filled(c.Sizes(size), c.Double("fill_value"), DTypeOf(c), KindOfValue(c.Raw("fill_value")));
        }) { Broadcast = [] },
        new("zeros_like", T, ["input", "dtype", "device", "requires_grad"], c => Filled([.. c.Tensor("input").Shape], 0, DTypeOf(c), c.Tensor("input").Kind)),
        new("ones_like", T, ["input", "dtype", "device", "requires_grad"], c => Filled([.. c.Tensor("input").Shape], 1, DTypeOf(c), c.Tensor("input").Kind)),
        new("empty_like", T, ["input", "dtype", "device", "requires_grad"], c => Filled([.. c.Tensor("input").Shape], 0, DTypeOf(c), c.Tensor("input").Kind)),
        new("full_like", T, ["input", "fill_value", "dtype", "device", "requires_grad"],
            c => Filled([.. c.Tensor("input").Shape], c.Double("fill_value"), DTypeOf(c), c.Tensor("input").Kind)),
        new("arange", T, ["start", "end", "step", "dtype", "device", "requires_grad"], c =>
        {
            // arange(end), arange(start, end) and arange(start, end, step), as Python's range.
            bool endOnly = !c.Has("end");
            object? start = endOnly ? 0L : c.Raw("start", 0L), end = endOnly ? c.Raw("start") : c.Raw("end"), step = c.Raw("step", 1L);
            if (end is null) throw new TensorException("arange() needs an end");
            bool ints = start is long && end is long && step is long;
            var kind = DTypeOf(c)?.Kind ?? (ints ? ElementKind.Int : ElementKind.Float);
            return TensorMath.Arange(Operators.ToDouble(start), Operators.ToDouble(end), Operators.ToDouble(step), kind);
        }) { Broadcast = [] },
        new("linspace", T, ["start", "end", "steps", "dtype", "device", "requires_grad"],
            c => TensorMath.Linspace(c.Double("start"), c.Double("end"), Operators.ToLong(c.Args.Required("steps")), DTypeOf(c)?.Kind ?? ElementKind.Float)) { Broadcast = [] },
        new("eye", T, ["n", "m", "dtype", "device", "requires_grad"], c =>
        {
            long n = Operators.ToLong(c.Args.Required("n"));
            return TensorMath.Eye(n, c.Has("m") ? Operators.ToLong(c.Raw("m")) : n, DTypeOf(c)?.Kind ?? ElementKind.Float);
        }) { Broadcast = [] },
        new("fill", Binding.InPlace, ["input", "value"], c => Filled([.. c.Tensor("input").Shape], c.Double("value"), null, c.Tensor("input").Kind)),
        new("zero", Binding.InPlace, ["input"], c => Filled([.. c.Tensor("input").Shape], 0, null, c.Tensor("input").Kind)),
        new("copy", Binding.InPlace, ["input", "src", "non_blocking"], c => TensorMath.Cast(c.Tensor("src"), c.Tensor("input").Kind)) { Broadcast = ["input", "src"] },
    ];

    private static TorchFunction CastTo(string name, TorchDType dtype) =>
        new(name, M, ["input", "memory_format"], c => TensorMath.Cast(c.Tensor("input"), dtype.Kind, dtype.Format));

    private static IEnumerable<TorchFunction> Casts() =>
    [
        CastTo("float", Torch.Float32),
        CastTo("double", Torch.Float64),
        CastTo("half", Torch.Float16),
        CastTo("bfloat16", Torch.BFloat16),
        CastTo("bool", Torch.BoolType),
        CastTo("int", Torch.Int32),
        CastTo("long", Torch.Int64),
        new("to", M, ["input", "*args", "dtype", "device", "non_blocking", "copy", "memory_format"], To),
        new("type_as", M, ["input", "other"], c =>
            TensorMath.Cast(c.Tensor("input"), c.Raw("other") is Batched b ? b.Value.Kind : Operators.ToTensor(c.Raw("other")).Kind)),
        new("clone", TM, ["input", "memory_format"], c => c.Tensor("input").Copy()),
        new("contiguous", M, ["input", "memory_format"], c => c.Tensor("input")),
        new("detach", TM, ["input"], c => c.Tensor("input")),
        new("cpu", M, ["input", "memory_format"], c => c.Tensor("input")),
        new("cuda", M, ["input", "device", "non_blocking", "memory_format"], _ => throw new UnsupportedFeatureException("Tensor.cuda", "StepForge runs on the CPU")),
        new("numel", TM, ["input"], c => Tensor.Numel(c.Shape(c.Tensor("input")))),
        new("size", M, ["input", "dim"], c =>
        {
            var shape = c.ShapeOf("input");
            if (!c.Has("dim")) return new PyTuple([.. shape.Select(s => (object?)(long)s)]);
            int dim = c.Int("dim"), d = dim < 0 ? dim + shape.Length : dim;
            if (d < 0 || d >= shape.Length) throw new TensorException($"size(): dimension {dim} is out of range for a tensor with {shape.Length} dimension(s)");
            return (long)shape[d];
        }) { Broadcast = [] },
        new("dim", M, ["input"], c => (long)c.RankOf("input")) { Aliases = ["ndimension"], Broadcast = [] },
        new("item", M, ["input"], c =>
        {
            var t = c.Tensor("input");
            return t.Kind switch { ElementKind.Float => (double)t.Item(), ElementKind.Int => (object)(long)t.Item(), _ => t.Item() != 0 };
        }) { Batches = false },
    ];

    /// <summary>Tensor.to(dtype), .to(device), .to(other tensor), .to(device, dtype), with keywords too; copy=True copies.</summary>
    private static Tensor To(Call c)
    {
        var x = c.Tensor("input");
        TorchDType? target = DTypeOf(c);
        foreach (var arg in c.Args.Star().Append(c.Raw("device")))
        {
            switch (arg)
            {
                case TorchDType d:
                    target = d;
                    break;
                case Tensor other:
                    target = Torch.DTypeOf(other.Kind);
                    break;
                case Batched other:
                    target = Torch.DTypeOf(other.Value.Kind);
                    break;
                case string device when device.StartsWith("cpu", StringComparison.Ordinal):
                case null:
                    break;
                case string device:
                    throw new UnsupportedFeatureException($"Tensor.to('{device}')", "StepForge runs on the CPU");
                default:
                    throw new TensorException($"to(): unexpected argument {PyValue.TypeName(arg)}");
            }
        }
        var result = target is { } t ? TensorMath.Cast(x, t.Kind, t.Format) : x;
        return c.Bool("copy") && ReferenceEquals(result, x) ? x.Copy() : result;
    }
}
