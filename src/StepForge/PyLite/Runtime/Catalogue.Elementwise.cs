using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>Elementwise functions: math, comparisons, clamp, where, lerp, masked_fill, nan_to_num.</summary>
internal static partial class Catalogue
{
    /// <summary>A one-tensor elementwise function: batched as it is, since it ignores shapes.</summary>
    private static TorchFunction Unary(string name, Binding binding, Func<Tensor, Tensor> f, params string[] aliases) =>
        new(name, binding, ["input"], c => f(c.Tensor("input"))) { Aliases = aliases };

    private static TorchFunction Binary(string name, BinaryKind kind, string other = "other", Binding binding = TMI, params string[] aliases) =>
        new(name, binding, ["input", other], c => TensorMath.Binary(kind, c.Tensor("input"), c.Tensor(other))) { Broadcast = ["input", other], Aliases = aliases };

    private static Tensor NotBool(Tensor t, string name) =>
        t.Kind == ElementKind.Bool ? throw new TensorException($"{name}() is not implemented for bool tensors") : t;

    private static IEnumerable<TorchFunction> Elementwise() =>
    [
        Unary("exp", TMI, TensorMath.Exp),
        Unary("exp2", TMI, t => TensorMath.Unary(t, x => Math.Pow(2, x))),
        Unary("expm1", TMI, t => TensorMath.Unary(t, TensorMath.ExpM1)),
        Unary("log", TMI, TensorMath.Log),
        Unary("log2", TMI, t => TensorMath.Unary(t, Math.Log2)),
        Unary("log10", TMI, t => TensorMath.Unary(t, Math.Log10)),
        Unary("log1p", TMI, t => TensorMath.Unary(t, TensorMath.Log1P)),
        Unary("sqrt", TMI, TensorMath.Sqrt),
        Unary("rsqrt", TMI, t => TensorMath.Unary(t, x => 1 / Math.Sqrt(x))),
        Unary("sin", TMI, TensorMath.Sin),
        Unary("cos", TMI, TensorMath.Cos),
        Unary("tan", TMI, t => TensorMath.Unary(t, Math.Tan)),
        Unary("sinh", TMI, t => TensorMath.Unary(t, Math.Sinh)),
        Unary("cosh", TMI, t => TensorMath.Unary(t, Math.Cosh)),
        Unary("asin", TMI, t => TensorMath.Unary(t, Math.Asin), "arcsin"),
        Unary("acos", TMI, t => TensorMath.Unary(t, Math.Acos), "arccos"),
        Unary("atan", TMI, t => TensorMath.Unary(t, Math.Atan), "arctan"),
        Unary("tanh", TMI | F, TensorMath.Tanh),
        Unary("sigmoid", TMI | F, TensorMath.Sigmoid),
        Unary("erf", TMI, t => TensorMath.Unary(t, TensorMath.Erf)),
        Unary("erfc", TMI, t => TensorMath.Unary(t, TensorMath.Erfc)),
        Unary("abs", TMI, t => TensorMath.Abs(NotBool(t, "abs")), "absolute"),
        Unary("neg", TMI, t => TensorMath.Negate(NotBool(t, "neg")), "negative"),
        Unary("sign", TMI, TensorMath.Sign),
        Unary("reciprocal", TMI, t => TensorMath.Unary(t, x => 1 / x)),
        Unary("square", TMI, t => TensorMath.Binary(BinaryKind.Mul, t, t)),
        Unary("floor", TMI, t => TensorMath.Rounding(t, MathF.Floor, "floor")),
        Unary("ceil", TMI, t => TensorMath.Rounding(t, MathF.Ceiling, "ceil")),
        Unary("trunc", TMI, t => TensorMath.Rounding(t, MathF.Truncate, "trunc"), "fix"),
        new("round", TMI, ["input", "decimals"], c => TensorMath.Round(c.Tensor("input"), c.Int("decimals", 0))),
        Unary("isnan", TM, t => TensorMath.Test(t, float.IsNaN)),
        Unary("isinf", TM, t => TensorMath.Test(t, float.IsInfinity)),
        Unary("isposinf", TM, t => TensorMath.Test(t, float.IsPositiveInfinity)),
        Unary("isneginf", TM, t => TensorMath.Test(t, float.IsNegativeInfinity)),
        Unary("isfinite", TM, t => TensorMath.Test(t, float.IsFinite)),
        Unary("logical_not", TMI, t => TensorMath.Test(t, x => x == 0)),
        new("nan_to_num", TMI, ["input", "nan", "posinf", "neginf"],
            c => TensorMath.NanToNum(c.Tensor("input"), c.Double("nan", 0), c.OptionalDouble("posinf"), c.OptionalDouble("neginf"))),

        new("add", TMI, ["input", "other", "alpha"], c => AddSub(c, BinaryKind.Add)) { Broadcast = ["input", "other"] },
        new("sub", TMI, ["input", "other", "alpha"], c => AddSub(c, BinaryKind.Sub)) { Broadcast = ["input", "other"], Aliases = ["subtract"] },
        Binary("mul", BinaryKind.Mul, aliases: "multiply"),
        new("div", TMI, ["input", "other", "rounding_mode"], Divide) { Broadcast = ["input", "other"], Aliases = ["divide", "true_divide"] },
        Binary("floor_divide", BinaryKind.FloorDiv),
        Binary("pow", BinaryKind.Pow, "exponent"),
        Binary("maximum", BinaryKind.Max, binding: TM),
        Binary("minimum", BinaryKind.Min, binding: TM),
        Binary("fmod", BinaryKind.Fmod),
        Binary("remainder", BinaryKind.Mod),
        Binary("logical_and", BinaryKind.LogicalAnd),
        Binary("logical_or", BinaryKind.LogicalOr),
        Binary("logical_xor", BinaryKind.LogicalXor),
        Binary("bitwise_and", BinaryKind.BitAnd),
        Binary("bitwise_or", BinaryKind.BitOr),
        Binary("bitwise_xor", BinaryKind.BitXor),
        Unary("bitwise_not", TMI, TensorMath.Invert),
        Binary("eq", BinaryKind.Eq),
        Binary("ne", BinaryKind.Ne, aliases: "not_equal"),
        Binary("lt", BinaryKind.Lt, aliases: "less"),
        Binary("le", BinaryKind.Le, aliases: "less_equal"),
        Binary("gt", BinaryKind.Gt, aliases: "greater"),
        Binary("ge", BinaryKind.Ge, aliases: "greater_equal"),

        new("clamp", TMI, ["input", "min", "max"], Clamp) { Broadcast = ["input", "min", "max"], Aliases = ["clip"] },
        new("where", TM, ["condition", "input", "other"],
            c => TensorMath.Where(c.Tensor("condition"), c.Tensor("input"), c.Tensor("other"))) { Broadcast = ["condition", "input", "other"], Self = "input" },
        new("lerp", TMI, ["input", "end", "weight"], c => TensorMath.Lerp(c.Tensor("input"), c.Tensor("end"), c.Tensor("weight"))) { Broadcast = ["input", "end", "weight"] },
        new("addcmul", TMI, ["input", "tensor1", "tensor2", "value"],
            c => TensorMath.AddcOp(c.Tensor("input"), c.Tensor("tensor1"), c.Tensor("tensor2"), c.Double("value", 1), divide: false)) { Broadcast = ["input", "tensor1", "tensor2"] },
        new("addcdiv", TMI, ["input", "tensor1", "tensor2", "value"],
            c => TensorMath.AddcOp(c.Tensor("input"), c.Tensor("tensor1"), c.Tensor("tensor2"), c.Double("value", 1), divide: true)) { Broadcast = ["input", "tensor1", "tensor2"] },
        new("masked_fill", TMI, ["input", "mask", "value"], MaskedFill) { Broadcast = ["input", "mask"] },
    ];

