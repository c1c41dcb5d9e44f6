namespace StepForge.Step;

/// <summary>A broken typing rule: which one, and the expected and actual types or shapes.</summary>
public sealed class TypeRuleException(string rule, string message, string? expected = null, string? actual = null) : Exception(message)
{
    public string Rule { get; } = rule;
    public string? Expected { get; } = expected;
    public string? Actual { get; } = actual;
}

/// <summary>
/// The static typing rule of every operator in step-semantics.md: given the configured op and the types of its
/// input streams, the types of its outputs, or a <see cref="TypeRuleException"/> naming the rule.
/// Input order: Map and Zip take one or more streams; RepeatRef (x, ref); Partition (x, idx);
/// Merge the expert streams followed by idx; the rest one stream.
/// </summary>
public static class TypeRules
{
    public static IReadOnlyList<StreamType> Apply(StepOp op, IReadOnlyList<StreamType> inputs, IReadOnlyDictionary<string, long> sizes, string dynamicLabel)
    {
        switch (op)
        {
            case MapOp map:
            {
                var x = inputs.Count == 1 ? inputs[0] : ZipType(inputs, "Map.zip-shape");
                RequireFnInput("Map.fn-input", map.Fn, x.DType);
                return [new StreamType(map.Fn.Output, x.Shape)];
            }
            case ZipOp:
                // Exactly two, as upstream's Zip (which silently drops a third): zip more with nested Zips.
                if (inputs.Count != 2)
                    throw new TypeRuleException("Zip.arity", "Zip takes exactly two streams (x, y); zip a third one with another Zip", "(x, y)", $"{inputs.Count} stream(s)");
                return [ZipType(inputs, "Zip.same-shape")];
            case AccumOp accum:
                return [Fold("Accum", accum.Fn, accum.B, Single(inputs, "Accum"), keepShape: false)];
            case ScanOp scan:
                return [Fold("Scan", scan.Fn, scan.B, Single(inputs, "Scan"), keepShape: true)];
            case BufferizeOp bufferize:
            {
                var x = Single(inputs, "Bufferize");
                if (bufferize.A <= 0 || bufferize.A > x.Rank)
                    throw new TypeRuleException("Bufferize.a-range", $"Bufferize needs 0 < a <= rank, but a = {bufferize.A} and the input has rank {x.Rank}",
                        $"0 < a <= {x.Rank}", $"a = {bufferize.A}, input {x}");
                if (x.DType is TupleType)
                    throw new TypeRuleException("Bufferize.element", "Bufferize cannot buffer a tuple stream; Map it to one component first",
                        "fp32, Multihot or Buffer elements", x.DType.ToString());
                var taken = x.Shape.Slice(0, bufferize.A);
                DType dtype = x.DType is BufferType b ? new BufferType(b.Element, b.Shape.Concat(taken)) : new BufferType(x.DType, taken);
                return [new StreamType(dtype, x.Shape.Slice(bufferize.A))];
            }
            case StreamifyOp:
            {
                var x = Single(inputs, "Streamify");
                if (x.DType is not BufferType b)
                    throw new TypeRuleException("Streamify.buffer", "Streamify needs a stream of Buffer elements", "Buffer(T, [...])", x.DType.ToString());
                return [new StreamType(b.Element, b.Shape.Concat(x.Shape))];
            }
            case PromoteOp promote:
            {
                var x = Single(inputs, "Promote");
                if (promote.B < 0 || promote.B > x.Rank + 1)
                    throw new TypeRuleException("Promote.b-range", $"Promote needs 0 <= b <= rank + 1, but b = {promote.B} and the input has rank {x.Rank}",
                        $"0 <= b <= {x.Rank + 1}", $"b = {promote.B}, input {x}");
                var shape = x.Shape.Take(promote.B).Append(Dim.One).Concat(x.Shape.Skip(promote.B));
                return [new StreamType(x.DType, new ValueList<Dim>(shape))];
            }
            case FlattenOp flatten:
                return [FlattenType(flatten, Single(inputs, "Flatten"))];
            case ReshapeOp reshape:
                return [ReshapeType(reshape, Single(inputs, "Reshape"), sizes)];
            case RepeatOp repeat:
            {
                var x = Single(inputs, "Repeat");
                var n = repeat.N.Evaluate(sizes);
                if (n is not null && n <= 0 || repeat.N.IsDynamic)
                    throw new TypeRuleException("Repeat.count", "Repeat needs n to be a positive dimension symbol or integer", "n > 0", $"n = {repeat.N}");
                return [new StreamType(x.DType, new ValueList<Dim>(x.Shape.Prepend(repeat.N)))];
            }
            case RepeatRefOp:
            {
                if (inputs.Count != 2)
                    throw new TypeRuleException("RepeatRef.arity", "RepeatRef takes a tuple (x, ref)", "(x, ref)", $"{inputs.Count} stream(s)");
                var (x, reference) = (inputs[0], inputs[1]);
                if (reference.Rank != x.Rank + 1)
                    throw new TypeRuleException("RepeatRef.rank", $"RepeatRef needs ref.rank == x.rank + 1, but x has rank {x.Rank} and ref has rank {reference.Rank}",
                        $"ref rank {x.Rank + 1}", $"x {x}, ref {reference}");
                if (reference.Shape.Slice(1) != x.Shape)
                    throw new TypeRuleException("RepeatRef.shape", "RepeatRef needs ref.shape[1:] == x.shape",
                        StreamType.FormatShape(x.Shape), StreamType.FormatShape(reference.Shape.Slice(1)));
                return [new StreamType(x.DType, reference.Shape)];
            }
            case CopyOp:
            {
                var x = Single(inputs, "Copy");
                return [x, x];
            }
            case PartitionOp partition:
                return PartitionTypes(partition, inputs, sizes, dynamicLabel);
            case MergeOp merge:
                return [MergeType(merge, inputs, sizes)];
            default:
                throw new ArgumentException($"unknown op {op}", nameof(op));
        }
    }

