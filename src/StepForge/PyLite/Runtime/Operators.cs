using StepForge.Diagnostics;
using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>Python's operators on PyLite values: numbers as in Python, tensors as in torch.</summary>
public static class Operators
{
    private static PyLiteRuntimeException Error(string message, SourceSpan span) => new(message, span.Line, span.Column);

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        Batched => throw new NotBatchableException("a batched value as a Python number"),
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        Tensor t => t.Item(),
        _ => throw new TensorException($"expected a number, got {PyValue.TypeName(v)}"),
    };

    public static long ToLong(object? v) => v switch
    {
        Batched => throw new NotBatchableException("a batched value as a Python integer"),
        long l => l,
        bool b => b ? 1 : 0,
        Tensor { Kind: not ElementKind.Float } t => (long)t.Item(),
        _ => throw new TensorException($"expected an integer, got {PyValue.TypeName(v)}"),
    };

    /// <summary>A Python scalar as a 0-d tensor of its kind, or the tensor itself.</summary>
    public static Tensor ToTensor(object? v) => v switch
    {
        Tensor t => t,
        Batched => throw new NotBatchableException("a batched value where a plain tensor is needed"),
        bool b => Tensor.Scalar(b ? 1 : 0, ElementKind.Bool),
        long l => Tensor.Scalar(l, ElementKind.Int),
        double d => Tensor.Scalar(d),
        _ => throw new TensorException($"expected a tensor or a number, got {PyValue.TypeName(v)}"),
    };

    private static BinaryKind? TensorOp(BinaryOp op) => op switch
    {
        BinaryOp.Add => BinaryKind.Add,
        BinaryOp.Sub => BinaryKind.Sub,
        BinaryOp.Mul => BinaryKind.Mul,
        BinaryOp.Div => BinaryKind.Div,
        BinaryOp.FloorDiv => BinaryKind.FloorDiv,
        BinaryOp.Mod => BinaryKind.Mod,
        BinaryOp.Pow => BinaryKind.Pow,
        BinaryOp.BitAnd => BinaryKind.BitAnd,
        BinaryOp.BitOr => BinaryKind.BitOr,
        BinaryOp.BitXor => BinaryKind.BitXor,
        _ => null,
    };

    public static object? Binary(BinaryOp op, object? left, object? right, SourceSpan span)
    {
        if (left is Batched || right is Batched)
        {
            if (op == BinaryOp.MatMul) return Batching.Matmul(left, right);
            return Batching.Binary(TensorOp(op) ?? throw new NotBatchableException($"operator {op}"), left, right);
        }
        if (left is Tensor || right is Tensor)
        {
            if (op == BinaryOp.MatMul)
            {
                if (left is not Tensor a || right is not Tensor b) throw Error("@ needs two tensors", span);
                return TensorMath.Matmul(a, b);
            }
            var kind = TensorOp(op) ?? throw Error($"operator {op} is not supported on tensors", span);
            if (!IsNumber(left) && left is not Tensor || !IsNumber(right) && right is not Tensor)
                throw Error($"unsupported operand types for {op}: '{PyValue.TypeName(left)}' and '{PyValue.TypeName(right)}'", span);
            return TensorMath.Binary(kind, ToTensor(left), ToTensor(right));
        }
        if (IsNumber(left) && IsNumber(right)) return Numeric(op, left!, right!, span);
        switch (op, left, right)
        {
            case (BinaryOp.Add, PyList a, PyList b): return new PyList([.. a.Items, .. b.Items]);
            case (BinaryOp.Add, PyTuple a, PyTuple b): return new PyTuple([.. a.Items, .. b.Items]);
            case (BinaryOp.Add, string a, string b):
                Tensor.Budget?.ChargeChars((long)a.Length + b.Length);
                return a + b;
            case (BinaryOp.Mul, PyList a, long n): return new PyList(Repeat(a.Items, n));
            case (BinaryOp.Mul, long n, PyList a): return new PyList(Repeat(a.Items, n));
        }
        throw Error($"unsupported operand types for {op}: '{PyValue.TypeName(left)}' and '{PyValue.TypeName(right)}'", span);
    }

    private static List<object?> Repeat(List<object?> items, long n)
    {
        if (n <= 0 || items.Count == 0) return [];
        // Checked before anything is built: n * count can be far beyond memory (or wrap around).
        if (n > 1_000_000 || n * items.Count > 1_000_000) throw new LimitExceededException(Rules.LimitTensor, "list repetition too large");
        var result = new List<object?>((int)(n * items.Count));
        for (long i = 0; i < n; i++) result.AddRange(items);
        return result;
    }

    /// <summary>a ** b for b >= 0 by squaring: at most 63 multiplications, whatever b is.</summary>
    private static long IntegerPower(long a, long b)
    {
        if (a is 0 or 1) return b == 0 ? 1 : a;
        if (a == -1) return b % 2 == 0 ? 1 : -1;
        if (b >= 64) throw new OverflowException();
        long result = 1;
        for (long factor = a; b > 0; b >>= 1)
        {
            if ((b & 1) != 0) result = checked(result * factor);
            if (b > 1) factor = checked(factor * factor);
        }
        return result;
    }

    private static object Numeric(BinaryOp op, object left, object right, SourceSpan span)
    {
        bool ints = left is long or bool && right is long or bool;
        if (ints)
        {
            long a = ToLong(left), b = ToLong(right);
            try
            {
                switch (op)
                {
                    case BinaryOp.Add: return checked(a + b);
                    case BinaryOp.Sub: return checked(a - b);
                    case BinaryOp.Mul: return checked(a * b);
                    case BinaryOp.BitAnd: return left is bool && right is bool ? (a & b) != 0 : a & b;
                    case BinaryOp.BitOr: return left is bool && right is bool ? (a | b) != 0 : a | b;
                    case BinaryOp.BitXor: return left is bool && right is bool ? (a ^ b) != 0 : a ^ b;
                    case BinaryOp.FloorDiv:
                        if (b == 0) throw Error("integer division by zero", span);
                        return (long)Math.Floor((double)a / b);
                    case BinaryOp.Mod:
                        if (b == 0) throw Error("integer modulo by zero", span);
                        return ((a % b) + b) % b;
                    case BinaryOp.Pow when b >= 0:
                        return IntegerPower(a, b);
                }
            }
            catch (OverflowException)
            {
                throw new LimitExceededException("integer arithmetic overflows");
            }
        }
        double x = ToDouble(left), y = ToDouble(right);
        return op switch
        {
            BinaryOp.Add => x + y,
            BinaryOp.Sub => x - y,
            BinaryOp.Mul => x * y,
            BinaryOp.Div => y == 0 ? throw Error("division by zero", span) : x / y,
            BinaryOp.FloorDiv => y == 0 ? throw Error("division by zero", span) : Math.Floor(x / y),
            BinaryOp.Mod => y == 0 ? throw Error("modulo by zero", span) : x - Math.Floor(x / y) * y,
            BinaryOp.Pow => Math.Pow(x, y),
            _ => throw Error($"operator {op} is not supported on numbers", span),
        };
    }

    public static object? Unary(UnaryOp op, object? operand, SourceSpan span) => (op, operand) switch
    {
        (UnaryOp.Neg, Batched b) => Batching.Unary(b, TensorMath.Negate),
        (UnaryOp.Invert, Batched b) => Batching.Unary(b, TensorMath.Invert),
        (UnaryOp.Invert, Tensor t) => TensorMath.Invert(t),
        (UnaryOp.Invert, long l) => ~l,
        (UnaryOp.Invert, bool b) => b ? -2L : -1L,
        (UnaryOp.Pos, Batched b) => b,
        (UnaryOp.Not, _) => !Truth(operand, span),
        (UnaryOp.Neg, Tensor t) => TensorMath.Negate(t),
        (UnaryOp.Pos, Tensor t) => t,
        (UnaryOp.Neg, long l) => l == long.MinValue ? throw new LimitExceededException("integer arithmetic overflows") : -l,
        (UnaryOp.Neg, double d) => -d,
        (UnaryOp.Neg, bool b) => b ? -1L : 0L,
        (UnaryOp.Pos, long or double) => operand,
        _ => throw Error($"bad operand type for unary {op}: '{PyValue.TypeName(operand)}'", span),
    };

    public static object? Compare(CompareOp op, object? left, object? right, SourceSpan span)
    {
        if (left is Tensor || right is Tensor || left is Batched || right is Batched)
        {
            BinaryKind kind = op switch
            {
                CompareOp.Lt => BinaryKind.Lt,
                CompareOp.Le => BinaryKind.Le,
                CompareOp.Gt => BinaryKind.Gt,
                CompareOp.Ge => BinaryKind.Ge,
                CompareOp.Eq => BinaryKind.Eq,
                CompareOp.Ne => BinaryKind.Ne,
                _ => throw Error($"comparison {op} is not supported on tensors", span),
            };
            return left is Batched || right is Batched ? Batching.Binary(kind, left, right) : TensorMath.Binary(kind, ToTensor(left), ToTensor(right));
        }
        switch (op)
        {
            case CompareOp.Is: return ReferenceEquals(left, right) || left is null && right is null || Equals(left, right) && left is bool;
            case CompareOp.IsNot: return !(bool)Compare(CompareOp.Is, left, right, span)!;
            case CompareOp.In: return Iterate(right, span).Any(item => PyEquals(left, item));
            case CompareOp.NotIn: return !Iterate(right, span).Any(item => PyEquals(left, item));
            case CompareOp.Eq: return PyEquals(left, right);
            case CompareOp.Ne: return !PyEquals(left, right);
        }
        if (IsNumber(left) && IsNumber(right))
        {
            double x = ToDouble(left), y = ToDouble(right);
            return op switch { CompareOp.Lt => x < y, CompareOp.Le => x <= y, CompareOp.Gt => x > y, _ => x >= y };
        }
        if (left is string a && right is string b)
        {
            int c = string.CompareOrdinal(a, b);
            return op switch { CompareOp.Lt => c < 0, CompareOp.Le => c <= 0, CompareOp.Gt => c > 0, _ => c >= 0 };
        }
        throw Error($"'{op}' is not supported between '{PyValue.TypeName(left)}' and '{PyValue.TypeName(right)}'", span);
    }

    private static bool PyEquals(object? a, object? b) =>
        IsNumber(a) && IsNumber(b) ? ToDouble(a) == ToDouble(b) : PyKeyComparer.Instance.Equals(a, b) || a is null && b is null;

    public static bool Truth(object? value, SourceSpan span) => value switch
    {
        Batched => throw new NotBatchableException("a condition on batched values"),
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        PyList l => l.Items.Count > 0,
        PyTuple t => t.Items.Count > 0,
        PyDict d => d.Count > 0,
        Tensor t when t.Count == 1 => t.Data[0] != 0,
        Tensor t => throw Error($"the truth value of a tensor with {t.Count} elements is ambiguous", span),
        _ => true,
    };

    public static IEnumerable<object?> Iterate(object? value, SourceSpan span) => value switch
    {
        Batched => throw new NotBatchableException("iterating over a batched value"),
        PyList l => l.Items.ToList(),
        PyTuple t => t.Items,
        PyDict d => d.Keys.ToList(),
        string s => s.Select(c => (object?)c.ToString()),
        Tensor t when t.Rank > 0 => Enumerable.Range(0, t.Shape[0]).Select(i => (object?)t.Index([new Tensor.At(i)])),
        _ => throw Error($"'{PyValue.TypeName(value)}' object is not iterable", span),
    };

    public static object? Subscript(object? target, object? index, SourceSpan span)
    {
        switch (target)
        {
            case Batched b:
                return Batching.Index(b, index);
            case Tensor t:
                return t.Index(ToIndexItems(index, span));
            case PyList or PyTuple:
            {
                var items = target is PyList l ? l.Items : ((PyTuple)target).Items;
                if (index is PySlice slice)
                {
                    var sliced = SliceList(items, slice, span);
                    return target is PyList ? new PyList(sliced) : new PyTuple(sliced);
                }
                long i = index is long or bool ? ToLong(index) : throw Error($"list indices must be integers, not {PyValue.TypeName(index)}", span);
                if (i < 0) i += items.Count;
                if (i < 0 || i >= items.Count) throw Error($"index {ToLong(index)} is out of range for a {PyValue.TypeName(target)} of {items.Count}", span);
                return items[(int)i];
            }
            case PyDict d:
                if (index is not null && d.TryGet(index, out var value)) return value;
                throw Error($"key {PyValue.Repr(index)} not found", span);
            default:
                throw Error($"'{PyValue.TypeName(target)}' object is not subscriptable", span);
        }
    }

    private static List<object?> SliceList(IReadOnlyList<object?> items, PySlice slice, SourceSpan span)
    {
        long step = slice.Step is null ? 1 : ToLong(slice.Step);
        if (step <= 0) throw Error("only positive slice steps are supported", span);
        long n = items.Count;
        long Norm(object? v, long fallback) => v is null ? fallback : Math.Clamp(ToLong(v) < 0 ? ToLong(v) + n : ToLong(v), 0, n);
        long start = Norm(slice.Start, 0), stop = Norm(slice.Stop, n);
        var result = new List<object?>();
        for (long i = start; i < stop; i += step) result.Add(items[(int)i]);
        return result;
    }

    private static List<Tensor.IndexItem> ToIndexItems(object? index, SourceSpan span)
    {
        var parts = index is PyTuple t ? t.Items : [index];
        return [.. parts.Select(p => p switch
        {
            long or bool => new Tensor.At(ToLong(p)),
            Tensor { Count: 1, Kind: not ElementKind.Float } it => new Tensor.At((long)it.Data[0]),
            PySlice s => new Tensor.Range(s.Start is null ? null : ToLong(s.Start), s.Stop is null ? null : ToLong(s.Stop), s.Step is null ? null : ToLong(s.Step)),
            PyEllipsis => new Tensor.Ellipsis(),
            null => (Tensor.IndexItem)new Tensor.NewAxis(),
            Tensor or PyList => throw new UnsupportedFeatureException("indexing a tensor with a tensor or list (advanced indexing)",
                "torch.index_select, torch.gather, torch.take_along_dim or torch.where do the same"),
            _ => throw Error($"tensors cannot be indexed with a {PyValue.TypeName(p)}", span),
        })];
    }
}
