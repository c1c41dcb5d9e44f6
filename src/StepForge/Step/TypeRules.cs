using StepForge.Diagnostics;

namespace StepForge.Step;

/// <summary>A broken typing rule: which one, and the expected and actual types or shapes.</summary>
public sealed record TypeError(Rule Rule, string Message, string? Expected = null, string? Actual = null);

/// <summary>
/// What a typing rule says about one application: the output types, or the <see cref="TypeError"/>. A value, not an
/// exception, because the search asks for millions of candidates and most of them are rejected.
/// </summary>
public readonly struct TypeResult
{
    private readonly IReadOnlyList<StreamType>? _outputs;

    private TypeResult(IReadOnlyList<StreamType>? outputs, TypeError? error) => (_outputs, Error) = (outputs, error);

    /// <summary>The broken rule, or null when the application is well typed.</summary>
    public TypeError? Error { get; }

    public bool IsError => Error is not null;

    /// <summary>The output types; asking for them after an error is a bug of the caller.</summary>
    public IReadOnlyList<StreamType> Outputs =>
        _outputs ?? throw new InvalidOperationException($"no output types: {Error?.Rule} {Error?.Message}");

    public static TypeResult Of(params StreamType[] outputs) => new(outputs, null);

    public static TypeResult Of(IReadOnlyList<StreamType> outputs) => new(outputs, null);

    public static implicit operator TypeResult(TypeError error) => new(null, error);
}

