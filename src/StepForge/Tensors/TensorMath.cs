using System.Numerics.Tensors;

namespace StepForge.Tensors;

/// <summary>Elementwise binary functions; Mod is torch.remainder (Python's %), Fmod C's fmod.</summary>
public enum BinaryKind { Add, Sub, Mul, Div, FloorDiv, Mod, Fmod, Pow, Max, Min, Lt, Le, Gt, Ge, Eq, Ne, LogicalAnd, LogicalOr, LogicalXor, BitAnd, BitOr, BitXor }

/// <summary>The PyTorch functions the tasks use, on <see cref="Tensor"/>, with torch's broadcasting and type promotion.</summary>
public static partial class TensorMath
{
    public static int[] BroadcastShapes(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var shape = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int x = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int y = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (x != y && x != 1 && y != 1)
                throw new TensorException($"shapes ({string.Join(", ", a)}) and ({string.Join(", ", b)}) cannot be broadcast together");
            shape[i] = x == 1 ? y : x;
        }
        return shape;
    }

    private static bool IsComparison(BinaryKind op) => op is BinaryKind.Lt or BinaryKind.Le or BinaryKind.Gt or BinaryKind.Ge or BinaryKind.Eq or BinaryKind.Ne
        or BinaryKind.LogicalAnd or BinaryKind.LogicalOr or BinaryKind.LogicalXor;

    public static ElementKind ResultKind(BinaryKind op, ElementKind a, ElementKind b)
    {
        if (IsComparison(op)) return ElementKind.Bool;
        if (op == BinaryKind.Div) return ElementKind.Float;
        if (a == ElementKind.Float || b == ElementKind.Float) return ElementKind.Float;
        if (a == ElementKind.Bool && b == ElementKind.Bool)
            return op is BinaryKind.Max or BinaryKind.Min or BinaryKind.BitAnd or BinaryKind.BitOr or BinaryKind.BitXor ? ElementKind.Bool : ElementKind.Int;
        return ElementKind.Int;
    }

    private static float Apply(BinaryKind op, float x, float y, ElementKind kind) => op switch
    {
        BinaryKind.Add => x + y,
        BinaryKind.Sub => x - y,
        BinaryKind.Mul => x * y,
        BinaryKind.Div => x / y,
        BinaryKind.FloorDiv => kind == ElementKind.Int && y == 0 ? throw new TensorException("integer division by zero") : MathF.Floor(x / y),
        BinaryKind.Mod => kind == ElementKind.Int && y == 0 ? throw new TensorException("integer modulo by zero") : Remainder(x, y),
        BinaryKind.Fmod => kind == ElementKind.Int && y == 0 ? throw new TensorException("integer modulo by zero") : x % y,
        BinaryKind.Pow => MathF.Pow(x, y),
        BinaryKind.Max => float.IsNaN(x) || float.IsNaN(y) ? float.NaN : Math.Max(x, y),
        BinaryKind.Min => float.IsNaN(x) || float.IsNaN(y) ? float.NaN : Math.Min(x, y),
        BinaryKind.Lt => x < y ? 1 : 0,
        BinaryKind.Le => x <= y ? 1 : 0,
        BinaryKind.Gt => x > y ? 1 : 0,
        BinaryKind.Ge => x >= y ? 1 : 0,
        BinaryKind.Eq => x == y ? 1 : 0,
        BinaryKind.LogicalAnd => x != 0 && y != 0 ? 1 : 0,
        BinaryKind.LogicalOr => x != 0 || y != 0 ? 1 : 0,
        BinaryKind.LogicalXor => (x != 0) != (y != 0) ? 1 : 0,
        BinaryKind.BitAnd => (long)x & (long)y,
        BinaryKind.BitOr => (long)x | (long)y,
        BinaryKind.BitXor => (long)x ^ (long)y,
        _ => x != y ? 1 : 0,
    };

    /// <summary>torch.remainder on floats: fmod, moved into the divisor's sign as torch's kernel does.</summary>
    private static float Remainder(float x, float y)
    {
        float mod = x % y;
        return mod != 0 && (y < 0) != (mod < 0) ? mod + y : mod;
    }

    public static Tensor Binary(BinaryKind op, Tensor a, Tensor b)
    {
        var kind = ResultKind(op, a.Kind, b.Kind);
        if (op is BinaryKind.BitAnd or BinaryKind.BitOr or BinaryKind.BitXor && kind == ElementKind.Float)
            throw new TensorException("bitwise operators (&, |, ^) work on integer and bool tensors, not float");
        var shape = a.Shape.SequenceEqual(b.Shape) ? a.Shape : BroadcastShapes(a.Shape, b.Shape);
        // Shapes are never written once a tensor has one: the result may share an operand's.
        var result = Tensor.Uninitialized(shape, kind);
        var r = result.Data;
        if (a.Count == r.Length && b.Count == r.Length)
        {
            switch (op)
            {
                case BinaryKind.Add: TensorPrimitives.Add(a.Data, b.Data, r); break;
                case BinaryKind.Sub: TensorPrimitives.Subtract(a.Data, b.Data, r); break;
                case BinaryKind.Mul: TensorPrimitives.Multiply(a.Data, b.Data, r); break;
                case BinaryKind.Div: TensorPrimitives.Divide(a.Data, b.Data, r); break;
                default: for (int i = 0; i < r.Length; i++) r[i] = Apply(op, a.Data[i], b.Data[i], kind); break;
            }
        }
        else if (b.Count == 1 && a.Count == r.Length)
        {
            float y = b.Data[0];
            switch (op)
            {
                case BinaryKind.Add: TensorPrimitives.Add(a.Data, y, r); break;
                case BinaryKind.Mul: TensorPrimitives.Multiply(a.Data, y, r); break;
                default: for (int i = 0; i < r.Length; i++) r[i] = Apply(op, a.Data[i], y, kind); break;
            }
        }
        else if (a.Count == 1 && b.Count == r.Length)
        {
            float x = a.Data[0];
            for (int i = 0; i < r.Length; i++) r[i] = Apply(op, x, b.Data[i], kind);
        }
        else
        {
            // Ranks are small: the strides live on the stack (a binary op in a fold's body runs at every step).
            int rank = shape.Length;
            Span<int> dims = rank <= 16 ? stackalloc int[16] : new int[rank];
            Span<int> aStrides = rank <= 16 ? stackalloc int[16] : new int[rank];
            Span<int> bStrides = rank <= 16 ? stackalloc int[16] : new int[rank];
            Span<int> index = rank <= 16 ? stackalloc int[16] : new int[rank];
            int coalesced = Coalesce(shape, a.Shape, b.Shape, dims, aStrides, bStrides);
            // Row by row along the innermost (coalesced) dim, where a broadcast operand is a scalar or a contiguous run.
            int inner = dims[coalesced - 1], sa = aStrides[coalesced - 1], sb = bStrides[coalesced - 1], outerRank = coalesced - 1;
            index[..outerRank].Clear();
            int ia = 0, ib = 0;
            for (int o = 0; o < r.Length; o += inner)
            {
                BinaryRow(op, kind, a.Data, ia, sa, b.Data, ib, sb, r.AsSpan(o, inner));
                for (int d = outerRank - 1; d >= 0; d--)
                {
                    ia += aStrides[d];
                    ib += bStrides[d];
                    if (++index[d] < dims[d]) break;
                    ia -= aStrides[d] * dims[d];
                    ib -= bStrides[d] * dims[d];
                    index[d] = 0;
                }
            }
        }
        if (kind == ElementKind.Int && op is BinaryKind.Add or BinaryKind.Sub or BinaryKind.Mul or BinaryKind.Pow)
            for (int i = 0; i < r.Length; i++) r[i] = MathF.Round(r[i]);
        return result;
    }

    /// <summary>
    /// The strides of operands of shapes <paramref name="a"/> and <paramref name="b"/> broadcast to <paramref name="shape"/>,
    /// with neighbouring dims that both step through as one (contiguous, or both broadcast) merged. Fills the first n
    /// entries of the spans; returns n.
    /// </summary>
    private static int Coalesce(int[] shape, int[] a, int[] b, Span<int> dims, Span<int> sa, Span<int> sb)
    {
        BroadcastStrides(a, sa[..shape.Length]);
        BroadcastStrides(b, sb[..shape.Length]);
        dims[0] = shape[0];
        int n = 1;
        // In place: entry d is read before anything at d or above is written.
        for (int d = 1; d < shape.Length; d++)
        {
            if (sa[n - 1] == sa[d] * shape[d] && sb[n - 1] == sb[d] * shape[d])
            {
                dims[n - 1] *= shape[d];
                sa[n - 1] = sa[d];
                sb[n - 1] = sb[d];
            }
            else
            {
                dims[n] = shape[d];
                sa[n] = sa[d];
                sb[n] = sb[d];
                n++;
            }
        }
        return n;
    }

    /// <summary>The strides of a row-major tensor of <paramref name="shape"/> broadcast to a shape of the span's rank: 0 along a dim of size 1 or one it lacks.</summary>
    private static void BroadcastStrides(int[] shape, Span<int> strides)
    {
        int lead = strides.Length - shape.Length, stride = 1;
        strides[..lead].Clear();
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[lead + i] = shape[i] == 1 ? 0 : stride;
            stride *= shape[i];
        }
    }

    /// <summary>One row of a broadcast binary op: each operand a contiguous run (stride 1), a scalar (stride 0) or strided.</summary>
    private static void BinaryRow(BinaryKind op, ElementKind kind, float[] a, int ia, int sa, float[] b, int ib, int sb, Span<float> r)
    {
        int n = r.Length;
        if (op is BinaryKind.Add or BinaryKind.Sub or BinaryKind.Mul or BinaryKind.Div)
        {
            if (sa == 1 && sb == 1)
            {
                ReadOnlySpan<float> x = a.AsSpan(ia, n), y = b.AsSpan(ib, n);
                switch (op)
                {
                    case BinaryKind.Add: TensorPrimitives.Add(x, y, r); return;
                    case BinaryKind.Sub: TensorPrimitives.Subtract(x, y, r); return;
                    case BinaryKind.Mul: TensorPrimitives.Multiply(x, y, r); return;
                    default: TensorPrimitives.Divide(x, y, r); return;
                }
            }
            if (sa == 1 && sb == 0)
            {
                ReadOnlySpan<float> x = a.AsSpan(ia, n);
                float y = b[ib];
                switch (op)
                {
                    case BinaryKind.Add: TensorPrimitives.Add(x, y, r); return;
                    case BinaryKind.Sub: TensorPrimitives.Subtract(x, y, r); return;
                    case BinaryKind.Mul: TensorPrimitives.Multiply(x, y, r); return;
                    default: TensorPrimitives.Divide(x, y, r); return;
                }
            }
            if (sa == 0 && sb == 1)
            {
                float x = a[ia];
                ReadOnlySpan<float> y = b.AsSpan(ib, n);
                switch (op)
                {
                    case BinaryKind.Add: TensorPrimitives.Add(y, x, r); return;
                    case BinaryKind.Sub: TensorPrimitives.Subtract(x, y, r); return;
                    case BinaryKind.Mul: TensorPrimitives.Multiply(y, x, r); return;
                    default: TensorPrimitives.Divide(x, y, r); return;
                }
            }
        }
        for (int j = 0; j < n; j++, ia += sa, ib += sb) r[j] = Apply(op, a[ia], b[ib], kind);
    }

    public static Tensor Map(Tensor a, Func<float, float> f, ElementKind kind = ElementKind.Float)
    {
        var result = Tensor.Uninitialized(a.Shape, kind);
        for (int i = 0; i < a.Count; i++) result.Data[i] = f(a.Data[i]);
        return result;
    }

    /// <summary>torch.where(condition, input, other) with broadcasting.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        var shape = BroadcastShapes(BroadcastShapes(condition.Shape, a.Shape), b.Shape);
        var c = condition.BroadcastTo(shape);
        var x = a.BroadcastTo(shape);
        var y = b.BroadcastTo(shape);
        var result = Tensor.Uninitialized(shape, ResultKind(BinaryKind.Add, a.Kind, b.Kind));
        for (int i = 0; i < result.Count; i++) result.Data[i] = c.Data[i] != 0 ? x.Data[i] : y.Data[i];
        return result;
    }

    /// <summary>torch.bitwise_not (Python's ~): logical not for bool, -x - 1 for integers.</summary>
    public static Tensor Invert(Tensor a) => a.Kind switch
    {
        ElementKind.Bool => Map(a, x => x == 0 ? 1 : 0, ElementKind.Bool),
        ElementKind.Int => Map(a, x => -x - 1, ElementKind.Int),
        _ => throw new TensorException("~ (bitwise_not) works on integer and bool tensors, not float"),
    };

    public static Tensor Negate(Tensor a) => Map(a, x => -x, a.Kind == ElementKind.Bool ? ElementKind.Int : a.Kind);

    public static Tensor Exp(Tensor a)
    {
        var r = Tensor.Uninitialized(a.Shape);
        TensorPrimitives.Exp(a.Data, r.Data);
        return r;
    }

    public static Tensor Sqrt(Tensor a) => Map(a, MathF.Sqrt);
    public static Tensor Cos(Tensor a) => Map(a, MathF.Cos);
    public static Tensor Sin(Tensor a) => Map(a, MathF.Sin);
    public static Tensor Abs(Tensor a) => Map(a, MathF.Abs, a.Kind);
    public static Tensor Log(Tensor a) => Map(a, MathF.Log);
    public static Tensor Tanh(Tensor a) => Map(a, MathF.Tanh);
    public static Tensor Sigmoid(Tensor a) => Map(a, x => (float)(1.0 / (1.0 + Math.Exp(-x))));
    public static Tensor Silu(Tensor a) => Map(a, x => (float)(x / (1.0 + Math.Exp(-x))));

    /// <summary>Exact GELU, x * Phi(x), as torch's default (approximate='none').</summary>
    public static Tensor Gelu(Tensor a) => Map(a, x => (float)(0.5 * x * (1.0 + Erf(x / Math.Sqrt(2.0)))));

    /// <summary>The error function to double precision (W. J. Cody's rational approximations).</summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax < 0.5)
        {
            double t = x * x;
            double top = (((0.185777706184603153 * t + 3.16112374387056560) * t + 113.864154151050156) * t + 377.485237685302021) * t + 3209.37758913846947;
            double bottom = (((t + 23.6012909523441209) * t + 244.024637934444173) * t + 1282.61652607737228) * t + 2844.23683343917062;
            return x * top / bottom;
        }
        double result = 1.0 - ErfcAbove(ax);
        return x < 0 ? -result : result;
    }

    /// <summary>The complementary error function 1 - erf(x), accurate where it is tiny (large x).</summary>
    public static double Erfc(double x)
    {
        if (Math.Abs(x) < 0.5) return 1.0 - Erf(x);
        double c = ErfcAbove(Math.Abs(x));
        return x < 0 ? 2.0 - c : c;
    }

    /// <summary>erfc(ax) for ax &gt;= 0.5 (Cody).</summary>
    private static double ErfcAbove(double ax)
    {
        if (ax < 4.0)
        {
            double top = (((((((5.64188496988670089e-1 * ax + 8.88314979438837594) * ax + 66.1191906371416295) * ax + 298.635138197400131) * ax
                + 881.952221241769090) * ax + 1712.04761263407058) * ax + 2051.07837782607147) * ax + 1230.33935479799725);
            double bottom = (((((((ax + 15.7449261107098347) * ax + 117.693950891312499) * ax + 537.181101862009858) * ax
                + 1621.38957456669019) * ax + 3290.79923573345963) * ax + 4362.61909014324716) * ax + 3439.36767414372164) * ax + 1230.33935480374942;
            return Math.Exp(-ax * ax) * top / bottom;
        }
        double z = 1.0 / (ax * ax);
        double top2 = ((((1.63153871373020978e-2 * z + 3.05326634961232344e-1) * z + 3.60344899949804439e-1) * z + 1.25781726111229246e-1) * z + 1.60837851487422766e-2) * z + 6.58749161529837803e-4;
        double bottom2 = ((((z + 2.56852019228982242) * z + 1.87295284992346725) * z + 5.27905102951428412e-1) * z + 6.05183413124413191e-2) * z + 2.33520497626869185e-3;
        double r = z * top2 / bottom2;
        r = (1.0 / Math.Sqrt(Math.PI) - r) / ax;
        return Math.Exp(-ax * ax) * r;
    }

    // ---- reductions ----

    /// <summary>Splits a shape around <paramref name="dim"/> into (outer, size, inner) element counts.</summary>
    private static (int Outer, int Size, int Inner) Around(Tensor a, int dim)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < dim; i++) outer *= a.Shape[i];
        for (int i = dim + 1; i < a.Rank; i++) inner *= a.Shape[i];
        return (outer, a.Shape[dim], inner);
    }

    public static Tensor Softmax(Tensor a, int dim)
    {
        if (a.Rank == 0) return Map(a, _ => 1f);
        int d = a.NormalizeDim(dim);
        var (outer, size, inner) = Around(a, d);
        FoldLengths.Report(size);
        var result = Tensor.Allocate(a.Shape);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                float max = float.NegativeInfinity;
                for (int k = 0; k < size; k++) max = Math.Max(max, a.Data[(o * size + k) * inner + i]);
                double total = 0;
                for (int k = 0; k < size; k++)
                {
                    int at = (o * size + k) * inner + i;
                    float e = MathF.Exp(a.Data[at] - max);
                    result.Data[at] = e;
                    total += e;
                }
                for (int k = 0; k < size; k++) result.Data[(o * size + k) * inner + i] = (float)(result.Data[(o * size + k) * inner + i] / total);
            }
        return result;
    }

    /// <summary>The k largest (or smallest) values along a dim and their indices, in torch's CPU order (see <see cref="TopKOrder"/>).</summary>
    public static (Tensor Values, Tensor Indices) TopK(Tensor a, int k, int dim, bool largest = true)
    {
        var src = a.Rank == 0 ? a.Reshape([1]) : a;
        int d = src.NormalizeDim(dim);
        var (outer, size, inner) = Around(src, d);
        if (k < 0 || k > size) throw new TensorException($"topk(): k ({k}) is out of range for a dimension of size {size}");
        var shape = src.Shape.ToArray();
        shape[d] = k;
        var values = Tensor.Allocate(shape, src.Kind);
        var indices = Tensor.Allocate([.. shape], ElementKind.Int);
        var column = new float[size];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                for (int j = 0; j < size; j++) column[j] = src.Data[(o * size + j) * inner + i];
                var order = TopKOrder.Select(column, k, largest);
                for (int j = 0; j < k; j++)
                {
                    values.Data[(o * k + j) * inner + i] = column[order[j]];
                    indices.Data[(o * k + j) * inner + i] = order[j];
                }
            }
        return (values, indices);
    }

    /// <summary>torch.scatter with a scalar value (a copy; scatter_ writes the result back).</summary>
    public static Tensor Scatter(Tensor a, int dim, Tensor index, float value)
    {
        var target = a.Copy();
        int d = target.Rank == 0 ? 0 : target.NormalizeDim(dim);
        if (index.Rank != Math.Max(target.Rank, 1) && !(target.Rank == 0 && index.Rank <= 1))
            throw new TensorException($"scatter(): index has {index.Rank} dimension(s) but self has {target.Rank}");
        var strides = Tensor.Strides(target.Shape);
        var idxIndex = new int[index.Rank];
        for (int n = 0; n < index.Count; n++)
        {
            int pos = 0;
            for (int j = 0; j < index.Rank && target.Rank > 0; j++)
            {
                int coordinate = j == d ? (int)index.Data[n] : idxIndex[j];
                int size = target.Shape[j];
                if (j == d && coordinate < 0) coordinate += size;
                if (coordinate < 0 || coordinate >= size)
                    throw new TensorException($"scatter(): index {index.Data[n]} is out of bounds for dimension {j} with size {size}");
                pos += coordinate * strides[j];
            }
            target.Data[pos] = value;
            for (int j = index.Rank - 1; j >= 0 && ++idxIndex[j] == index.Shape[j]; j--) idxIndex[j] = 0;
        }
        return target;
    }

    // ---- products ----

    public static Tensor Matmul(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0) throw new TensorException("matmul: both arguments need at least one dimension");
        bool aVec = a.Rank == 1, bVec = b.Rank == 1;
        var a2 = aVec ? a.Unsqueeze(0) : a;
        var b2 = bVec ? b.Unsqueeze(1) : b;
        int m = a2.Shape[^2], k = a2.Shape[^1], k2 = b2.Shape[^2], n = b2.Shape[^1];
        if (k != k2)
            throw new TensorException($"matmul: shapes ({string.Join(", ", a.Shape)}) and ({string.Join(", ", b.Shape)}) cannot be multiplied ({k} != {k2})");
        var batch = BroadcastShapes(a2.Shape[..^2], b2.Shape[..^2]);
        int batches = batch.Aggregate(1, (x, y) => x * y);
        var result = Tensor.Uninitialized([.. batch, m, n], ResultKind(BinaryKind.Mul, a.Kind, b.Kind));
        // A multiply-add per contracted element.
        Tensor.Budget?.ChargeWork(checked((long)batches * m * n * k));
        FoldLengths.Report(k);
        // Broadcast batch dims by index arithmetic: a weight matrix shared by every batch row is never copied.
        var aOffsets = BatchOffsets(a2.Shape[..^2], batch, m * k);
        var bOffsets = BatchOffsets(b2.Shape[..^2], batch, k * n);
        Gemm.Multiply(a2.Data, aOffsets, b2.Data, bOffsets, result.Data, m, n, k);
        var shape = result.Shape.ToList();
        if (bVec) shape.RemoveAt(shape.Count - 1);
        if (aVec) shape.RemoveAt(shape.Count - (bVec ? 1 : 2));
        return result.Reshape([.. shape]);
    }

    /// <summary>For each position of the broadcast batch shape, the offset of the matching block in a tensor of batch shape <paramref name="own"/>.</summary>
    private static int[] BatchOffsets(int[] own, int[] batch, int blockSize)
    {
        int total = batch.Aggregate(1, (x, y) => x * y);
        var offsets = new int[total];
        var strides = new int[batch.Length];
        BroadcastStrides(own, strides);
        var index = new int[batch.Length];
        for (int t = 0; t < total; t++)
        {
            int block = 0;
            for (int d = 0; d < batch.Length; d++) block += index[d] * strides[d];
            offsets[t] = block * blockSize;
            for (int d = batch.Length - 1; d >= 0 && ++index[d] == batch[d]; d--) index[d] = 0;
        }
        return offsets;
    }

    public static Tensor Einsum(string equation, IReadOnlyList<Tensor> operands)
    {
        var eq = equation.Replace(" ", "", StringComparison.Ordinal);
        var parts = eq.Split("->");
        var inputs = parts[0].Split(',');
        if (inputs.Length != operands.Count)
            throw new TensorException($"einsum(): '{equation}' names {inputs.Length} operand(s) but {operands.Count} were given");
        if (inputs.Any(s => s.Any(c => !char.IsAsciiLetter(c))) || (parts.Length == 2 && parts[1].Any(c => !char.IsAsciiLetter(c))) || parts.Length > 2)
            throw new TensorException($"einsum(): unsupported equation '{equation}' (only letters, ',' and '->')");
        var sizes = new Dictionary<char, int>();
        for (int o = 0; o < inputs.Length; o++)
        {
            if (inputs[o].Length != operands[o].Rank)
                throw new TensorException($"einsum(): operand {o} has {operands[o].Rank} dimension(s) but '{inputs[o]}' names {inputs[o].Length}");
            for (int i = 0; i < inputs[o].Length; i++)
            {
                char c = inputs[o][i];
                int s = operands[o].Shape[i];
                if (sizes.TryGetValue(c, out var known) && known != s && known != 1 && s != 1)
                    throw new TensorException($"einsum(): subscript '{c}' has size {s} and {known}");
                sizes[c] = Math.Max(known, s);
            }
        }
        string output = parts.Length == 2 ? parts[1]
            : new string([.. sizes.Keys.Where(c => inputs.Sum(s => s.Count(x => x == c)) == 1).Order()]);
        foreach (char c in output)
        {
            if (!sizes.ContainsKey(c)) throw new TensorException($"einsum(): output subscript '{c}' does not appear in the inputs of '{equation}'");
            if (output.Count(x => x == c) > 1) throw new TensorException($"einsum(): output subscript '{c}' appears more than once in '{equation}'");
        }
        if (EinsumAsMatmul(inputs, operands, output, sizes) is { } viaMatmul) return viaMatmul;
        var letters = output.Concat(sizes.Keys.Where(c => !output.Contains(c))).ToArray();
        var dims = letters.Select(c => sizes[c]).ToArray();
        var result = Tensor.Allocate([.. output.Select(c => sizes[c])]);
        long total = dims.Aggregate(1L, (x, y) => x * y);
        Tensor.Budget?.ChargeWork(total);
        FoldLengths.Report(result.Count == 0 ? 0 : total / result.Count);
        var strides = operands.Select((t, o) =>
        {
            var st = Tensor.Strides(t.Shape);
            return letters.Select(c =>
            {
                int sum = 0;
                for (int i = 0; i < inputs[o].Length; i++) if (inputs[o][i] == c && t.Shape[i] != 1) sum += st[i];
                return sum;
            }).ToArray();
        }).ToArray();
        int outCount = Math.Max(result.Count, 1);
        long reduce = total / Math.Max(1, dims.Take(output.Length).Aggregate(1L, (x, y) => x * y));
        var index = new int[letters.Length];
        var acc = new double[outCount];
        for (long n = 0; n < total; n++)
        {
            double product = 1;
            for (int o = 0; o < operands.Count; o++)
            {
                int pos = 0;
                for (int l = 0; l < letters.Length; l++) pos += index[l] * strides[o][l];
                product *= operands[o].Data[pos];
            }
            acc[n / reduce] += product;
            for (int l = letters.Length - 1; l >= 0 && ++index[l] == dims[l]; l--) index[l] = 0;
        }
        for (int i = 0; i < result.Count; i++) result.Data[i] = (float)acc[i];
        return result;
    }

    /// <summary>
    /// A two-operand einsum without diagonals, broadcasting or a sum over one operand alone, as a batched matrix
    /// product: batch letters (both operands and the output), free letters of each operand, and contracted letters
    /// (both operands, not the output) taken in order of first appearance, the order the general loop below sums
    /// them in, so the result is the same bit for bit. Null when the equation is not of that form.
    /// </summary>
    private static Tensor? EinsumAsMatmul(string[] inputs, IReadOnlyList<Tensor> operands, string output, Dictionary<char, int> sizes)
    {
        if (operands.Count != 2) return null;
        string a = inputs[0], b = inputs[1];
        if (a.Distinct().Count() != a.Length || b.Distinct().Count() != b.Length) return null;
        for (int o = 0; o < 2; o++)
            for (int i = 0; i < inputs[o].Length; i++)
                if (operands[o].Shape[i] != sizes[inputs[o][i]]) return null;
        var order = sizes.Keys.ToList();
        var batch = output.Where(c => a.Contains(c) && b.Contains(c)).ToArray();
        var freeA = output.Where(c => a.Contains(c) && !b.Contains(c)).ToArray();
        var freeB = output.Where(c => b.Contains(c) && !a.Contains(c)).ToArray();
        var contracted = order.Where(c => !output.Contains(c)).ToArray();
        if (contracted.Any(c => !a.Contains(c) || !b.Contains(c))) return null;
        static int Product(IEnumerable<char> letters, Dictionary<char, int> sizes) => letters.Aggregate(1, (x, c) => checked(x * sizes[c]));
        int batches = Product(batch, sizes), m = Product(freeA, sizes), n = Product(freeB, sizes), k = Product(contracted, sizes);
        var left = Arranged(operands[0], a, [.. batch, .. freeA, .. contracted]).Reshape([batches, m, k]);
        var right = Arranged(operands[1], b, [.. batch, .. contracted, .. freeB]).Reshape([batches, k, n]);
        var product = Matmul(left, right).Reshape([.. batch.Concat(freeA).Concat(freeB).Select(c => sizes[c])]);
        return Arranged(product, new string([.. batch, .. freeA, .. freeB]), output.ToCharArray());
    }

    /// <summary>The tensor whose dims are named by <paramref name="letters"/>, with its dims in the order of <paramref name="wanted"/>.</summary>
    private static Tensor Arranged(Tensor t, string letters, char[] wanted)
    {
        var perm = wanted.Select(c => letters.IndexOf(c, StringComparison.Ordinal)).ToArray();
        return perm.Select((p, i) => p == i).All(x => x) ? t : t.Permute(perm);
    }

    public static Tensor Arange(double start, double end, double step, ElementKind kind)
    {
        if (step == 0) throw new TensorException("arange(): step must be nonzero");
        double steps = Math.Ceiling((end - start) / step);
        if (double.IsNaN(steps)) throw new TensorException("arange(): start, end and step must be finite");
        if (steps > int.MaxValue) throw new LimitExceededException($"arange() of {steps:G3} elements is too large");
        long count = (long)steps;
        if (count < 0) count = 0;
        if (count > int.MaxValue) throw new LimitExceededException($"arange() of {count:N0} elements is too large");
        var result = Tensor.Allocate([(int)count], kind);
        for (int i = 0; i < count; i++) result.Data[i] = (float)(start + i * step);
        return result;
    }

    /// <summary>aten::native_layer_norm without weight and bias: (output, mean, rstd) over the trailing dims.</summary>
    public static (Tensor Output, Tensor Mean, Tensor Rstd) LayerNorm(Tensor x, int[] normalizedShape, double eps)
    {
        int n = normalizedShape.Length;
        if (n == 0 || n > x.Rank || !x.Shape[^n..].SequenceEqual(normalizedShape))
            throw new TensorException($"native_layer_norm: normalized shape ({string.Join(", ", normalizedShape)}) does not match the trailing dims of {x.Describe()}");
        int size = normalizedShape.Aggregate(1, (a, b) => a * b);
        int rows = size == 0 ? 0 : x.Count / size;
        FoldLengths.Report(size);
        var output = Tensor.Allocate(x.Shape);
        var statShape = x.Shape[..^n].Concat(Enumerable.Repeat(1, n)).ToArray();
        var mean = Tensor.Allocate(statShape);
        var rstd = Tensor.Allocate([.. statShape]);
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int i = 0; i < size; i++) sum += x.Data[r * size + i];
            double mu = sum / size, sq = 0;
            for (int i = 0; i < size; i++) { double c = x.Data[r * size + i] - mu; sq += c * c; }
            double inv = 1.0 / Math.Sqrt(sq / size + eps);
            for (int i = 0; i < size; i++) output.Data[r * size + i] = (float)((x.Data[r * size + i] - mu) * inv);
            mean.Data[r] = (float)mu;
            rstd.Data[r] = (float)inv;
        }
        return (output, mean, rstd);
    }
}
