using StepForge.Diagnostics;
using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>Where a catalogued function is bound: torch.X, Tensor.X, torch.nn.functional.X, and Tensor.X_ (in place).</summary>
[Flags]
public enum Binding
{
    None = 0,
    Torch = 1,
    Method = 2,
    Functional = 4,
    InPlace = 8,
}

/// <summary>A function's body: computes its result from a <see cref="Call"/>.</summary>
internal delegate object? Kernel(Call c);

/// <summary>
/// One PyTorch function, declared once: its name (and aliases), where torch binds it, its parameters in torch's
/// order (<c>*name</c> takes the remaining positional arguments), its kernel, and how it batches.
/// </summary>
/// <remarks>
/// The kernel is its own batch rule: it reads dims and shapes through <see cref="Call"/>, which knows whether the
/// tensors carry a leading batch dim, so one body serves the per-element and the batched (vmap-style) evaluation.
/// Before a batched call, the <see cref="Broadcast"/> parameters (elementwise operands) are lifted to a common
/// logical rank, an unbatched one getting a batch dim of size 1, and the <see cref="Stacked"/> ones (indices, lists
/// of tensors) are given the full batch dim. A tensor reaching any other parameter batched cannot be batched, and
/// neither can a function whose <see cref="Batches"/> is false: evaluation then falls back to per element.
/// </remarks>
internal sealed record TorchFunction(string Name, Binding Binding, string[] Parameters, Kernel Kernel)
{
    public string[] Aliases { get; init; } = [];

    public bool Batches { get; init; } = true;

    /// <summary>Elementwise tensor (or number) operands; by default the first parameter.</summary>
    public string[] Broadcast { get; init; } = Parameters.Length > 0 && !Parameters[0].StartsWith('*') ? [Parameters[0]] : [];

    public string[] Stacked { get; init; } = [];

    /// <summary>The parameter a method's own tensor binds (torch.where's input, not its condition).</summary>
    public string Self { get; init; } = Parameters.Length > 0 ? Parameters[0] : "input";

    public IEnumerable<string> Names => [Name, .. Aliases];

    private string[]? _methodParameters;

    /// <summary>The parameters a method call binds from its arguments: all but <see cref="Self"/>. Computed on first use
    /// (after any init of Self) and kept, since every method call needs it; functions are never compared, so the
    /// cached field does not matter to equality.</summary>
    public string[] MethodParameters => _methodParameters ??= [.. Parameters.Where(p => p != Self)];
}

/// <summary>One call of a catalogued function: its arguments, read as the kernel needs them, and the batch layout.</summary>
internal sealed class Call(Arguments args, int lead, int batchSize, Dictionary<string, object> aligned)
{
    public Arguments Args { get; } = args;

    /// <summary>Leading batch dims on every aligned tensor: 0 per element, 1 batched.</summary>
    public int Lead { get; } = lead;

    public int BatchSize { get; } = batchSize;

    public string Name => Args.Function;

    public bool Has(string name) => Args.Has(name) && Args.Get(name) is not null;

    /// <summary>An argument as given (batched values unaligned).</summary>
    public object? Raw(string name, object? fallback = null) => Args.Get(name, fallback);

    public int Int(string name, int? fallback = null) => Args.Int(name, fallback);

    public int? OptionalInt(string name) => Args.OptionalInt(name);

    public double Double(string name, double? fallback = null) => Args.Double(name, fallback);

    public double? OptionalDouble(string name) => Args.OptionalDouble(name);

    public bool Bool(string name, bool fallback = false) => Args.Bool(name, fallback);

    public string? String(string name, string? fallback = null) => Raw(name) switch
    {
        null => fallback,
        string s => s,
        var other => throw new TensorException($"{Name}(): {name} must be a string, not {PyValue.TypeName(other)}"),
    };

    /// <summary>A tensor argument: aligned when batched; a number becomes a 0-d tensor.</summary>
    public Tensor Tensor(string name) => aligned.TryGetValue(name, out var v)
        ? v as Tensor ?? throw new TensorException($"{Name}(): {name} must be a tensor, not a list")
        : Operators.ToTensor(Args.Required(name));

    public Tensor? OptionalTensor(string name) => Has(name) ? Tensor(name) : null;

    public IReadOnlyList<Tensor> Tensors(string name) => aligned.TryGetValue(name, out var v)
        ? v as List<Tensor> ?? throw new TensorException($"{Name}(): {name} must be a list of tensors")
        : Torch.Tensors(Args.Required(name));