/// <summary>
/// The static typing rule of every operator in step-semantics.md: given the configured op and the types of its
/// input streams, the types of its outputs, or a <see cref="TypeError"/> naming the rule. A candidate's error is a
/// value, never an exception; exceptions are left for bugs (an op this class does not know).
/// Input order: Map and Zip take one or more streams; RepeatRef (x, ref); Partition (x, idx);
/// Merge the expert streams followed by idx; the rest one stream.
/// </summary>
public static class TypeRules
{
    public static TypeResult Apply(StepOp op, IReadOnlyList<StreamType> inputs, IReadOnlyDictionary<string, long> sizes, string dynamicLabel)
    {
        switch (op)
        {
            case MapOp map:
            {
                StreamType x;
                // apply(()) gives no stream at all: there is nothing to zip or map.
                if (inputs.Count == 0)
                    return new TypeError(Rules.MapArity, "Map takes at least one stream; it got an empty tuple", "1 or more streams", "0 streams");
                if (inputs.Count == 1) x = inputs[0];
                else if (ZipType(inputs, Rules.MapZipShape, out x) is { } zipError) return zipError;
                if (RequireFnInput(Rules.MapFnInput, map.Fn, x.DType) is { } fnError) return fnError;
                return TypeResult.Of(new StreamType(map.Fn.Output, x.Shape));
            }
            case ZipOp:
            {
                // Exactly two, as upstream's Zip (which silently drops a third): zip more with nested Zips.
                if (inputs.Count != 2)
                    return new TypeError(Rules.ZipArity, "Zip takes exactly two streams (x, y); zip a third one with another Zip", "(x, y)", $"{inputs.Count} stream(s)");
                return ZipType(inputs, Rules.ZipSameShape, out var zipped) is { } error ? error : TypeResult.Of(zipped);
            }
            case AccumOp accum:
                return Single(inputs, op, out var accumInput) is { } accumError ? accumError
                    : Fold("Accum", Rules.AccumFnInput, Rules.AccumBRange, Rules.AccumFnInit, accum.Fn, accum.B, accumInput, keepShape: false);
            case ScanOp scan:
                return Single(inputs, op, out var scanInput) is { } scanError ? scanError
                    : Fold("Scan", Rules.ScanFnInput, Rules.ScanBRange, Rules.ScanFnInit, scan.Fn, scan.B, scanInput, keepShape: true);
            case BufferizeOp bufferize:
            {
                if (Single(inputs, op, out var x) is { } error) return error;
                if (bufferize.A <= 0 || bufferize.A > x.Rank)
                    return new TypeError(Rules.BufferizeARange, $"Bufferize needs 0 < a <= rank, but a = {bufferize.A} and the input has rank {x.Rank}",
                        $"0 < a <= {x.Rank}", $"a = {bufferize.A}, input {x}");
                if (x.DType is TupleType)
                    return new TypeError(Rules.BufferizeElement, "Bufferize cannot buffer a tuple stream; Map it to one component first",
                        "fp32, Multihot or Buffer elements", x.DType.ToString());
                var taken = x.Shape.Slice(0, bufferize.A);
                DType dtype = x.DType is BufferType b ? new BufferType(b.Element, b.Shape.Concat(taken)) : new BufferType(x.DType, taken);
                return TypeResult.Of(new StreamType(dtype, x.Shape.Slice(bufferize.A)));
            }
            case StreamifyOp:
            {
                if (Single(inputs, op, out var x) is { } error) return error;
                if (x.DType is not BufferType b)
                    return new TypeError(Rules.StreamifyBuffer, "Streamify needs a stream of Buffer elements", "Buffer(T, [...])", x.DType.ToString());
                return TypeResult.Of(new StreamType(b.Element, b.Shape.Concat(x.Shape)));
            }
            case PromoteOp promote:
            {
                if (Single(inputs, op, out var x) is { } error) return error;
                if (promote.B < 0 || promote.B > x.Rank + 1)
                    return new TypeError(Rules.PromoteBRange, $"Promote needs 0 <= b <= rank + 1, but b = {promote.B} and the input has rank {x.Rank}",
                        $"0 <= b <= {x.Rank + 1}", $"b = {promote.B}, input {x}");
                var shape = x.Shape.Take(promote.B).Append(Dim.One).Concat(x.Shape.Skip(promote.B));
                return TypeResult.Of(new StreamType(x.DType, new ValueList<Dim>(shape)));
            }
            case FlattenOp flatten:
                return Single(inputs, op, out var flattenInput) is { } flattenError ? flattenError : FlattenType(flatten, flattenInput);
            case ReshapeOp reshape:
                return Single(inputs, op, out var reshapeInput) is { } reshapeError ? reshapeError : ReshapeType(reshape, reshapeInput, sizes);
            case RepeatOp repeat:
            {
                if (Single(inputs, op, out var x) is { } error) return error;
                var n = repeat.N.Evaluate(sizes);
                if (n is not null && n <= 0 || repeat.N.IsDynamic)
                    return new TypeError(Rules.RepeatCount, "Repeat needs n to be a positive dimension symbol or integer", "n > 0", $"n = {repeat.N}");
                return TypeResult.Of(new StreamType(x.DType, new ValueList<Dim>(x.Shape.Prepend(repeat.N))));
            }
            case RepeatRefOp:
            {
                if (inputs.Count != 2)
                    return new TypeError(Rules.RepeatRefArity, "RepeatRef takes a tuple (x, ref)", "(x, ref)", $"{inputs.Count} stream(s)");
                var (x, reference) = (inputs[0], inputs[1]);
                if (reference.Rank != x.Rank + 1)
                    return new TypeError(Rules.RepeatRefRank, $"RepeatRef needs ref.rank == x.rank + 1, but x has rank {x.Rank} and ref has rank {reference.Rank}",
                        $"ref rank {x.Rank + 1}", $"x {x}, ref {reference}");
                if (reference.Shape.Slice(1) != x.Shape)
                    return new TypeError(Rules.RepeatRefShape, "RepeatRef needs ref.shape[1:] == x.shape",
                        StreamType.FormatShape(x.Shape), StreamType.FormatShape(reference.Shape.Slice(1)));
                return TypeResult.Of(new StreamType(x.DType, reference.Shape));
            }
            case CopyOp:
                return Single(inputs, op, out var copied) is { } copyError ? copyError : TypeResult.Of(copied, copied);
            case PartitionOp partition:
                return PartitionTypes(partition, inputs, sizes, dynamicLabel);
            case MergeOp merge:
                return MergeType(merge, inputs, sizes);
            default:
                throw new ArgumentException($"unknown op {op}", nameof(op));
        }
    }

    private static TypeError? Single(IReadOnlyList<StreamType> inputs, StepOp op, out StreamType x)
    {
        x = inputs.Count == 1 ? inputs[0] : null!;
        return inputs.Count == 1 ? null : new TypeError(Rules.Of(op.Name).Arity, $"{op.Name} takes one stream", "1 stream", $"{inputs.Count} streams");
    }

    private static TypeError? RequireFnInput(Rule rule, FnDecl fn, DType actual) =>
        fn.Input == actual ? null : new TypeError(rule, $"{fn.FuncName} takes {fn.Input} but the stream carries {actual}", fn.Input.ToString(), actual.ToString());