    private static Tensor AddSub(Call c, BinaryKind kind)
    {
        var other = c.Tensor("other");
        if (c.Has("alpha")) other = TensorMath.Binary(BinaryKind.Mul, other, Operators.ToTensor(c.Raw("alpha")));
        return TensorMath.Binary(kind, c.Tensor("input"), other);
    }

    private static Tensor Divide(Call c)
    {
        var (x, y) = (c.Tensor("input"), c.Tensor("other"));
        return c.String("rounding_mode") switch
        {
            null => TensorMath.Binary(BinaryKind.Div, x, y),
            "floor" => TensorMath.Binary(BinaryKind.FloorDiv, x, y),
            "trunc" => TensorMath.Rounding(TensorMath.Binary(BinaryKind.Div, x, y), MathF.Truncate, "div").WithKind(TensorMath.ResultKind(BinaryKind.Mul, x.Kind, y.Kind)),
            var mode => throw new TensorException($"div(): rounding_mode must be None, 'floor' or 'trunc', not '{mode}'"),
        };
    }

    /// <summary>torch.clamp: max(min(x, hi), lo) with torch's type promotion; NaN in x or a bound gives NaN.</summary>
    private static Tensor Clamp(Call c)
    {
        if (!c.Has("min") && !c.Has("max")) throw new TensorException("clamp(): at least one of 'min' or 'max' must not be None");
        var x = c.Tensor("input");
        if (c.Has("min")) x = TensorMath.Binary(BinaryKind.Max, x, c.Tensor("min"));
        if (c.Has("max")) x = TensorMath.Binary(BinaryKind.Min, x, c.Tensor("max"));
        return x;
    }

