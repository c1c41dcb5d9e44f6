using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>Reductions (dims and keepdim) and functions along one dim: sum, amax, var, norm, cumsum, sort, median, ...</summary>
internal static partial class Catalogue
{
    private static PyTuple Named((Tensor Values, Tensor Indices) pair) => new([pair.Values, pair.Indices], ["values", "indices"]);

    /// <summary>The dtype= argument's element kind and float format, or null when absent.</summary>
    private static TorchDType? DTypeOf(Call c, string name = "dtype") => c.Raw(name) switch
    {
        null => null,
        TorchDType d => d,
        var other => throw new TensorException($"{c.Name}(): {name} must be a torch dtype, not {PyValue.TypeName(other)}"),
    };

    /// <summary>The input, cast first when dtype= is given (torch casts before reducing).</summary>
    private static Tensor CastInput(Call c) =>
        DTypeOf(c) is { } d ? TensorMath.Cast(c.Tensor("input"), d.Kind, d.Format) : c.Tensor("input");

    private static Tensor Reduce(Call c, Func<Tensor, int[], bool, Tensor> f)
    {
        var x = CastInput(c);
        return f(x, c.Dims(x, c.Raw("dim")), c.Bool("keepdim"));
    }

    private static IEnumerable<TorchFunction> Reductions() =>
    [
        new("sum", TM, ["input", "dim", "keepdim", "dtype"], c => Reduce(c, (x, d, k) => TensorMath.Sum(x, d, k))),
        new("mean", TM, ["input", "dim", "keepdim", "dtype"], c => Reduce(c, TensorMath.Mean)),
        new("prod", TM, ["input", "dim", "keepdim", "dtype"], c => Reduce(c, (x, d, k) => TensorMath.Prod(x, d, k))),
        new("amax", TM, ["input", "dim", "keepdim"], c => Reduce(c, (x, d, k) => TensorMath.Extreme(x, d, k, maximum: true))),
        new("amin", TM, ["input", "dim", "keepdim"], c => Reduce(c, (x, d, k) => TensorMath.Extreme(x, d, k, maximum: false))),
        new("max", TM, ["input", "dim", "keepdim", "other"], c => MaxMin(c, maximum: true)),
        new("min", TM, ["input", "dim", "keepdim", "other"], c => MaxMin(c, maximum: false)),
        new("argmax", TM, ["input", "dim", "keepdim"], c => ArgExtreme(c, maximum: true)),
        new("argmin", TM, ["input", "dim", "keepdim"], c => ArgExtreme(c, maximum: false)),
        new("var", TM, ["input", "dim", "unbiased", "keepdim", "correction"], c => Variance(c, std: false)),
        new("std", TM, ["input", "dim", "unbiased", "keepdim", "correction"], c => Variance(c, std: true)),
        new("var_mean", T, ["input", "dim", "unbiased", "keepdim", "correction"], c => new PyTuple([Variance(c, std: false), MeanOver(c)])),
        new("std_mean", T, ["input", "dim", "unbiased", "keepdim", "correction"], c => new PyTuple([Variance(c, std: true), MeanOver(c)])),
        new("logsumexp", TM, ["input", "dim", "keepdim"], c =>
        {
            if (!c.Has("dim")) throw new TensorException("logsumexp() missing required argument 'dim'");
            return Reduce(c, TensorMath.LogSumExp);
        }),
        new("norm", TM, ["input", "p", "dim", "keepdim", "dtype"], c => Reduce(c, (x, d, k) => TensorMath.Norm(x, NormOrder(c), d, k))),
        new("any", TM, ["input", "dim", "keepdim"], c => Reduce(c, (x, d, k) => TensorMath.AnyAll(x, d, k, all: false))),
        new("all", TM, ["input", "dim", "keepdim"], c => Reduce(c, (x, d, k) => TensorMath.AnyAll(x, d, k, all: true))),
        new("count_nonzero", TM, ["input", "dim"], c => Reduce(c, (x, d, _) => TensorMath.CountNonzero(x, d))),
        new("cumsum", TMI, ["input", "dim", "dtype"], c => Cumulative(c, product: false)),
        new("cumprod", TMI, ["input", "dim", "dtype"], c => Cumulative(c, product: true)),
        new("sort", TM, ["input", "dim", "descending", "stable"], c =>
            c.Along(c.Tensor("input"), c.Int("dim", -1), (t, d) => Named(TensorMath.Sort(t, d, c.Bool("descending"), c.Bool("stable"))))),
        new("argsort", TM, ["input", "dim", "descending", "stable"], c =>
            c.Along(c.Tensor("input"), c.Int("dim", -1), (t, d) => TensorMath.Sort(t, d, c.Bool("descending"), c.Bool("stable")).Indices)),
        new("median", TM, ["input", "dim", "keepdim"], c =>
        {
            var x = c.Tensor("input");
            if (!c.Has("dim")) return TensorMath.Median(c.Flat(x), c.Lead, keepdim: false).Values;
            return c.Along(x, c.Int("dim"), (t, d) => Named(TensorMath.Median(t, d, c.Bool("keepdim"))));
        }),
        new("kthvalue", TM, ["input", "k", "dim", "keepdim"], c =>
            c.Along(c.Tensor("input"), c.Int("dim", -1), (t, d) => Named(TensorMath.KthValue(t, c.Int("k"), d, c.Bool("keepdim"))))),
        new("topk", TM, ["input", "k", "dim", "largest", "sorted"], c =>
            c.Along(c.Tensor("input"), c.Int("dim", -1), (t, d) => Named(TensorMath.TopK(t, c.Int("k"), d, c.Bool("largest", true))))),
    ];

