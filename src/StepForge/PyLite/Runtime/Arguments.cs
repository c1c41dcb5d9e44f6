using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>
/// Reads a call's positional and keyword arguments by position and name, rejecting unexpected ones. A parameter
/// written <c>*name</c> takes the remaining positional arguments (or, as torch allows, one sequence or the keyword
/// <c>name</c>); the parameters after it are keyword-only. A method binds its tensor as one named parameter.
/// </summary>
public sealed class Arguments
{
    private readonly IReadOnlyList<object?> _args;
    private readonly IReadOnlyDictionary<string, object?> _kwargs;
    private readonly string _function;
    private readonly string[] _names;
    private readonly int _star;
    private readonly string? _boundName;
    private readonly object? _boundValue;

    public Arguments(string function, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs, params string[] names)
        : this(function, args, kwargs, names, null, null)
    {
    }

    /// <param name="boundName">A parameter given outside the call, as a method's own tensor; null for none.</param>
    public Arguments(string function, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs, string[] names,
        string? boundName, object? boundValue)
    {
        _function = function;
        _args = args;
        _kwargs = kwargs;
        _names = names;
        _boundName = boundName;
        _boundValue = boundValue;
        _star = Array.FindIndex(names, n => n.StartsWith('*'));
        if (_star < 0 && args.Count > names.Length)
            throw new TensorException($"{function}() takes at most {names.Length} positional argument(s) but {args.Count} were given");
        foreach (var key in kwargs.Keys)
        {
            int at = Array.IndexOf(names, key);
            if ((at < 0 && !(_star >= 0 && names[_star].AsSpan(1).SequenceEqual(key))) || key == boundName)
                throw new TensorException($"{function}() got an unexpected keyword argument '{key}'");
            if (at >= 0 && (_star < 0 || at < _star) && at < args.Count)
                throw new TensorException($"{function}() got multiple values for argument '{key}'");
        }
    }

    public string Function => _function;

    public int PositionalCount => _args.Count;

    public IReadOnlyList<object?> Rest(int from) => [.. _args.Skip(from)];

    /// <summary>The position a parameter takes, or -1 for keyword-only ones.</summary>
    private int Position(string name)
    {
        int i = Array.IndexOf(_names, name);
        return _star >= 0 && i > _star ? -1 : i;
    }

    public bool Has(string name)
    {
        if (name == _boundName) return true;
        int i = Position(name);
        return (i >= 0 && i < _args.Count) || _kwargs.ContainsKey(name);
    }

    public object? Get(string name, object? fallback = null)
    {
        if (name == _boundName) return _boundValue;
        int i = Position(name);
        if (i >= 0 && i < _args.Count) return _args[i];
        return _kwargs.TryGetValue(name, out var v) ? v : fallback;
    }

    /// <summary>The values of the <c>*name</c> parameter: the remaining positional arguments, or one list or tuple of them.</summary>
    public IReadOnlyList<object?> Star()
    {
        if (_star < 0) return [];
        var rest = _args.Skip(_star).ToList();
        if (rest.Count == 0 && _kwargs.TryGetValue(_names[_star][1..], out var keyword)) rest = [keyword];
        return rest is [PyTuple t] ? t.Items : rest is [PyList l] ? l.Items : rest;
    }

    public object? Required(string name) =>
        Has(name) ? Get(name) : throw new TensorException($"{_function}() missing required argument '{name}'");

    public int Int(string name, int? fallback = null)
    {
        if (!Has(name) || fallback is not null && Get(name) is null)
            return fallback ?? throw new TensorException($"{_function}() missing required argument '{name}'");
        return ToInt(Get(name), name);
    }

    /// <summary>An integer argument as an int; values beyond int's range are a limit (they would be sizes or dims).</summary>
    public int ToInt(object? value, string name)
    {
        long v = Operators.ToLong(value);
        if (v is < int.MinValue or > int.MaxValue) throw new LimitExceededException($"{_function}(): {name} = {v} is too large");
        return (int)v;
    }

    public int? OptionalInt(string name) => Has(name) && Get(name) is not null ? Int(name) : null;

    public bool Bool(string name, bool fallback) => Has(name) && Get(name) is not null ? Operators.Truth(Get(name), default) : fallback;

    public double Double(string name, double? fallback = null)
    {
        if (!Has(name) || fallback is not null && Get(name) is null)
            return fallback ?? throw new TensorException($"{_function}() missing required argument '{name}'");
        return Operators.ToDouble(Get(name));
    }

    public double? OptionalDouble(string name) => Has(name) && Get(name) is not null ? Operators.ToDouble(Get(name)) : null;
}