    private static StreamType Single(IReadOnlyList<StreamType> inputs, string op)
    {
        if (inputs.Count != 1)
            throw new TypeRuleException($"{op}.arity", $"{op} takes one stream", "1 stream", $"{inputs.Count} streams");
        return inputs[0];
    }

    private static void RequireFnInput(string rule, FnDecl fn, DType actual)
    {
        if (fn.Input != actual)
            throw new TypeRuleException(rule, $"{fn.FuncName} takes {fn.Input} but the stream carries {actual}", fn.Input.ToString(), actual.ToString());
    }

    private static StreamType ZipType(IReadOnlyList<StreamType> inputs, string rule)
    {
        var first = inputs[0];
        foreach (var other in inputs.Skip(1))
        {
            if (other.Rank != first.Rank || other.Shape != first.Shape)
                throw new TypeRuleException(rule, $"zipped streams need the same rank and shape, but got {StreamType.FormatShape(first.Shape)} and {StreamType.FormatShape(other.Shape)}",
                    StreamType.FormatShape(first.Shape), StreamType.FormatShape(other.Shape));
        }
        return new StreamType(DType.Tuple(inputs.Select(i => i.DType)), first.Shape);
    }

    private static StreamType Fold(string op, FnDecl fn, int b, StreamType x, bool keepShape)
    {
        RequireFnInput($"{op}.fn-input", fn, x.DType);
        if (b <= 0 || b > x.Rank)
            throw new TypeRuleException($"{op}.b-range", $"{op} needs 0 < b <= rank, but b = {b} and the input has rank {x.Rank}",
                $"0 < b <= {x.Rank}", $"b = {b}, input {x}");
        if (!fn.HasInit)
            throw new TypeRuleException($"{op}.fn-init", $"{op} folds a state, but {fn.FuncName} has no init", "a function with init", fn.FuncName);
        return new StreamType(fn.Output, keepShape ? x.Shape : x.Shape.Slice(b));
    }

    private static StreamType FlattenType(FlattenOp flatten, StreamType x)
    {
        var l = flatten.L;
        bool consecutive = l.Count > 0 && l[0] > 0 && Enumerable.Range(1, l.Count - 1).All(i => l[i] == l[i - 1] + 1);
        if (!consecutive)
            throw new TypeRuleException("Flatten.consecutive", "Flatten needs L to be a list of consecutive positive integers", "e.g. [1] or [1, 2]", l.ToString());
        if (l[^1] > x.Rank)
            throw new TypeRuleException("Flatten.range", $"Flatten merges dims {l[0] - 1}..{l[^1]}, but the input has only dims 0..{x.Rank}",
                $"L[-1] <= {x.Rank}", $"L = {l}, input {x}");
        int first = l[0] - 1, last = l[^1];
        var merged = Dim.Product(x.Shape.Skip(first).Take(last - first + 1));
        var shape = x.Shape.Take(first).Append(merged).Concat(x.Shape.Skip(last + 1));
        return new StreamType(x.DType, new ValueList<Dim>(shape));
    }