    /// <summary>The per-element rank and shape of a tensor of this call.</summary>
    public int Rank(Tensor t) => t.Rank >= Lead ? t.Rank - Lead : throw new NotBatchableException($"{Name} with a tensor that lacks the batch dim");

    public int[] Shape(Tensor t) => t.Shape[(t.Rank - Rank(t))..];

    /// <summary>The per-element shape of an argument as given (a batched one without its batch dim).</summary>
    public int[] ShapeOf(string name) => Raw(name) is Batched b ? b.LogicalShape : Operators.ToTensor(Args.Required(name)).Shape;

    /// <summary>A per-element dim (negative counts from the end) as a dim of the tensor.</summary>
    public int Dim(Tensor t, int dim)
    {
        int rank = Rank(t), d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank)
            throw new TensorException($"{Name}(): dimension {dim} is out of range for a tensor with {rank} dimension(s)");
        return d + Lead;
    }

    /// <summary>
    /// The dims a reduction runs over: None or () is every dim, else an int or a tuple of them. A 0-d tensor accepts
    /// dim 0 or -1, which reduce nothing.
    /// </summary>
    public int[] Dims(Tensor t, object? value)
    {
        var items = value switch
        {
            null => [],
            PyTuple tuple => tuple.Items,
            PyList list => list.Items,
            _ => [value],
        };
        if (items.Count == 0) return [.. Enumerable.Range(Lead, Rank(t))];
        var dims = new List<int>();
        foreach (var item in items)
        {
            int dim = Args.ToInt(item, "dim");
            if (Rank(t) == 0)
            {
                if (dim is not (0 or -1)) throw new TensorException($"{Name}(): dimension {dim} is out of range for a 0-d tensor");
                continue;
            }
            int d = Dim(t, dim);
            if (dims.Contains(d)) throw new TensorException($"{Name}(): dim {dim} appears multiple times in the list of dims");
            dims.Add(d);
        }
        return [.. dims.Order()];
    }

    /// <summary>
    /// Runs <paramref name="f"/> along one per-element dim. A 0-d tensor (dim 0 or -1) gets a dim of size 1 for it,
    /// which results keeping that dim lose again.
    /// </summary>
    public object? Along(Tensor t, int dim, Func<Tensor, int, object?> f)
    {
        if (Rank(t) > 0) return f(t, Dim(t, dim));
        if (dim is not (0 or -1)) throw new TensorException($"{Name}(): dimension {dim} is out of range for a 0-d tensor");
        var lifted = t.Unsqueeze(t.Rank);
        return Catalogue.MapTensors(f(lifted, t.Rank), r => r.Rank > t.Rank ? r.Reshape(r.Shape[..^1]) : r);
    }

    /// <summary>The tensor with its per-element dims flattened into one.</summary>
    public Tensor Flat(Tensor t)
    {
        long count = StepForge.Tensors.Tensor.Numel(Shape(t));
        return t.Reshape([.. t.Shape[..Lead], checked((int)count)]);
    }

    /// <summary>Sizes given as ints (or one tuple of them); -1 is allowed where torch infers a size.</summary>
    public int[] Sizes(IReadOnlyList<object?> items, bool allowInfer = false)
    {
        var sizes = items.Select(i => Args.ToInt(i, "size")).ToArray();
        foreach (var s in sizes)
            if (s < (allowInfer ? -1 : 0)) throw new TensorException($"{Name}(): invalid size {s} in ({string.Join(", ", sizes)})");
        return sizes;
    }

    /// <summary>torch.matmul of two arguments as given, with this call's batch layout (see <see cref="Batching.Matmul"/>).</summary>
    public Tensor Matmul(object? a, object? b)
    {
        var result = Batching.Matmul(a, b);
        return result is Batched batched ? batched.Value : Lead == 0 ? (Tensor)result : ((Tensor)result).Unsqueeze(0);
    }

    /// <summary>The per-element rank of an argument as given.</summary>
    public int RankOf(string name) => Raw(name) is Batched b ? b.LogicalRank : Operators.ToTensor(Args.Required(name)).Rank;
}