    /// <summary>torch.max / torch.min: of everything, along a dim (values and indices), or elementwise with another tensor.</summary>
    private static object? MaxMin(Call c, bool maximum)
    {
        var other = c.Raw("other") ?? c.Raw("dim");
        if (other is Tensor or Batched)
        {
            var kind = maximum ? BinaryKind.Max : BinaryKind.Min;
            return c.Lead == 0 ? TensorMath.Binary(kind, c.Tensor("input"), (Tensor)other) : Batching.Binary(kind, c.Raw("input"), other).Value;
        }
        var x = c.Tensor("input");
        if (!c.Has("dim")) return TensorMath.Extreme(x, c.Dims(x, null), false, maximum);
        return c.Along(x, c.Int("dim"), (t, d) => Named(TensorMath.ExtremeAlong(t, d, c.Bool("keepdim"), maximum)));
    }

    /// <summary>argmax / argmin: the first index of the extreme along a dim, or in the flattened tensor.</summary>
    private static object? ArgExtreme(Call c, bool maximum)
    {
        var x = c.Tensor("input");
        if (!c.Has("dim")) return TensorMath.ExtremeAlong(c.Flat(x), c.Lead, false, maximum).Indices;
        return c.Along(x, c.Int("dim"), (t, d) => TensorMath.ExtremeAlong(t, d, c.Bool("keepdim"), maximum).Indices);
    }

    /// <summary>var and std: torch.var(x, dim, unbiased, keepdim), torch.var(x, unbiased) and the correction= form.</summary>
    private static Tensor Variance(Call c, bool std)
    {
        var dim = c.Raw("dim");
        bool? unbiased = c.Has("unbiased") ? c.Bool("unbiased") : null;
        if (dim is bool b)
        {
            unbiased = b;
            dim = null;
        }
        if (unbiased is not null && c.Has("correction")) throw new TensorException($"{c.Name}(): give either unbiased or correction, not both");
        double correction = c.Has("correction") ? c.Double("correction") : unbiased is false ? 0 : 1;
        var x = c.Tensor("input");
        return TensorMath.Var(x, c.Dims(x, dim), correction, c.Bool("keepdim"), std);
    }

    private static Tensor MeanOver(Call c)
    {
        var x = c.Tensor("input");
        return TensorMath.Mean(x, c.Dims(x, c.Raw("dim") is bool ? null : c.Raw("dim")), c.Bool("keepdim"));
    }

    /// <summary>norm's p: a number, inf, or 'fro' (2); the nuclear norm is not supported.</summary>
    private static double NormOrder(Call c) => c.Raw("p") switch
    {
        null or "fro" => 2,
        "nuc" => throw new UnsupportedFeatureException("torch.norm with p='nuc'"),
        string s => throw new TensorException($"norm(): unknown p '{s}'"),
        var p => Operators.ToDouble(p),
    };

    private static object? Cumulative(Call c, bool product)
    {
        var x = c.Tensor("input");
        var kind = DTypeOf(c)?.Kind;
        return c.Along(x, c.Int("dim"), (t, d) => TensorMath.Cumulative(t, d, product, kind));
    }
}
