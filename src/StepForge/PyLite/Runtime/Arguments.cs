namespace StepForge.PyLite.Runtime;

/// <summary>Reads a call's positional and keyword arguments by position and name, rejecting unexpected ones.</summary>
public sealed class Arguments
{
    private readonly IReadOnlyList<object?> _args;
    private readonly IReadOnlyDictionary<string, object?> _kwargs;
    private readonly string _function;
    private readonly string[] _names;

    public Arguments(string function, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs, params string[] names)
    {
        _function = function;
        _args = args;
        _kwargs = kwargs;
        _names = names;
        if (args.Count > names.Length && !(names.Length > 0 && names[^1].StartsWith('*')))
            throw new Tensors.TensorException($"{function}() takes at most {names.Length} positional argument(s) but {args.Count} were given");
        foreach (var key in kwargs.Keys)
            if (!names.Contains(key)) throw new Tensors.TensorException($"{function}() got an unexpected keyword argument '{key}'");
    }

    public int PositionalCount => _args.Count;

    public IReadOnlyList<object?> Rest(int from) => [.. _args.Skip(from)];

    public bool Has(string name)
    {
        int i = Array.IndexOf(_names, name);
        return (i >= 0 && i < _args.Count) || _kwargs.ContainsKey(name);
    }

    public object? Get(string name, object? fallback = null)
    {
        int i = Array.IndexOf(_names, name);
        if (i >= 0 && i < _args.Count) return _args[i];
        return _kwargs.TryGetValue(name, out var v) ? v : fallback;
    }

    public object? Required(string name) =>
        Has(name) ? Get(name) : throw new Tensors.TensorException($"{_function}() missing required argument '{name}'");

    public int Int(string name, int? fallback = null)
    {
        if (!Has(name))
            return fallback ?? throw new Tensors.TensorException($"{_function}() missing required argument '{name}'");
        long v = Operators.ToLong(Get(name));
        if (v is < int.MinValue or > int.MaxValue) throw new Tensors.LimitExceededException($"{_function}(): {name} = {v} is too large");
        return (int)v;
    }

    public int? OptionalInt(string name) => Has(name) && Get(name) is not null ? Int(name) : null;

    public bool Bool(string name, bool fallback) => Has(name) ? Operators.Truth(Get(name), default) : fallback;
}
