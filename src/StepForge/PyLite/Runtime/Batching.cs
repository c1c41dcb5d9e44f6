using StepForge.Diagnostics;
using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>A value used in a way that has no batching rule: the caller falls back to evaluating element by element.</summary>
public sealed class NotBatchableException(string what) : Exception($"cannot batch {what}");

/// <summary>
/// Many elements of one logical value, stacked along a leading batch axis (vmap style). fn bodies see each element's
/// logical shape: dims they name are shifted past the batch axis. Only operations with a rule below accept a
/// batched value; any other use throws <see cref="NotBatchableException"/>, so an unsupported body is never batched
/// wrongly, it is evaluated per element instead.
/// </summary>
public sealed class Batched(Tensor value)
{
    public Tensor Value { get; } = value;
    public int Size => Value.Shape[0];
    public int LogicalRank => Value.Rank - 1;
    public int[] LogicalShape => Value.Shape[1..];

    public override string ToString() => $"batched {Value.Describe()}";
}

/// <summary>Batching helpers for the operators and indexing; the torch functions batch through <see cref="Catalogue"/>.</summary>
public static class Batching
{
    [ThreadStatic] private static Tensor[]? _borrowed;

    /// <summary>
    /// Marks these tensors' data as borrowed until the returned scope is disposed: a batched fn body gets a stream's
    /// data itself, not a copy (streams at large sizes are hundreds of megabytes), so writing into it in place is not
    /// batchable and falls back to per-element evaluation, whose elements are copies. The array must not change
    /// while the scope is open.
    /// </summary>
    public static BorrowScope Borrow(Tensor[] tensors)
    {
        var previous = _borrowed;
        _borrowed = tensors;
        return new BorrowScope(previous);
    }

    public readonly struct BorrowScope(Tensor[]? previous) : IDisposable
    {
        public void Dispose() => _borrowed = previous;
    }

    /// <summary>Throws <see cref="NotBatchableException"/> before an in-place write into borrowed data.</summary>
    internal static void EnsureWritable(Batched x, string what)
    {
        if (_borrowed is not { } borrowed) return;
        foreach (var b in borrowed)
            if (ReferenceEquals(b.Data, x.Value.Data))
                throw new NotBatchableException($"{what} into an fn's input");
    }

    public static bool Any(IEnumerable<object?> values) => values.Any(v => IsBatchedDeep(v, 0));

    private static bool IsBatchedDeep(object? v, int depth) => v switch
    {
        _ when depth > ExecutionBudget.MaxDepth => throw new LimitExceededException(Rules.LimitDepth, $"an argument nested more than {ExecutionBudget.MaxDepth} levels deep"),
        Batched => true,
        PyList l => l.Items.Any(i => IsBatchedDeep(i, depth + 1)),
        PyTuple t => t.Items.Any(i => IsBatchedDeep(i, depth + 1)),
        _ => false,
    };

    /// <summary>Lifts both operands to the same logical rank so that broadcasting lines up past the batch axis.</summary>
    public static (Tensor A, Tensor B, int Size) Align(object? a, object? b)
    {
        var ta = a is Batched ba ? ba.Value : Operators.ToTensor(a);
        var tb = b is Batched bb ? bb.Value : Operators.ToTensor(b);
        int la = a is Batched x ? x.LogicalRank : ta.Rank, lb = b is Batched y ? y.LogicalRank : tb.Rank;
        int logical = Math.Max(la, lb);
        Tensor Lift(Tensor t, bool batched, int rank) => batched && rank < logical
            ? t.Reshape([t.Shape[0], .. Enumerable.Repeat(1, logical - rank), .. t.Shape[1..]])
            : t;
        int size = a is Batched p ? p.Size : ((Batched)b!).Size;
        return (Lift(ta, a is Batched, la), Lift(tb, b is Batched, lb), size);
    }

    public static Batched Binary(BinaryKind kind, object? a, object? b)
    {
        var (x, y, _) = Align(a, b);
        return new Batched(TensorMath.Binary(kind, x, y));
    }

    public static Batched Unary(object? v, Func<Tensor, Tensor> f) => new(f(((Batched)v!).Value));

    /// <summary>
    /// torch.matmul where either operand may be batched: vectors become matrices, a batched operand is lifted to the
    /// common per-element rank so that its batch dim leads the broadcast batch dims, and the vector dims are dropped
    /// again. A plain tensor when neither is batched.
    /// </summary>
    public static object Matmul(object? a, object? b)
    {
        if (a is not Batched && b is not Batched) return TensorMath.Matmul(Operators.ToTensor(a), Operators.ToTensor(b));
        var x = a is Batched ba ? ba.Value : Operators.ToTensor(a);
        var y = b is Batched bb ? bb.Value : Operators.ToTensor(b);
        int lx = a is Batched p ? p.LogicalRank : x.Rank, ly = b is Batched q ? q.LogicalRank : y.Rank;
        if (lx == 0 || ly == 0) throw new TensorException("matmul: both arguments need at least one dimension");
        bool xVector = lx == 1, yVector = ly == 1;
        if (xVector) (x, lx) = (x.Unsqueeze(x.Rank - 1), 2);
        if (yVector) (y, ly) = (y.Unsqueeze(y.Rank), 2);
        int logical = Math.Max(lx, ly);
        Tensor Lift(Tensor t, int rank) => t.Reshape([t.Shape[0], .. Enumerable.Repeat(1, logical - rank), .. t.Shape[1..]]);
        if (a is Batched) x = Lift(x, lx);
        if (b is Batched) y = Lift(y, ly);
        var result = TensorMath.Matmul(x, y);
        var shape = result.Shape.ToList();
        if (yVector) shape.RemoveAt(shape.Count - 1);
        if (xVector) shape.RemoveAt(shape.Count - (yVector ? 1 : 2));
        return new Batched(result.Reshape([.. shape]));
    }

    public static Batched Index(Batched x, object? index)
    {
        var parts = index is PyTuple t ? t.Items : [index];
        if (parts.Any(p => p is Batched or Tensor)) throw new NotBatchableException("indexing with a tensor");
        var items = new List<object?> { new PySlice(null, null, null) };
        items.AddRange(parts);
        return new Batched((Tensor)Operators.Subscript(x.Value, new PyTuple(items), default)!);
    }

    public static Batched Einsum(string equation, IReadOnlyList<object?> operands)
    {
        var eq = equation.Replace(" ", "", StringComparison.Ordinal);
        var parts = eq.Split("->");
        if (parts.Length != 2) throw new NotBatchableException("an einsum without '->'");
        var letters = eq.Where(char.IsAsciiLetter).ToHashSet();
        char batch = "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA".First(c => !letters.Contains(c));
        var inputs = parts[0].Split(',');
        var tensors = new List<Tensor>();
        for (int i = 0; i < operands.Count; i++)
        {
            if (operands[i] is Batched b)
            {
                inputs[i] = batch + inputs[i];
                tensors.Add(b.Value);
            }
            else tensors.Add(Operators.ToTensor(operands[i]));
        }
        return new Batched(TensorMath.Einsum(string.Join(',', inputs) + "->" + batch + parts[1], tensors));
    }
}
