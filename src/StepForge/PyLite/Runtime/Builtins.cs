using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>The Python builtins PyLite code may call.</summary>
public static class BuiltinFunctions
{
    public static Dictionary<string, object?> Create() => new()
    {
        ["range"] = new PyFunction("range", (args, _) =>
        {
            long start = args.Count > 1 ? Operators.ToLong(args[0]) : 0, stop = Operators.ToLong(args[args.Count > 1 ? 1 : 0]);
            long step = args.Count > 2 ? Operators.ToLong(args[2]) : 1;
            if (step == 0) throw new TensorException("range() arg 3 must not be zero");
            long count = step > 0 ? Math.Max(0, (stop - start + step - 1) / step) : Math.Max(0, (start - stop - step - 1) / -step);
            if (count > 10_000_000) throw new LimitExceededException($"range() of {count:N0} items is too large");
            Tensor.Budget?.ChargeElements(count);
            var items = new List<object?>((int)count);
            for (long i = 0; i < count; i++) items.Add(start + i * step);
            return new PyList(items);
        }),
        ["len"] = new PyFunction("len", (args, _) => args.Count == 1 ? args[0] switch
        {
            PyList l => (long)l.Items.Count,
            PyTuple t => (long)t.Items.Count,
            PyDict d => (long)d.Items.Count,
            string s => (long)s.Length,
            Tensor { Rank: > 0 } t => (long)t.Shape[0],
            var other => throw new TensorException($"object of type '{PyValue.TypeName(other)}' has no len()"),
        } : throw new TensorException("len() takes exactly one argument")),
        ["zip"] = new PyFunction("zip", (args, _) =>
        {
            var lists = args.Select(a => Operators.Iterate(a, default).ToList()).ToList();
            int n = lists.Count == 0 ? 0 : lists.Min(l => l.Count);
            return new PyList([.. Enumerable.Range(0, n).Select(i => (object?)new PyTuple([.. lists.Select(l => l[i])]))]);
        }),
        ["enumerate"] = new PyFunction("enumerate", (args, _) =>
            new PyList([.. Operators.Iterate(args.Count == 1 ? args[0] : throw new TensorException("enumerate() takes one argument"), default)
                .Select((v, i) => (object?)new PyTuple([(long)i, v]))])),
        ["list"] = new PyFunction("list", (args, _) => new PyList(args.Count == 0 ? [] : [.. Operators.Iterate(args[0], default)])),
        ["tuple"] = new PyFunction("tuple", (args, _) => new PyTuple(args.Count == 0 ? [] : [.. Operators.Iterate(args[0], default)])),
        ["int"] = new PyFunction("int", (args, _) => args[0] is double d ? (long)Math.Truncate(d) : Operators.ToLong(args[0] is Tensor t ? (long)t.Item() : args[0])),
        ["float"] = new PyFunction("float", (args, _) => args[0] is string s && s is "inf" or "-inf" or "nan"
            ? (s == "inf" ? double.PositiveInfinity : s == "-inf" ? double.NegativeInfinity : double.NaN) : Operators.ToDouble(args[0])),
        ["abs"] = new PyFunction("abs", (args, _) => args[0] switch { long l => Math.Abs(l), double d => Math.Abs(d), Tensor t => TensorMath.Abs(t), Batched b => new Batched(TensorMath.Abs(b.Value)), var o => throw new TensorException($"bad operand type for abs(): '{PyValue.TypeName(o)}'") }),
        ["min"] = new PyFunction("min", (args, _) => Extreme(args, pickMax: false)),
        ["max"] = new PyFunction("max", (args, _) => Extreme(args, pickMax: true)),
        ["sum"] = new PyFunction("sum", (args, _) => Operators.Iterate(args[0], default).Aggregate(args.Count > 1 ? args[1] : 0L, (acc, v) => Operators.Binary(BinaryOp.Add, acc, v, default))),
        ["str"] = new PyFunction("str", (args, _) => PyValue.Str(args.Count == 0 ? "" : args[0])),
        ["bool"] = new PyFunction("bool", (args, _) => args.Count != 0 && Operators.Truth(args[0], default)),
    };

    private static object? Extreme(IReadOnlyList<object?> args, bool pickMax)
    {
        var items = args.Count == 1 ? Operators.Iterate(args[0], default).ToList() : [.. args];
        if (items.Count == 0) throw new TensorException("min()/max() of an empty sequence");
        return items.Aggregate((a, b) => Operators.Truth(Operators.Compare(pickMax ? CompareOp.Gt : CompareOp.Lt, b, a, default), default) ? b : a);
    }
}