    private static TypeError? ZipType(IReadOnlyList<StreamType> inputs, Rule rule, out StreamType zipped)
    {
        zipped = null!;
        var first = inputs[0];
        foreach (var other in inputs.Skip(1))
        {
            if (other.Rank != first.Rank || other.Shape != first.Shape)
                return new TypeError(rule, $"zipped streams need the same rank and shape, but got {StreamType.FormatShape(first.Shape)} and {StreamType.FormatShape(other.Shape)}",
                    StreamType.FormatShape(first.Shape), StreamType.FormatShape(other.Shape));
        }
        zipped = new StreamType(DType.Tuple(inputs.Select(i => i.DType)), first.Shape);
        return null;
    }

    private static TypeResult Fold(string op, Rule fnInput, Rule bRange, Rule fnInit, FnDecl fn, int b, StreamType x, bool keepShape)
    {
        if (RequireFnInput(fnInput, fn, x.DType) is { } error) return error;
        if (b <= 0 || b > x.Rank)
            return new TypeError(bRange, $"{op} needs 0 < b <= rank, but b = {b} and the input has rank {x.Rank}",
                $"0 < b <= {x.Rank}", $"b = {b}, input {x}");
        if (!fn.HasInit)
            return new TypeError(fnInit, $"{op} folds a state, but {fn.FuncName} has no init", "a function with init", fn.FuncName);
        return TypeResult.Of(new StreamType(fn.Output, keepShape ? x.Shape : x.Shape.Slice(b)));
    }

    private static TypeResult FlattenType(FlattenOp flatten, StreamType x)
    {
        var l = flatten.L;
        bool consecutive = l.Count > 0 && l[0] > 0 && Enumerable.Range(1, l.Count - 1).All(i => l[i] == l[i - 1] + 1);
        if (!consecutive)
            return new TypeError(Rules.FlattenConsecutive, "Flatten needs L to be a list of consecutive positive integers", "e.g. [1] or [1, 2]", l.ToString());
        if (l[^1] > x.Rank)
            return new TypeError(Rules.FlattenRange, $"Flatten merges dims {l[0] - 1}..{l[^1]}, but the input has only dims 0..{x.Rank}",
                $"L[-1] <= {x.Rank}", $"L = {l}, input {x}");
        int first = l[0] - 1, last = l[^1];
        var merged = Dim.Product(x.Shape.Skip(first).Take(last - first + 1));
        var shape = x.Shape.Take(first).Append(merged).Concat(x.Shape.Skip(last + 1));
        return TypeResult.Of(new StreamType(x.DType, new ValueList<Dim>(shape)));
    }

    private static TypeResult ReshapeType(ReshapeOp reshape, StreamType x, IReadOnlyDictionary<string, long> sizes)
    {
        var indices = reshape.L;
        if (indices.Count == 0 || indices.Any(i => i < 0 || i > x.Rank) || indices.Distinct().Count() != indices.Count)
            return new TypeError(Rules.ReshapeRange, $"Reshape needs L to list distinct dim indices in 0..{x.Rank}", $"indices in 0..{x.Rank}", indices.ToString());
        var s = reshape.S.Evaluate(sizes);
        if (s is null or <= 0)
            return new TypeError(Rules.ReshapeDivisible, "Reshape needs S to be a positive integer or a known dimension", "S > 0", reshape.S.ToString());
        var shape = new List<Dim>();
        for (int i = 0; i < x.Shape.Count; i++)
        {
            var d = x.Shape[i];
            if (!indices.Contains(i)) { shape.Add(d); continue; }
            var size = d.Evaluate(sizes);
            if (size is null || size % s != 0)
                return new TypeError(Rules.ReshapeDivisible, $"Reshape needs dim {i} ({d}) to be divisible by S = {reshape.S}",
                    $"a multiple of {reshape.S}", size is null ? d.ToString() : $"{d} = {size}");
            shape.Add(reshape.S);
            shape.Add(Divide(d, reshape.S, s.Value));
        }
        return TypeResult.Of(new StreamType(x.DType, new ValueList<Dim>(shape)));
    }

