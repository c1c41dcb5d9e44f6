namespace StepForge.Tensors;

/// <summary>torch.nn.functional's activations and normalizations.</summary>
public static partial class TensorMath
{
    private const double SeluAlpha = 1.6732632423543772848170429916717;
    private const double SeluScale = 1.0507009873554804934193349852946;

    /// <summary>max(x, 0); NaN passes through, as torch's relu (a clamp) does.</summary>
    public static Tensor Relu(Tensor a) => Map(a, x => x <= 0 ? 0 : x, a.Kind);

    /// <summary>F.hardtanh and relu6: a clamp, so NaN stays NaN.</summary>
    public static Tensor Hardtanh(Tensor a, double min, double max) =>
        Map(a, x => (float)Math.Min(Math.Max(x, min), max), a.Kind);

    public static Tensor LeakyRelu(Tensor a, double slope)
    {
        float s = (float)slope;
        return Map(a, x => x > 0 ? x : x * s);
    }

    /// <summary>ELU as torch parametrizes it (elu, selu and celu): scale * x for x &gt; 0, else alpha * scale * (exp(x * inputScale) - 1).</summary>
    public static Tensor Elu(Tensor a, double alpha, double scale = 1, double inputScale = 1) =>
        Unary(a, x => x <= 0 ? ExpM1(x * inputScale) * alpha * scale : x * scale);

    public static Tensor Selu(Tensor a) => Elu(a, SeluAlpha, SeluScale);

    public static Tensor Celu(Tensor a, double alpha)
    {
        if (alpha == 0) throw new TensorException("celu(): alpha must not be zero");
        return Elu(a, alpha, 1, 1 / alpha);
    }

