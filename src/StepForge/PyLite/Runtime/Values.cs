using System.Text;
using System.Globalization;
using StepForge.Diagnostics;
using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>An error while running PyLite code (a Python exception): a <c>runtime</c> verdict with where it happened.</summary>
public sealed class PyLiteRuntimeException(string message, int line, int column, Exception? inner = null) : Exception(message, inner)
{
    public int Line { get; } = line;
    public int Column { get; } = column;

    /// <summary>What the code used that StepForge's PyTorch subset lacks, when that is why it failed; else null.</summary>
    public string? Unsupported => (InnerException as UnsupportedFeatureException)?.What;
}

/// <summary>Something that can be called from PyLite code with positional and keyword arguments.</summary>
public interface IPyCallable
{
    string Name { get; }
    object? Call(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs);
}

/// <summary>A builtin function implemented in C#.</summary>
public sealed class PyFunction(string name, Func<IReadOnlyList<object?>, IReadOnlyDictionary<string, object?>, object?> body) : IPyCallable
{
    public string Name { get; } = name;
    public object? Call(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs) => body(args, kwargs);
    public override string ToString() => $"<function {Name}>";
}

/// <summary>A module-like namespace (torch, torch.nn, ...): only the attributes bound here exist.</summary>
public sealed class PyNamespace(string name, IReadOnlyDictionary<string, object?> members)
{
    public string Name { get; } = name;
    public bool TryGet(string attribute, out object? value) => members.TryGetValue(attribute, out value);
    public override string ToString() => $"<module {Name}>";
}

public sealed class PyList
{
    /// <summary>A list of these items, charged to the current budget (task code may build lists of any size).</summary>
    public PyList(List<object?> items)
    {
        Tensor.Budget?.ChargeItems(items.Count);
        Items = items;
    }

    public List<object?> Items { get; }
    public override string ToString() => PyValue.Repr(this);
}

public sealed class PyTuple
{
    public PyTuple(IReadOnlyList<object?> items, IReadOnlyList<string>? fieldNames = null)
    {
        Tensor.Budget?.ChargeItems(items.Count);
        Items = items;
        FieldNames = fieldNames;
    }

    public IReadOnlyList<object?> Items { get; }

    /// <summary>Names of the items for torch's named tuples (topk's values and indices), else null.</summary>
    public IReadOnlyList<string>? FieldNames { get; }
    public override string ToString() => PyValue.Repr(this);
}

public sealed class PyDict
{
    private readonly Dictionary<object, object?> _items = new(PyKeyComparer.Instance);

    /// <summary>Keys whose value is still a tensor the dict does not own (see <see cref="CopiedOnRead"/>).</summary>
    private HashSet<object>? _notOwned;

    /// <summary>
    /// A dict of the given tensors in which a snippet that reads an entry gets its own copy, made the first time the
    /// entry is read and kept: what the snippet does to it in place never reaches the caller's tensor, and entries
    /// it never reads are never copied (fn bodies read a task's weights from input_data, not its inputs).
    /// </summary>
    public static PyDict CopiedOnRead(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var dict = new PyDict { _notOwned = new HashSet<object>(PyKeyComparer.Instance) };
        foreach (var (name, tensor) in tensors)
        {
            dict._items[name] = tensor;
            dict._notOwned.Add(name);
        }
        return dict;
    }

    public int Count => _items.Count;

    public IEnumerable<object> Keys => _items.Keys;

    public bool TryGet(object key, out object? value)
    {
        if (!_items.TryGetValue(key, out value)) return false;
        if (_notOwned is { Count: > 0 } && _notOwned.Remove(key)) _items[key] = value = Own((Tensor)value!);
        return true;
    }

    public void Set(object key, object? value)
    {
        _items[key] = value;
        _notOwned?.Remove(key);
    }

    /// <summary>Every entry, in insertion order (every value read, so copied first where it is not owned).</summary>
    public IEnumerable<KeyValuePair<object, object?>> Entries
    {
        get
        {
            if (_notOwned is { Count: > 0 })
                // In the dict's order, not the set's: what a copy charges to the budget comes in a fixed order.
                foreach (var key in _items.Keys.Where(_notOwned.Contains).ToList()) TryGet(key, out _);
            return _items;
        }
    }

