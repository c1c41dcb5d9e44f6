namespace StepForge.Cost;

/// <summary>How a class of torch functions is charged.</summary>
public enum FlopKind
{
    /// <summary>1 per output value.</summary>
    Elementwise,

    /// <summary>4 per output value.</summary>
    Transcendental,

    /// <summary>8 per output value.</summary>
    Activation,

    /// <summary>2k per output value, k the number of values contracted.</summary>
    Contraction,

    /// <summary>n per output value, n the number of values reduced into it.</summary>
    Reduction,

    /// <summary>8n per softmax over n values.</summary>
    Softmax,

    /// <summary>n * ceil(log2 n) per topk over n values.</summary>
    TopK,

    /// <summary>Moving values around: 0.</summary>
    Free,

    /// <summary>Anything not named in the table: 1 per output value.</summary>
    Other,
}

/// <summary>One row of the flop table: the functions it covers (as a body names them) and what each call costs.</summary>
public sealed record FlopRule(FlopKind Kind, string Covers, string Charge, IReadOnlyList<string> Names);

/// <summary>
/// The flop rules of cost-model.md as data: which torch function (or Python operator) costs what per call. A fn
/// call's work is the sum of these charges over the calls its apply body makes on the shapes it sees
/// (<see cref="FlopCounter"/>). Names are matched without their module (<c>torch.exp</c>, <c>x.exp()</c> and
/// <c>torch.nn.functional.softmax</c> are <c>exp</c> and <c>softmax</c>); arithmetic on plain Python numbers is
/// configuration, not element work, and costs nothing.
/// </summary>
public static class FlopRules
{
    public static IReadOnlyList<FlopRule> Table { get; } =
    [
        new(FlopKind.Elementwise, "+ - * /, comparisons, max, min (of two tensors), where, abs, neg, clamp", "1 per output value",
            ["add", "sub", "mul", "div", "lt", "gt", "le", "ge", "eq", "ne", "maximum", "minimum", "where", "abs", "neg", "clamp", "clip"]),
        new(FlopKind.Transcendental, "exp, log, sqrt, rsqrt, tanh, sigmoid, erf, pow (and **), sin, cos, reciprocal", "4 per output value",
            ["exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "erf", "pow", "sin", "cos", "reciprocal"]),
        new(FlopKind.Activation, "silu, gelu, softplus", "8 per output value", ["silu", "gelu", "softplus"]),
        new(FlopKind.Contraction, "matmul, @, einsum, bmm, mm (contracting k values)", "2k per output value", ["matmul", "einsum", "bmm", "mm"]),
        new(FlopKind.Reduction, "reductions over n values: sum, mean, amax, amin, max, min (over a dim), argmax, argmin, prod, var, std", "n per output value",
            ["sum", "mean", "amax", "amin", "argmax", "argmin", "prod", "var", "std"]),
        new(FlopKind.Softmax, "softmax over n values", "8n (max, subtract, exp, sum, divide)", ["softmax"]),
        new(FlopKind.TopK, "topk over n values", "n * ceil(log2 n)", ["topk"]),
        new(FlopKind.Free, "indexing, slicing, cat, stack, reshapes", "0",
            ["subscript", "cat", "concat", "stack", "chunk", "split", "reshape", "view", "flatten", "unsqueeze", "squeeze", "movedim",
             "transpose", "permute", "expand", "repeat", "t", "mt", "contiguous", "clone", "detach", "float", "to", "pos"]),
        new(FlopKind.Other, "anything else (relu, //, %, arange, zeros_like, scatter, native_layer_norm, ...)", "1 per output value", []),
    ];

    private static readonly Dictionary<string, FlopRule> ByName =
        Table.SelectMany(r => r.Names.Select(n => (n, r))).ToDictionary(p => p.n, p => p.r, StringComparer.Ordinal);

    /// <summary>The rule for a function as the interpreter names it (<c>torch.exp</c>, <c>Tensor.sum</c>, <c>GELU</c>, ...).</summary>
    /// <param name="reducing">For max and min: called on one tensor (a reduction) rather than on two (elementwise).</param>
    public static FlopRule For(string function, bool reducing = false)
    {
        var name = Normalize(function);
        if (name is "max" or "min") return reducing ? ByName["amax"] : ByName["maximum"];
        return ByName.TryGetValue(name, out var rule) ? rule : Table[^1];
    }

    /// <summary>The bare lower-case name: the part after the last dot (<c>torch.nn.functional.softmax</c> → <c>softmax</c>).</summary>
    public static string Normalize(string function)
    {
        int dot = function.LastIndexOf('.');
        return (dot >= 0 ? function[(dot + 1)..] : function).ToLowerInvariant();
    }

    /// <summary>The charge of one call.</summary>
    /// <param name="outputValues">Values the call returns (tensor results only).</param>
    /// <param name="inputValues">Values of the tensor the call reduces or normalizes.</param>
    /// <param name="contracted">k for a contraction; n (the length along the dim) for topk.</param>
    public static long Charge(FlopKind kind, long outputValues, long inputValues, long contracted) => kind switch
    {
        FlopKind.Elementwise or FlopKind.Other => outputValues,
        FlopKind.Transcendental => 4 * outputValues,
        FlopKind.Activation => 8 * outputValues,
        FlopKind.Contraction => 2 * contracted * outputValues,
        // n per output value, summed over the outputs: every input value is reduced once.
        FlopKind.Reduction => inputValues,
        // 8n per softmax over n values: 8 per value in total.
        FlopKind.Softmax => 8 * inputValues,
        // (inputValues / n) topk's of n * ceil(log2 n) each.
        FlopKind.TopK => contracted <= 1 ? 0 : inputValues * CeilLog2(contracted),
        _ => 0,
    };

    private static long CeilLog2(long n)
    {
        long bits = 0;
        for (long v = 1; v < n; v <<= 1) bits++;
        return bits;
    }
}