/// <summary>
/// The catalogue of PyTorch functions StepForge supports: every function declared once (in the Catalogue.*.cs
/// files), and the views generated from it: the torch namespace, torch.nn.functional, and tensor methods.
/// </summary>
internal static partial class Catalogue
{
    private const Binding T = Binding.Torch;
    private const Binding M = Binding.Method;
    private const Binding TM = Binding.Torch | Binding.Method;
    private const Binding TMI = Binding.Torch | Binding.Method | Binding.InPlace;
    private const Binding F = Binding.Functional;

    public static readonly IReadOnlyList<TorchFunction> All =
        [.. Elementwise(), .. Activations(), .. Reductions(), .. Shapes(), .. Products(), .. Creation(), .. Casts()];

    private static Dictionary<string, TorchFunction> Index(Binding binding)
    {
        var index = new Dictionary<string, TorchFunction>();
        foreach (var f in All.Where(f => (f.Binding & binding) != 0))
            foreach (var name in f.Names)
                if (!index.TryAdd(name, f)) throw new InvalidOperationException($"two catalogue entries bind {binding} {name}");
        return index;
    }

    public static readonly IReadOnlyDictionary<string, TorchFunction> TorchFunctions = Index(Binding.Torch);
    public static readonly IReadOnlyDictionary<string, TorchFunction> Functional = Index(Binding.Functional);
    private static readonly Dictionary<string, TorchFunction> Methods = Index(Binding.Method);
    private static readonly Dictionary<string, TorchFunction> InPlaceMethods = Index(Binding.InPlace);

    /// <summary>Any entry by its name, including those bound elsewhere (torch.ops.aten).</summary>
    public static TorchFunction Named(string name) => All.First(f => f.Name == name);

    public static PyFunction Bind(TorchFunction f, string shown) => new(shown, (args, kwargs) => Invoke(f, shown, null, args, kwargs));

    /// <summary>Tensor.<paramref name="name"/> bound to a tensor (or batched tensor); null when no such method exists.</summary>
    public static PyFunction? Method(object self, string name)
    {
        string shown = "Tensor." + name;
        if (Methods.TryGetValue(name, out var f))
            return new PyFunction(shown, (args, kwargs) => Invoke(f, shown, self, args, kwargs));
        if (name.EndsWith('_') && InPlaceMethods.TryGetValue(name[..^1], out var g))
            return new PyFunction(shown, (args, kwargs) => WriteInto(self, Invoke(g, shown, self, args, kwargs), shown));
        return null;
    }