    /// <summary>A copy the dict owns: it outlives any recycling scope open now, so it is not taken from one.</summary>
    private static Tensor Own(Tensor tensor)
    {
        using (TensorArena.Suspend()) return tensor.Copy();
    }

    public override string ToString() => PyValue.Repr(this);
}

/// <summary>A dimension symbol such as <c>D</c>, used as a key of <c>ctx</c>.</summary>
public sealed record DimSymbol(string Name)
{
    public override string ToString() => Name;
}

public sealed record PySlice(object? Start, object? Stop, object? Step);

public sealed class PyEllipsis
{
    public static readonly PyEllipsis Instance = new();
    public override string ToString() => "Ellipsis";
}

/// <summary>torch.float32 and friends.</summary>
public sealed record TorchDType(string Name, ElementKind Kind, FloatFormat Format = FloatFormat.Single)
{
    public override string ToString() => $"torch.{Name}";
}

internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => (x, y) switch
    {
        (long a, long b) => a == b,
        (long a, double b) => a == b,
        (double a, long b) => a == b,
        _ => object.Equals(x, y),
    };

    public int GetHashCode(object obj) => obj switch
    {
        long l => ((double)l).GetHashCode(),
        double d => d.GetHashCode(),
        _ => obj.GetHashCode(),
    };
}

/// <summary>How PyLite values print, compare and convert, as in Python.</summary>
public static class PyValue
{
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        PyList => "list",
        PyTuple => "tuple",
        PyDict => "dict",
        Tensor or Batched => "Tensor",
        PyNamespace => "module",
        IPyCallable => "function",
        _ => value.GetType().Name,
    };

    public static string Str(object? value) => value switch
    {
        PyList or PyTuple or PyDict => Repr(value),
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => double.IsPositiveInfinity(d) ? "inf" : double.IsNegativeInfinity(d) ? "-inf" : double.IsNaN(d) ? "nan"
            : d == Math.Floor(d) && Math.Abs(d) < 1e16 ? d.ToString("0.0", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture),
        string s => s,
        _ => value.ToString() ?? "",
    };

    /// <summary>
    /// Python's repr. Containers are walked to a bounded depth (task code can nest lists, or put a list inside itself,
    /// deeper than any stack), and the text is charged to the budget as it grows.
    /// </summary>
    public static string Repr(object? value)
    {
        var text = new StringBuilder();
        Write(text, value, 0);
        Tensor.Budget?.ChargeChars(text.Length);
        return text.ToString();
    }

    private static void Write(StringBuilder text, object? value, int depth)
    {
        if (depth > ExecutionBudget.MaxDepth)
            throw new LimitExceededException(Rules.LimitDepth, $"a value nested more than {ExecutionBudget.MaxDepth} levels deep cannot be printed");
        // Checked as it grows, so a huge container stops early rather than after building its whole text.
        if (text.Length > 1 << 20) Tensor.Budget?.ChargeChars(text.Length);
        switch (value)
        {
            case string s:
                text.Append('\'').Append(s).Append('\'');
                break;
            case PyList l:
                text.Append('[');
                WriteItems(text, l.Items, depth);
                text.Append(']');
                break;
            case PyTuple t:
                text.Append('(');
                WriteItems(text, t.Items, depth);
                text.Append(t.Items.Count == 1 ? ",)" : ")");
                break;
            case PyDict d:
                text.Append('{');
                bool first = true;
                foreach (var (k, v) in d.Entries)
                {
                    if (!first) text.Append(", ");
                    first = false;
                    Write(text, k, depth + 1);
                    text.Append(": ");
                    Write(text, v, depth + 1);
                }
                text.Append('}');
                break;
            default:
                text.Append(Str(value));
                break;
        }
    }

    private static void WriteItems(StringBuilder text, IReadOnlyList<object?> items, int depth)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) text.Append(", ");
            Write(text, items[i], depth + 1);
        }
    }
}