    private static StreamType ReshapeType(ReshapeOp reshape, StreamType x, IReadOnlyDictionary<string, long> sizes)
    {
        var indices = reshape.L;
        if (indices.Count == 0 || indices.Any(i => i < 0 || i > x.Rank) || indices.Distinct().Count() != indices.Count)
            throw new TypeRuleException("Reshape.range", $"Reshape needs L to list distinct dim indices in 0..{x.Rank}", $"indices in 0..{x.Rank}", indices.ToString());
        var s = reshape.S.Evaluate(sizes);
        if (s is null or <= 0)
            throw new TypeRuleException("Reshape.divisible", "Reshape needs S to be a positive integer or a known dimension", "S > 0", reshape.S.ToString());
        var shape = new List<Dim>();
        for (int i = 0; i < x.Shape.Count; i++)
        {
            var d = x.Shape[i];
            if (!indices.Contains(i)) { shape.Add(d); continue; }
            var size = d.Evaluate(sizes);
            if (size is null || size % s != 0)
                throw new TypeRuleException("Reshape.divisible", $"Reshape needs dim {i} ({d}) to be divisible by S = {reshape.S}",
                    $"a multiple of {reshape.S}", size is null ? d.ToString() : $"{d} = {size}");
            shape.Add(reshape.S);
            shape.Add(Divide(d, reshape.S, s.Value));
        }
        return new StreamType(x.DType, new ValueList<Dim>(shape));
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

    private static MultihotType RequireMultihot(string rule, string op, StreamType idx) =>
        idx.DType as MultihotType
        ?? throw new TypeRuleException(rule, $"{op} needs an index stream of Multihot elements", "Multihot(fp32, E)", idx.DType.ToString());

    private static List<StreamType> PartitionTypes(PartitionOp partition, IReadOnlyList<StreamType> inputs, IReadOnlyDictionary<string, long> sizes, string label)
    {
        if (inputs.Count != 2)
            throw new TypeRuleException("Partition.arity", "Partition takes a tuple (x, idx)", "(x, idx)", $"{inputs.Count} stream(s)");
        var (x, idx) = (inputs[0], inputs[1]);
        var multihot = RequireMultihot("Partition.multihot", "Partition", idx);
        int q = idx.Rank;
        if (x.Rank < q || x.Shape.Slice(x.Rank - q) != idx.Shape)
            throw new TypeRuleException("Partition.shape", "Partition needs the outer dims of x to equal the shape of idx",
                StreamType.FormatShape(idx.Shape), x.Rank < q ? $"x {x}" : StreamType.FormatShape(x.Shape.Slice(x.Rank - q)));
        var n = partition.N.Evaluate(sizes);
        var e = multihot.Width.Evaluate(sizes);
        if (n is null || n <= 0 || (e is not null && n != e))
            throw new TypeRuleException("Partition.count", "Partition needs N to equal the multihot width E, one stream per expert",
                e is null ? multihot.Width.ToString() : $"{multihot.Width} = {e}", $"N = {partition.N}" + (n is null ? "" : $" = {n}"));
        var inner = x.Shape.Slice(0, x.Rank - q);
        return [.. Enumerable.Range(0, (int)n.Value).Select(i =>
            new StreamType(x.DType, inner.Concat([new DynamicDim($"{label}[{i}]")])))];
    }

    private static StreamType MergeType(MergeOp merge, IReadOnlyList<StreamType> inputs, IReadOnlyDictionary<string, long> sizes)
    {
        if (inputs.Count < 2)
            throw new TypeRuleException("Merge.arity", "Merge takes a tuple (list_of_streams, idx)", "([s0, s1, ...], idx)", $"{inputs.Count} stream(s)");
        var streams = inputs.Take(inputs.Count - 1).ToList();
        var idx = inputs[^1];
        var multihot = RequireMultihot("Merge.multihot", "Merge", idx);
        var first = streams[0];
        foreach (var s in streams.Skip(1))
        {
            if (s.DType != first.DType)
                throw new TypeRuleException("Merge.same-dtype", "Merge needs all expert streams to share one dtype", first.DType.ToString(), s.DType.ToString());
            if (s.Rank != first.Rank || s.Shape.Slice(0, s.Rank) != first.Shape.Slice(0, first.Rank))
                throw new TypeRuleException("Merge.same-shape", "Merge needs all expert streams to share rank and shape except the outermost dim",
                    StreamType.FormatShape(first.Shape.Slice(0, first.Rank)) + " + [?]", StreamType.FormatShape(s.Shape));
        }
        var e = multihot.Width.Evaluate(sizes);
        if (e is not null && e != streams.Count)
            throw new TypeRuleException("Merge.count", "Merge needs one stream per expert (the multihot width)", $"{multihot.Width} = {e} streams", $"{streams.Count} streams");
        RequireFnInput("Merge.fn-input", merge.Fn, first.DType);
        if (!merge.Fn.HasInit)
            throw new TypeRuleException("Merge.fn-init", $"Merge folds a state, but {merge.Fn.FuncName} has no init", "a function with init", merge.Fn.FuncName);
        var common = first.Shape.Slice(0, first.Rank);
        return new StreamType(merge.Fn.Output, common.Concat(idx.Shape));
    }
}