    private static Tensor MaskedFill(Call c)
    {
        var (input, mask) = (c.Tensor("input"), c.Tensor("mask"));
        var shape = TensorMath.BroadcastShapes(c.Shape(input), c.Shape(mask));
        if (!shape.SequenceEqual(c.Shape(input)))
            throw new TensorException($"masked_fill(): the mask of shape ({string.Join(", ", c.Shape(mask))}) does not broadcast to the input's ({string.Join(", ", c.Shape(input))})");
        return TensorMath.MaskedFill(input, mask, c.Double("value"));
    }

    private static IEnumerable<TorchFunction> Activations() =>
    [
        new("relu", TMI | F, ["input", "inplace"], c => TensorMath.Relu(c.Tensor("input"))),
        new("relu6", F, ["input", "inplace"], c => TensorMath.Hardtanh(c.Tensor("input"), 0, 6)),
        new("leaky_relu", F, ["input", "negative_slope", "inplace"], c => TensorMath.LeakyRelu(c.Tensor("input"), c.Double("negative_slope", 0.01))),
        new("elu", F, ["input", "alpha", "inplace"], c => TensorMath.Elu(c.Tensor("input"), c.Double("alpha", 1))),
        new("selu", T | F, ["input", "inplace"], c => TensorMath.Selu(c.Tensor("input"))),
        new("celu", T | F, ["input", "alpha", "inplace"], c => TensorMath.Celu(c.Tensor("input"), c.Double("alpha", 1))),
        new("gelu", F, ["input", "approximate"], c => c.String("approximate", "none") switch
        {
            "none" => TensorMath.Gelu(c.Tensor("input")),
            "tanh" => TensorMath.GeluTanh(c.Tensor("input")),
            var other => throw new TensorException($"gelu(): approximate must be 'none' or 'tanh', not '{other}'"),
        }),
        new("silu", F, ["input", "inplace"], c => TensorMath.Silu(c.Tensor("input"))),
        new("mish", F, ["input", "inplace"], c => TensorMath.Mish(c.Tensor("input"))),
        new("softplus", F, ["input", "beta", "threshold"], c => TensorMath.Softplus(c.Tensor("input"), c.Double("beta", 1), c.Double("threshold", 20))),
        new("softsign", F, ["input"], c => TensorMath.Softsign(c.Tensor("input"))),
        new("hardtanh", F, ["input", "min_val", "max_val", "inplace"],
            c => TensorMath.Hardtanh(c.Tensor("input"), c.Double("min_val", -1), c.Double("max_val", 1))),
        new("hardsigmoid", F, ["input", "inplace"], c => TensorMath.Hardsigmoid(c.Tensor("input"))),
        new("hardswish", F, ["input", "inplace"], c => TensorMath.Hardsigmoid(c.Tensor("input"), swish: true)),
        new("softmax", TM | F, ["input", "dim", "dtype"], c => SoftmaxLike(c, TensorMath.Softmax)),
        new("log_softmax", TM | F, ["input", "dim", "dtype"], c => SoftmaxLike(c, TensorMath.LogSoftmax)),
        new("layer_norm", T | F, ["input", "normalized_shape", "weight", "bias", "eps"],
            c => TensorMath.LayerNorm(c.Tensor("input"), NormalizedShape(c), c.OptionalTensor("weight"), c.OptionalTensor("bias"), c.Double("eps", 1e-5))),
        new("native_layer_norm", Binding.None, ["input", "normalized_shape", "weight", "bias", "eps"], NativeLayerNorm),
        new("rms_norm", T | F, ["input", "normalized_shape", "weight", "eps"],
            c => TensorMath.RmsNorm(c.Tensor("input"), NormalizedShape(c), c.OptionalTensor("weight"), c.OptionalDouble("eps"))),
        new("normalize", F, ["input", "p", "dim", "eps"], c =>
        {
            var x = c.Tensor("input");
            return TensorMath.Normalize(x, c.Double("p", 2), c.Dim(x, c.Int("dim", 1)), c.Double("eps", 1e-12));
        }),
        new("linear", F, ["input", "weight", "bias"], c =>
        {
            int rank = c.RankOf("weight");
            if (rank is not (1 or 2)) throw new TensorException($"linear(): weight must be 1-d or 2-d, not {rank}-d");
            var weight = c.Raw("weight") switch
            {
                Batched b => rank == 2 ? new Batched(b.Value.Transpose(-2, -1)) : b,
                var w => rank == 2 ? (object)Operators.ToTensor(w).Transpose(0, 1) : w,
            };
            var y = c.Matmul(c.Raw("input"), weight);
            return c.OptionalTensor("bias") is { } bias ? TensorMath.Binary(BinaryKind.Add, y, Lift(c, bias, c.Rank(y))) : y;
        }) { Broadcast = ["bias"] },
        new("one_hot", F, ["tensor", "num_classes"], c =>
        {
            int classes = c.Int("num_classes", -1);
            // With classes inferred, each element's own maximum decides its shape: not batchable.
            if (c.Lead > 0 && classes == -1) throw new NotBatchableException("one_hot without num_classes");
            return TensorMath.OneHot(c.Tensor("tensor"), classes);
        }),
        new("dropout", F, ["input", "p", "training", "inplace"], c => Dropout(c, c.Bool("training", true))),
        new("dropout", T, ["input", "p", "train"], c => Dropout(c, c.Bool("train", true))),
    ];