    /// <summary>exp(x) - 1 without cancellation near 0.</summary>
    public static double ExpM1(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;

    /// <summary>log(1 + x) without cancellation near 0.</summary>
    public static double Log1P(double x) => Math.Abs(x) < 1e-4 ? x - x * x / 2 + x * x * x / 3 : Math.Log(1 + x);

    /// <summary>GELU with torch's tanh approximation (approximate='tanh').</summary>
    public static Tensor GeluTanh(Tensor a) =>
        Unary(a, x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))));

    public static Tensor Mish(Tensor a) => Unary(a, x => x * Math.Tanh(Log1P(Math.Exp(x))));

    /// <summary>log(1 + exp(beta x)) / beta, and x itself where beta x exceeds the threshold (as torch).</summary>
    public static Tensor Softplus(Tensor a, double beta, double threshold) =>
        Unary(a, x => x * beta > threshold ? x : Log1P(Math.Exp(x * beta)) / beta);

    public static Tensor Softsign(Tensor a) => Unary(a, x => x / (1 + Math.Abs(x)));

    /// <summary>relu6(x + 3) / 6 in float32, as torch's kernel; NaN stays NaN.</summary>
    public static Tensor Hardsigmoid(Tensor a, bool swish = false) => Map(a, x =>
    {
        float t = x + 3;
        t = t < 0 ? 0 : t;
        t = t > 6 ? 6 : t;
        return swish ? x * t / 6 : t / 6;
    });

    /// <summary>x - log(sum(exp(x))) along a dim, shifted by the maximum.</summary>
    public static Tensor LogSoftmax(Tensor a, int dim)
    {
        var result = Tensor.Allocate(a.Shape);
        var (outer, size, inner) = Around(a, dim);
        FoldLengths.Report(size);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity;
                for (int k = 0; k < size; k++) max = Math.Max(max, a.Data[(o * size + k) * inner + i]);
                if (double.IsInfinity(max)) max = 0;
                double total = 0;
                for (int k = 0; k < size; k++) total += Math.Exp(a.Data[(o * size + k) * inner + i] - max);
                double log = Math.Log(total) + max;
                for (int k = 0; k < size; k++) result.Data[(o * size + k) * inner + i] = (float)(a.Data[(o * size + k) * inner + i] - log);
            }
        return result;
    }

    /// <summary>Rows of the trailing <paramref name="normalizedShape"/> dims: their count and length, after checking the shape.</summary>
    private static (int Rows, int Size) TrailingRows(Tensor x, int[] normalizedShape, string name)
    {
        int n = normalizedShape.Length;
        if (n == 0 || n > x.Rank || !x.Shape[^n..].SequenceEqual(normalizedShape))
            throw new TensorException($"{name}: normalized shape ({string.Join(", ", normalizedShape)}) does not match the trailing dims of {x.Describe()}");
        int size = normalizedShape.Aggregate(1, (p, s) => p * s);
        return (size == 0 ? 0 : x.Count / size, size);
    }

    /// <summary>Multiplies by weight and adds bias (either may be null), which must have the normalized shape.</summary>
    private static Tensor Affine(Tensor y, int[] normalizedShape, Tensor? weight, Tensor? bias, string name)
    {
        foreach (var p in new[] { weight, bias })
            if (p is not null && !p.Shape.SequenceEqual(normalizedShape))
                throw new TensorException($"{name}: weight and bias need shape ({string.Join(", ", normalizedShape)}), not ({string.Join(", ", p.Shape)})");
        if (weight is not null) y = Binary(BinaryKind.Mul, y, weight);
        if (bias is not null) y = Binary(BinaryKind.Add, y, bias);
        return y;
    }

    /// <summary>F.layer_norm over the trailing dims, with optional weight and bias.</summary>
    public static Tensor LayerNorm(Tensor x, int[] normalizedShape, Tensor? weight, Tensor? bias, double eps) =>
        Affine(LayerNorm(x, normalizedShape, eps).Output, normalizedShape, weight, bias, "layer_norm");

    /// <summary>F.rms_norm: x / sqrt(mean(x^2) + eps) over the trailing dims, times weight; eps defaults to float32's machine epsilon.</summary>
    public static Tensor RmsNorm(Tensor x, int[] normalizedShape, Tensor? weight, double? eps)
    {
        if (!x.IsFloat) throw new TensorException("rms_norm(): expected a floating point input");
        var (rows, size) = TrailingRows(x, normalizedShape, "rms_norm");
        FoldLengths.Report(size);
        double e = eps ?? MathF.BitIncrement(1f) - 1f;
        var output = Tensor.Allocate(x.Shape);
        for (int r = 0; r < rows; r++)
        {
            double squares = 0;
            for (int i = 0; i < size; i++) squares += (double)x.Data[r * size + i] * x.Data[r * size + i];
            double inv = 1 / Math.Sqrt(squares / size + e);
            for (int i = 0; i < size; i++) output.Data[r * size + i] = (float)(x.Data[r * size + i] * inv);
        }
        return Affine(output, normalizedShape, weight, null, "rms_norm");
    }

    /// <summary>F.normalize: x divided by its p-norm along a dim, the norm clamped below at eps.</summary>
    public static Tensor Normalize(Tensor x, double p, int dim, double eps)
    {
        var norm = Norm(x, p, [dim], keepdim: true);
        return Binary(BinaryKind.Div, x, Map(norm, v => v < eps ? (float)eps : v));
    }

    /// <summary>F.linear: x @ weight^T + bias (a 1-d weight gives x @ weight).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        if (weight.Rank is not (1 or 2)) throw new TensorException($"linear(): weight must be 1-d or 2-d, not {weight.Describe()}");
        var y = Matmul(x, weight.Rank == 2 ? weight.Transpose(0, 1) : weight);
        return bias is null ? y : Binary(BinaryKind.Add, y, bias);
    }

    /// <summary>F.one_hot: an int64 tensor with a new last dim of <paramref name="classes"/> (-1: one more than the largest value).</summary>
    public static Tensor OneHot(Tensor x, int classes)
    {
        if (x.Kind != ElementKind.Int) throw new TensorException("one_hot is only applicable to index tensors (int64)");
        if (x.Data.Any(v => v < 0)) throw new TensorException("one_hot(): class values must be non-negative");
        if (classes == -1)
        {
            if (x.Count == 0) throw new TensorException("one_hot(): cannot infer the number of classes from an empty tensor");
            classes = (int)x.Data.Max() + 1;
        }
        if (classes < 0) throw new TensorException($"one_hot(): num_classes = {classes} must be -1 or positive");
        if (x.Data.Any(v => v >= classes)) throw new TensorException("one_hot(): class values must be smaller than num_classes");
        var result = Tensor.Allocate([.. x.Shape, classes], ElementKind.Int);
        for (int i = 0; i < x.Count; i++) result.Data[checked(i * classes + (int)x.Data[i])] = 1;
        return result;
    }
}
