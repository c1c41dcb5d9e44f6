namespace StepForge.Tensors;

/// <summary>Tensors made from sizes and values: linspace, eye.</summary>
public static partial class TensorMath
{
    /// <summary>torch.linspace: <paramref name="steps"/> values from start to end, computed from both ends in float32 as torch does.</summary>
    public static Tensor Linspace(double start, double end, long steps, ElementKind kind)
    {
        if (steps < 0) throw new TensorException("linspace(): number of steps must be non-negative");
        var result = Tensor.Allocate([CheckedSize(steps, "linspace")], kind);
        if (steps == 1) result.Data[0] = CastValue((float)start, kind);
        if (steps <= 1) return result;
        float s = (float)start, e = (float)end;
        float step = (e - s) / (steps - 1);
        long half = steps / 2;
        for (long i = 0; i < steps; i++)
            result.Data[i] = CastValue(i < half ? s + step * i : e - step * (steps - i - 1), kind);
        return result;
    }

    /// <summary>torch.eye: ones on the main diagonal of an n x m matrix.</summary>
    public static Tensor Eye(long n, long m, ElementKind kind)
    {
        var result = Tensor.Allocate([CheckedSize(n, "eye"), CheckedSize(m, "eye")], kind);
        for (long i = 0; i < Math.Min(n, m); i++) result.Data[i * m + i] = 1;
        return result;
    }
}
