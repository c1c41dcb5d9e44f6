namespace StepForge.Tensors;

/// <summary>How a float dtype rounds its values: the engine computes in float32, casts to half and bfloat16 round.</summary>
public enum FloatFormat { Single, Double, Half, BFloat16 }

/// <summary>Elementwise functions beyond the arithmetic operators, and dtype casts.</summary>
public static partial class TensorMath
{
    /// <summary>A float function of each element, computed in double and rounded once (torch's float32 kernels are within an ulp or two of it).</summary>
    public static Tensor Unary(Tensor a, Func<double, double> f) => Map(a, x => (float)f(x));

    /// <summary>torch.sign: -1, 0 or 1 in the input's dtype (NaN gives 0, as torch 1.13's CPU kernel).</summary>
    public static Tensor Sign(Tensor a) => Map(a, x => x > 0 ? 1 : x < 0 ? -1 : 0, a.Kind);

    /// <summary>floor, ceil, trunc and round: integers come back as they are; torch has no such kernel for bool.</summary>
    public static Tensor Rounding(Tensor a, Func<float, float> f, string name)
    {
        if (a.Kind == ElementKind.Bool) throw new TensorException($"{name}() is not implemented for bool tensors");
        return a.IsFloat ? Map(a, f) : a.Copy();
    }

    /// <summary>torch.round(x, decimals=d): half to even, scaled by 10^|d| in float32 as torch does.</summary>
    public static Tensor Round(Tensor a, int decimals)
    {
        if (decimals == 0) return Rounding(a, x => MathF.Round(x, MidpointRounding.ToEven), "round");
        if (Math.Abs(decimals) > 38) throw new TensorException($"round(): decimals = {decimals} is out of range");
        float scale = (float)Math.Pow(10, Math.Abs(decimals));
        return Rounding(a, decimals > 0 ? x => MathF.Round(x * scale) / scale : x => MathF.Round(x / scale) * scale, "round");
    }

    /// <summary>The elementwise function of three broadcast operands.</summary>
    public static Tensor Ternary(Tensor a, Tensor b, Tensor c, ElementKind kind, Func<float, float, float, float> f)
    {
        var shape = BroadcastShapes(BroadcastShapes(a.Shape, b.Shape), c.Shape);
        var x = a.BroadcastTo(shape);
        var y = b.BroadcastTo(shape);
        var z = c.BroadcastTo(shape);
        var result = Tensor.Allocate(shape, kind);
        for (int i = 0; i < result.Count; i++) result.Data[i] = f(x.Data[i], y.Data[i], z.Data[i]);
        return result;
    }

    /// <summary>torch.lerp: start + weight * (end - start), computed from the nearer end as torch does.</summary>
    public static Tensor Lerp(Tensor start, Tensor end, Tensor weight)
    {
        if (!start.IsFloat || !end.IsFloat) throw new TensorException("lerp(): expected floating point tensors");
        return Ternary(start, end, weight, ElementKind.Float,
            (s, e, w) => MathF.Abs(w) < 0.5f ? s + w * (e - s) : e - (e - s) * (1 - w));
    }

    /// <summary>torch.addcmul (input + value * t1 * t2) and addcdiv (input + value * t1 / t2), in torch's order of operations.</summary>
    public static Tensor AddcOp(Tensor input, Tensor t1, Tensor t2, double value, bool divide)
    {
        var kind = divide ? ElementKind.Float : ResultKind(BinaryKind.Mul, ResultKind(BinaryKind.Mul, input.Kind, t1.Kind), t2.Kind);
        if (divide && (!t1.IsFloat && !t2.IsFloat)) throw new TensorException("addcdiv() does not divide integer tensors");
        float v = (float)value;
        return Ternary(input, t1, t2, kind, divide ? (s, x, y) => s + v * x / y : (s, x, y) => s + v * x * y);
    }

    /// <summary>torch.masked_fill: <paramref name="value"/> (cast to the input's dtype) where the bool mask is set.</summary>
    public static Tensor MaskedFill(Tensor input, Tensor mask, double value)
    {
        if (mask.Kind != ElementKind.Bool) throw new TensorException("masked_fill() only supports boolean masks");
        float fill = CastValue((float)value, input.Kind);
        var shape = BroadcastShapes(input.Shape, mask.Shape);
        var x = input.BroadcastTo(shape);
        var m = mask.BroadcastTo(shape);
        var result = Tensor.Allocate(shape, input.Kind);
        for (int i = 0; i < result.Count; i++) result.Data[i] = m.Data[i] != 0 ? fill : x.Data[i];
        return result;
    }

    /// <summary>torch.nan_to_num: NaN, +inf and -inf replaced (by 0 and float32's largest and lowest values by default).</summary>
    public static Tensor NanToNum(Tensor a, double nan, double? posinf, double? neginf)
    {
        if (!a.IsFloat) return a.Copy();
        float n = (float)nan, p = (float)(posinf ?? float.MaxValue), q = (float)(neginf ?? float.MinValue);
        return Map(a, x => float.IsNaN(x) ? n : float.IsPositiveInfinity(x) ? p : float.IsNegativeInfinity(x) ? q : x);
    }

    /// <summary>A bool test of each element (isnan, isinf, ...).</summary>
    public static Tensor Test(Tensor a, Func<float, bool> test) => Map(a, x => test(x) ? 1 : 0, ElementKind.Bool);

    /// <summary>torch.clamp with number bounds: NaN stays NaN; the result dtype promotes as torch's with its bounds.</summary>
    public static Tensor Clamp(Tensor a, double? min, double? max, ElementKind kind) =>
        Map(a, x => (float)Math.Min(Math.Max(x, min ?? double.NegativeInfinity), max ?? double.PositiveInfinity), kind);

    /// <summary>One value as a dtype stores it: integers truncate toward zero, bool is "not zero".</summary>
    public static float CastValue(float x, ElementKind kind) => kind switch
    {
        ElementKind.Int => MathF.Truncate(x),
        ElementKind.Bool => x != 0 ? 1 : 0,
        _ => x,
    };

    /// <summary>
    /// A cast to another dtype (.to, .float, .half, .long, .bool, ...). Float formats other than float32 round the
    /// values to their precision here; later arithmetic runs in float32. The same tensor comes back when nothing changes.
    /// </summary>
    public static Tensor Cast(Tensor a, ElementKind kind, FloatFormat format = FloatFormat.Single)
    {
        if (kind == ElementKind.Float && format is FloatFormat.Half or FloatFormat.BFloat16)
        {
            Func<float, float> round = format == FloatFormat.Half ? x => (float)(Half)x : ToBFloat16;
            return Map(a, x => round(x));
        }
        if (kind == a.Kind) return a;
        if (kind == ElementKind.Float || a.Kind == ElementKind.Bool) return a.Copy().WithKind(kind);
        return Map(a, x => CastValue(x, kind), kind);
    }

    /// <summary>Rounds to the nearest bfloat16 (ties to even), as torch's float → bfloat16 conversion.</summary>
    public static float ToBFloat16(float x)
    {
        if (float.IsNaN(x)) return x;
        uint bits = BitConverter.SingleToUInt32Bits(x);
        bits += 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000);
    }
}