    /// <summary>Calls a function: per element when no argument is batched, else through its batch rule (or not at all).</summary>
    public static object? Invoke(TorchFunction f, string shown, object? self, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
    {
        var names = self is null ? f.Parameters : f.MethodParameters;
        var a = new Arguments(shown, args, kwargs, names, self is null ? null : f.Self, self);
        int size = BatchSize(self, args, kwargs);
        object? result;
        if (size < 0) result = f.Kernel(new Call(a, 0, 0, []));
        else if (!f.Batches) throw new NotBatchableException(shown);
        else result = Wrap(f.Kernel(new Call(a, 1, size, Align(f, a, size))), size);
        return f.Parameters.Contains("inplace") && a.Bool("inplace", false) ? WriteInto(a.Get(f.Self), result, shown) : result;
    }

    /// <summary>The batch size of the first batched value among the arguments, or -1 when there is none.</summary>
    private static int BatchSize(object? self, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
    {
        // Depth-limited: a list may contain itself (l[0] = l).
        static int Find(object? v, int depth) => v switch
        {
            _ when depth > ExecutionBudget.MaxDepth => throw new LimitExceededException(Rules.LimitDepth, $"an argument nested more than {ExecutionBudget.MaxDepth} levels deep"),
            Batched b => b.Size,
            PyList l => FindIn(l.Items, depth + 1),
            PyTuple t => FindIn(t.Items, depth + 1),
            _ => -1,
        };
        static int FindIn(IReadOnlyList<object?> values, int depth)
        {
            for (int i = 0; i < values.Count; i++)
                if (Find(values[i], depth) is >= 0 and var size) return size;
            return -1;
        }
        if (Find(self, 0) is >= 0 and var own) return own;
        if (FindIn(args, 0) is >= 0 and var positional) return positional;
        if (kwargs.Count > 0)
            foreach (var v in kwargs.Values)
                if (Find(v, 0) is >= 0 and var keyword) return keyword;
        return -1;
    }

    private static Dictionary<string, object> Align(TorchFunction f, Arguments a, int size)
    {
        var aligned = new Dictionary<string, object>();
        int logical = 0;
        foreach (var p in f.Broadcast)
            switch (a.Get(p))
            {
                case Batched b:
                    logical = Math.Max(logical, b.LogicalRank);
                    break;
                case Tensor t:
                    logical = Math.Max(logical, t.Rank);
                    break;
            }
        foreach (var p in f.Broadcast)
        {
            Tensor t;
            int rank;
            switch (a.Get(p))
            {
                case Batched b:
                    (t, rank) = (b.Value, b.LogicalRank);
                    break;
                case (Tensor or long or double or bool) and var plain:
                    var unbatched = Operators.ToTensor(plain);
                    (t, rank) = (unbatched.Unsqueeze(0), unbatched.Rank);
                    break;
                default:
                    continue;
            }
            if (rank == logical)
            {
                aligned[p] = t;
                continue;
            }
            var shape = new int[t.Rank + logical - rank];
            Array.Fill(shape, 1);
            shape[0] = t.Shape[0];
            Array.Copy(t.Shape, 1, shape, 1 + logical - rank, t.Rank - 1);
            aligned[p] = t.Reshape(shape);
        }
        Tensor Stack(object? v) => v is Batched b ? b.Value : Operators.ToTensor(v).Unsqueeze(0).BroadcastTo([size, .. Operators.ToTensor(v).Shape]);
        foreach (var p in f.Stacked)
        {
            switch (a.Get(p))
            {
                case PyList or PyTuple:
                    aligned[p] = Torch.Items(a.Get(p)).Select(Stack).ToList();
                    break;
                case Batched or Tensor or long or double or bool:
                    aligned[p] = Stack(a.Get(p));
                    break;
            }
        }
        return aligned;
    }

    /// <summary>A batched kernel's result as batched values: every tensor in it carries the batch dim (size 1 is expanded).</summary>
    private static object? Wrap(object? result, int size) => result switch
    {
        Tensor t when t.Rank > 0 && t.Shape[0] == size => new Batched(t),
        Tensor t when t.Rank > 0 && t.Shape[0] == 1 => new Batched(t.BroadcastTo([size, .. t.Shape[1..]])),
        Tensor => throw new NotBatchableException("a result without the batch dim"),
        PyTuple tuple => new PyTuple([.. tuple.Items.Select(i => Wrap(i, size))], tuple.FieldNames),
        PyList list => new PyList([.. list.Items.Select(i => Wrap(i, size))]),
        _ => result,
    };

    /// <summary>Applies <paramref name="f"/> to every tensor of a result (a tensor, or a tuple or list of them).</summary>
    public static object? MapTensors(object? result, Func<Tensor, Tensor> f) => result switch
    {
        Tensor t => f(t),
        PyTuple tuple => new PyTuple([.. tuple.Items.Select(i => MapTensors(i, f))], tuple.FieldNames),
        PyList list => new PyList([.. list.Items.Select(i => MapTensors(i, f))]),
        _ => result,
    };

    /// <summary>An in-place call: the result written into the tensor, which keeps its shape and dtype, and is returned.</summary>
    private static object WriteInto(object? target, object? result, string shown)
    {
        switch (target, result)
        {
            case (Tensor t, Tensor r):
                CopyInto(t, r, shown);
                return t;
            case (Batched t, Batched r):
                Batching.EnsureWritable(t, shown);
                CopyInto(t.Value, r.Value, shown);
                return t;
            case (Batched, _) or (_, Batched):
                throw new NotBatchableException(shown + " mixing batched and unbatched tensors");
            default:
                throw new TensorException($"{shown}() works on a tensor");
        }
    }

    private static void CopyInto(Tensor target, Tensor result, string shown)
    {
        if (ReferenceEquals(target, result)) return;
        if (target.Kind != ElementKind.Float && result.Kind == ElementKind.Float)
            throw new TensorException($"{shown}(): result type float can't be cast to the tensor's {target.Kind.ToString().ToLowerInvariant()}");
        var r = result.Shape.SequenceEqual(target.Shape) ? result : result.BroadcastTo(target.Shape);
        if (!r.Shape.SequenceEqual(target.Shape))
            throw new TensorException($"{shown}(): a result of shape ({string.Join(", ", result.Shape)}) does not fit the tensor's ({string.Join(", ", target.Shape)})");
        for (int i = 0; i < target.Count; i++) target.Data[i] = TensorMath.CastValue(r.Data[i], target.Kind);
    }
}
