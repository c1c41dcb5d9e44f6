using StepForge.Diagnostics;
using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>The Python builtins PyLite code may call.</summary>
public static class BuiltinFunctions
{
    public static Dictionary<string, object?> Create() => new()
    {
        ["range"] = new PyFunction("range", (args, _) =>
        {
            Arity("range", args, 1, 3);
            long start = args.Count > 1 ? Operators.ToLong(args[0]) : 0, stop = Operators.ToLong(args[args.Count > 1 ? 1 : 0]);
            long step = args.Count > 2 ? Operators.ToLong(args[2]) : 1;
            if (step == 0) throw new TensorException("range() arg 3 must not be zero");
            // In 128-bit arithmetic: the bounds are any 64-bit integers, so their difference can overflow a long.
            var span = step > 0 ? (Int128)stop - start + step - 1 : (Int128)start - stop - step - 1;
            var count128 = span <= 0 ? 0 : span / (step > 0 ? step : -(Int128)step);
            if (count128 > 10_000_000) throw new LimitExceededException(Rules.LimitTensor, $"range() of {count128:N0} items is too large");
            long count = (long)count128;
            Tensor.Budget?.ChargeItems(count);
            var items = new List<object?>((int)count);
            for (long i = 0; i < count; i++) items.Add(start + i * step);
            return new PyList(items);
        }),
        ["len"] = new PyFunction("len", (args, _) => args.Count == 1 ? args[0] switch
        {
            PyList l => (long)l.Items.Count,
            PyTuple t => (long)t.Items.Count,
            PyDict d => (long)d.Count,
            string s => (long)s.Length,
            Tensor { Rank: > 0 } t => (long)t.Shape[0],
            var other => throw new TensorException($"object of type '{PyValue.TypeName(other)}' has no len()"),
        } : throw new TensorException("len() takes exactly one argument")),
        ["zip"] = new PyFunction("zip", (args, _) =>
        {
            var lists = args.Select(a => Operators.Iterate(a, default).ToList()).ToList();
            Tensor.Budget?.ChargeItems(lists.Count == 0 ? 0 : lists.Min(l => (long)l.Count) * lists.Count);
            int n = lists.Count == 0 ? 0 : lists.Min(l => l.Count);
            return new PyList([.. Enumerable.Range(0, n).Select(i => (object?)new PyTuple([.. lists.Select(l => l[i])]))]);
        }),
        ["enumerate"] = new PyFunction("enumerate", (args, _) =>
            new PyList([.. Operators.Iterate(args.Count == 1 ? args[0] : throw new TensorException("enumerate() takes one argument"), default)
                .Select((v, i) => (object?)new PyTuple([(long)i, v]))])),
        ["list"] = new PyFunction("list", (args, _) => new PyList(args.Count == 0 ? [] : [.. Operators.Iterate(args[0], default)])),
        ["tuple"] = new PyFunction("tuple", (args, _) => new PyTuple(args.Count == 0 ? [] : [.. Operators.Iterate(args[0], default)])),
        ["int"] = new PyFunction("int", (args, _) => Arity("int", args, 0, 1) == 0 ? 0L : args[0] switch
        {
            double d when double.IsNaN(d) || double.IsInfinity(d) => throw new TensorException($"cannot convert float {PyValue.Str(d)} to integer"),
            double d when Math.Abs(d) >= 9.2e18 => throw new LimitExceededException("integer arithmetic overflows"),
            double d => (long)Math.Truncate(d),
            Tensor t => Operators.ToLong((long)Math.Truncate(t.Item())),
            var other => Operators.ToLong(other),
        }),
        ["float"] = new PyFunction("float", (args, _) => Arity("float", args, 0, 1) == 0 ? 0.0 : args[0] is string s && s is "inf" or "-inf" or "nan"
            ? (s == "inf" ? double.PositiveInfinity : s == "-inf" ? double.NegativeInfinity : double.NaN) : Operators.ToDouble(args[0])),
        ["abs"] = new PyFunction("abs", (args, _) => Arity("abs", args, 1, 1) == 1 ? args[0] switch
        {
            long.MinValue => throw new LimitExceededException("integer arithmetic overflows"),
            long l => Math.Abs(l),
            double d => Math.Abs(d),
            Tensor t => TensorMath.Abs(t),
            Batched b => new Batched(TensorMath.Abs(b.Value)),
            var o => throw new TensorException($"bad operand type for abs(): '{PyValue.TypeName(o)}'"),
        } : null),
        ["min"] = new PyFunction("min", (args, _) => Extreme(args, pickMax: false)),
        ["max"] = new PyFunction("max", (args, _) => Extreme(args, pickMax: true)),
        ["sum"] = new PyFunction("sum", (args, _) =>
        {
            Arity("sum", args, 1, 2);
            return Operators.Iterate(args[0], default).Aggregate(args.Count > 1 ? args[1] : 0L, (acc, v) => Operators.Binary(BinaryOp.Add, acc, v, default));
        }),
        ["str"] = new PyFunction("str", (args, _) => PyValue.Str(Arity("str", args, 0, 1) == 0 ? "" : args[0])),
        ["bool"] = new PyFunction("bool", (args, _) => Arity("bool", args, 0, 1) != 0 && Operators.Truth(args[0], default)),
    };

    /// <summary>The positional argument count, after checking it is within what the builtin takes.</summary>
    private static int Arity(string name, IReadOnlyList<object?> args, int least, int most) =>
        args.Count >= least && args.Count <= most ? args.Count
        : throw new TensorException(least == most ? $"{name}() takes exactly {least} argument(s) ({args.Count} given)"
            : args.Count < least ? $"{name}() takes at least {least} argument(s) ({args.Count} given)" : $"{name}() takes at most {most} arguments ({args.Count} given)");

    private static object? Extreme(IReadOnlyList<object?> args, bool pickMax)
    {
        Arity(pickMax ? "max" : "min", args, 1, int.MaxValue);
        var items = args.Count == 1 ? Operators.Iterate(args[0], default).ToList() : [.. args];
        if (items.Count == 0) throw new TensorException("min()/max() of an empty sequence");
        return items.Aggregate((a, b) => Operators.Truth(Operators.Compare(pickMax ? CompareOp.Gt : CompareOp.Lt, b, a, default), default) ? b : a);
    }
}