    private static Dim Divide(Dim d, Dim s, long sValue)
    {
        if (d == s) return Dim.One;
        var factors = d is ProductDim p ? p.Factors.ToList() : [d];
        int at = factors.IndexOf(s);
        if (at >= 0)
        {
            factors.RemoveAt(at);
            return Dim.Product(factors);
        }
        int c = factors.FindIndex(f => f is ConstDim cd && cd.Value % sValue == 0);
        if (c >= 0)
        {
            factors[c] = Dim.Const(((ConstDim)factors[c]).Value / sValue);
            return Dim.Product(factors);
        }
        return new QuotientDim(d, sValue);
    }

    private static TypeError? RequireMultihot(Rule rule, string op, StreamType idx, out MultihotType multihot)
    {
        multihot = (idx.DType as MultihotType)!;
        return multihot is not null ? null
            : new TypeError(rule, $"{op} needs an index stream of Multihot elements", "Multihot(fp32, E)", idx.DType.ToString());
    }

    private static TypeResult PartitionTypes(PartitionOp partition, IReadOnlyList<StreamType> inputs, IReadOnlyDictionary<string, long> sizes, string label)
    {
        if (inputs.Count != 2)
            return new TypeError(Rules.PartitionArity, "Partition takes a tuple (x, idx)", "(x, idx)", $"{inputs.Count} stream(s)");
        var (x, idx) = (inputs[0], inputs[1]);
        if (RequireMultihot(Rules.PartitionMultihot, "Partition", idx, out var multihot) is { } error) return error;
        int q = idx.Rank;
        if (x.Rank < q || x.Shape.Slice(x.Rank - q) != idx.Shape)
            return new TypeError(Rules.PartitionShape, "Partition needs the outer dims of x to equal the shape of idx",
                StreamType.FormatShape(idx.Shape), x.Rank < q ? $"x {x}" : StreamType.FormatShape(x.Shape.Slice(x.Rank - q)));
        var n = partition.N.Evaluate(sizes);
        var e = multihot.Width.Evaluate(sizes);
        if (n is null || n <= 0 || (e is not null && n != e))
            return new TypeError(Rules.PartitionCount, "Partition needs N to equal the multihot width E, one stream per expert",
                e is null ? multihot.Width.ToString() : $"{multihot.Width} = {e}", $"N = {partition.N}" + (n is null ? "" : $" = {n}"));
        var inner = x.Shape.Slice(0, x.Rank - q);
        return TypeResult.Of([.. Enumerable.Range(0, (int)n.Value).Select(i =>
            new StreamType(x.DType, inner.Concat([new DynamicDim($"{label}[{i}]")])))]);
    }

    private static TypeResult MergeType(MergeOp merge, IReadOnlyList<StreamType> inputs, IReadOnlyDictionary<string, long> sizes)
    {
        if (inputs.Count < 2)
            return new TypeError(Rules.MergeArity, "Merge takes a tuple (list_of_streams, idx)", "([s0, s1, ...], idx)", $"{inputs.Count} stream(s)");
        var streams = inputs.Take(inputs.Count - 1).ToList();
        var idx = inputs[^1];
        if (RequireMultihot(Rules.MergeMultihot, "Merge", idx, out var multihot) is { } error) return error;
        var first = streams[0];
        foreach (var s in streams.Skip(1))
        {
            if (s.DType != first.DType)
                return new TypeError(Rules.MergeSameDtype, "Merge needs all expert streams to share one dtype", first.DType.ToString(), s.DType.ToString());
            if (s.Rank != first.Rank || s.Shape.Slice(0, s.Rank) != first.Shape.Slice(0, first.Rank))
                return new TypeError(Rules.MergeSameShape, "Merge needs all expert streams to share rank and shape except the outermost dim",
                    StreamType.FormatShape(first.Shape.Slice(0, first.Rank)) + " + [?]", StreamType.FormatShape(s.Shape));
        }
        var e = multihot.Width.Evaluate(sizes);
        if (e is not null && e != streams.Count)
            return new TypeError(Rules.MergeCount, "Merge needs one stream per expert (the multihot width)", $"{multihot.Width} = {e} streams", $"{streams.Count} streams");
        if (RequireFnInput(Rules.MergeFnInput, merge.Fn, first.DType) is { } fnError) return fnError;
        if (!merge.Fn.HasInit)
            return new TypeError(Rules.MergeFnInit, $"Merge folds a state, but {merge.Fn.FuncName} has no init", "a function with init", merge.Fn.FuncName);
        var common = first.Shape.Slice(0, first.Rank);
        return TypeResult.Of(new StreamType(merge.Fn.Output, common.Concat(idx.Shape)));
    }
}