    /// <summary>softmax and log_softmax: an omitted dim is torch's legacy choice (0 for 0-, 1- and 3-d inputs, else 1).</summary>
    private static Tensor SoftmaxLike(Call c, Func<Tensor, int, Tensor> f)
    {
        var x = c.Tensor("input");
        if (c.Raw("dtype") is TorchDType { Kind: not ElementKind.Float }) throw new TensorException($"{c.Name}(): dtype must be a floating point type");
        if (!x.IsFloat && !c.Has("dtype")) throw new TensorException($"{c.Name}(): not implemented for integer tensors");
        int dim = c.OptionalInt("dim") ?? (c.Rank(x) is 0 or 1 or 3 ? 0 : 1);
        return (Tensor)c.Along(x.WithKind(ElementKind.Float), dim, (t, d) => f(t, d))!;
    }

    private static int[] NormalizedShape(Call c) => c.Raw("normalized_shape") switch
    {
        PyTuple or PyList => c.Sizes(Torch.Items(c.Raw("normalized_shape"))),
        var single => c.Sizes([single]),
    };

    /// <summary>aten::native_layer_norm: (output, mean, rstd), as torch.ops.aten.native_layer_norm.default.</summary>
    private static PyTuple NativeLayerNorm(Call c)
    {
        var x = c.Tensor("input");
        var shape = NormalizedShape(c);
        var (output, mean, rstd) = TensorMath.LayerNorm(x, shape, c.Double("eps"));
        if (c.Has("weight") || c.Has("bias"))
            output = TensorMath.LayerNorm(x, shape, c.OptionalTensor("weight"), c.OptionalTensor("bias"), c.Double("eps"));
        return new PyTuple([output, mean, rstd]);
    }

    /// <summary>Dropout is the identity in eval mode (or with p = 0); training mode draws random masks, which cannot be verified.</summary>
    private static Tensor Dropout(Call c, bool training)
    {
        double p = c.Double("p", 0.5);
        if (p is < 0 or > 1) throw new TensorException($"dropout(): probability has to be between 0 and 1, but got {p}");
        if (training && p > 0) throw new UnsupportedFeatureException("dropout in training mode", "its mask is random; pass training=False or call .eval() on the module");
        return c.Tensor("input");
    }
}
