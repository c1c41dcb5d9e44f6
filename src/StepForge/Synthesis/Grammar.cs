using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Synthesis;

/// <summary>One way to make a value from argument values: a fragment, the grammar production it instantiates, and its choices.</summary>
/// <param name="Kind">The production ("Map", "ZipMap", "Accum1", "Broadcast1", ...): what the learned grammar counts.</param>
/// <param name="Fns">The fns it passes, in op order.</param>
/// <param name="Dim">The dim it repeats along, if it repeats.</param>
/// <param name="Layout">It changes how the data is viewed or repeats it, not the values (runs of these are kept short).</param>
internal sealed record Production(string Kind, Fragment Fragment, ValueList<FnDecl> Fns, Dim? Dim, bool Layout);

/// <summary>
/// The search's grammar for one task: every STeP op, typed by the language's own rules, with the task's fns and the
/// dims it uses as configurations, and four fused steps (Zip → Map/Accum/Scan, Bufferize → Repeat → Streamify, and
/// Partition → a Map per expert → Merge). Zip only builds tuples some fn takes; Repeat only repeats along dims the
/// task's streams and fns use, or literal sizes they name; Reshape splits by sizes the fns' signatures name.
/// </summary>
internal sealed class Grammar
{
    private readonly IReadOnlyList<FnDecl> _fns;
    private readonly IReadOnlyDictionary<string, long> _sizes;
    private readonly bool _routed;
    private readonly HashSet<DType> _zippable = [];
    private readonly Dictionary<DType, List<FnDecl>> _byInput = [];

    public Grammar(TaskSpec task, IReadOnlyDictionary<string, long> sizes)
    {
        _fns = task.Fns;
        _sizes = sizes;
        _routed = task.Inputs.Select(i => i.Type.DType).Concat(_fns.Select(f => f.Output)).Any(d => d is MultihotType);
        foreach (var fn in _fns)
        {
            if (!_byInput.TryGetValue(fn.Input, out var list)) _byInput[fn.Input] = list = [];
            list.Add(fn);
            // Tuples worth building with Zip on their own: proper contiguous runs of a fn's tuple input (Zip nests, tuples flatten).
            if (fn.Input is TupleType tuple)
                for (int start = 0; start < tuple.Items.Count; start++)
                    for (int n = 2; start + n <= tuple.Items.Count && n < tuple.Items.Count; n++)
                        _zippable.Add(new TupleType(new ValueList<DType>(tuple.Items.Skip(start).Take(n))));
        }
        var used = task.DimensionSymbols();
        var literals = task.Inputs.Concat(task.Parameters).Select(i => i.Type).Concat(task.Outputs.Select(o => o.Type))
            .SelectMany(t => t.Shape.Concat(t.DType.AllDims)).Concat(_fns.SelectMany(f => f.Input.AllDims.Concat(f.Output.AllDims)))
            .OfType<ConstDim>().Where(d => d.Value > 1).Distinct();
        // Only dims the task uses: a dim it never mentions only makes more values (rmsnorm's pool held [K, D, N] streams).
        RepeatDims = [.. used.Where(sizes.ContainsKey).Order(StringComparer.Ordinal).Select(Dim.Symbol), .. literals.OrderBy(d => d.Value)];
        SplitSizes = [.. _fns.SelectMany(f => f.Input.AllDims.Concat(f.Output.AllDims)).Where(d => d is SymbolDim || d is ConstDim { Value: > 1 })
            .Distinct().OrderBy(d => d.ToString(), StringComparer.Ordinal)];
    }

    public IReadOnlyList<Dim> RepeatDims { get; }

    public IReadOnlyList<Dim> SplitSizes { get; }

    /// <summary>Fns a stream of this dtype can be passed to.</summary>
    public IReadOnlyList<FnDecl> FnsTaking(DType dtype) => _byInput.TryGetValue(dtype, out var list) ? list : [];

    public bool IsZippable(DType tuple) => _zippable.Contains(tuple);

    /// <summary>The productions with one argument of this type (typing is left to the caller).</summary>
    public IEnumerable<Production> Unary(StreamType t)
    {
        foreach (var fn in FnsTaking(t.DType))
        {
            // A fn with an initial state is a fold's step: Map has no state to give it.
            if (!fn.HasInit)
            {
                yield return new Production("Map", Fragment.Unary(new MapOp(fn)), One(fn), null, false);
                continue;
            }
            // Folds over the b innermost dims; b >= 2 and folds over flattened dims are rarer and cost more.
            for (int b = 1; b <= t.Rank; b++)
            {
                yield return new Production($"Accum{b}", Fragment.Unary(new AccumOp(fn, b)), One(fn), null, false);
                yield return new Production($"Scan{b}", Fragment.Unary(new ScanOp(fn, b)), One(fn), null, false);
            }
        }
        bool tuple = t.DType is TupleType;
        if (!tuple)
            for (int a = 1; a <= t.Rank; a++)
                yield return new Production($"Bufferize{a}", Fragment.Unary(new BufferizeOp(a)), default, null, true);
        if (t.DType is BufferType) yield return new Production("Streamify", Fragment.Unary(new StreamifyOp()), default, null, true);
        for (int b = 0; b <= t.Rank + 1; b++)
            yield return new Production($"Promote{b}", Fragment.Unary(new PromoteOp(b)), default, null, true);
        for (int first = 1; first <= t.Rank; first++)
            for (int last = first; last <= t.Rank; last++)
                yield return new Production($"Flatten{first}-{last}", Fragment.Unary(new FlattenOp(new ValueList<int>(Enumerable.Range(first, last - first + 1)))), default, null, true);
        for (int i = 0; i <= t.Rank; i++)
            foreach (var s in SplitSizes)
                if (t.Shape[i] != s) yield return new Production("Reshape", Fragment.Unary(new ReshapeOp(new ValueList<int>([i]), s)), default, s, true);
        foreach (var n in RepeatDims)
        {
            yield return new Production("Repeat", Fragment.Unary(new RepeatOp(n)), default, n, true);
            // A block of the a innermost dims repeated n times along a new dim: Bufferize → Repeat → Streamify.
            if (!tuple)
                for (int a = 1; a <= t.Rank; a++)
                    yield return new Production($"Broadcast{a}", Fragment.Of(1,
                        new FragmentOp(new BufferizeOp(a), new ValueList<int>([0])),
                        new FragmentOp(new RepeatOp(n), new ValueList<int>([1])),
                        new FragmentOp(new StreamifyOp(), new ValueList<int>([2]))), default, n, true);
        }
    }

    /// <summary>The productions with two arguments of these types, in this order (typing is left to the caller).</summary>
    public IEnumerable<Production> Binary(StreamType x, StreamType y)
    {
        if (x.Shape == y.Shape)
        {
            var tuple = DType.Tuple([x.DType, y.DType]);
            var zip = new FragmentOp(new ZipOp(), new ValueList<int>([0, 1]));
            foreach (var fn in FnsTaking(tuple))
            {
                if (!fn.HasInit)
                {
                    yield return new Production("ZipMap", Fragment.Of(2, zip, new FragmentOp(new MapOp(fn), new ValueList<int>([2]))), One(fn), null, false);
                    continue;
                }
                for (int b = 1; b <= x.Rank; b++)
                {
                    yield return new Production($"ZipAccum{b}", Fragment.Of(2, zip, new FragmentOp(new AccumOp(fn, b), new ValueList<int>([2]))), One(fn), null, false);
                    yield return new Production($"ZipScan{b}", Fragment.Of(2, zip, new FragmentOp(new ScanOp(fn, b), new ValueList<int>([2]))), One(fn), null, false);
                }
            }
            // A whole fn input needs a Zip of its own only to be partitioned among experts; Map, Accum and Scan take it fused.
            if (_zippable.Contains(tuple) || _routed && _byInput.ContainsKey(tuple))
                yield return new Production("Zip", Fragment.Binary(new ZipOp()), default, null, false);
        }
        if (y.Rank == x.Rank + 1 && y.Shape.Slice(1) == x.Shape)
            yield return new Production("RepeatRef", Fragment.Binary(new RepeatRefOp()), default, null, true);
        if (y.DType is MultihotType route && Routes(x, y))
            foreach (var experts in Experts(x, route))
                yield return experts;
    }

    /// <summary>Whether an index stream can route this stream: its outermost dims are the index's dims.</summary>
    public static bool Routes(StreamType x, StreamType index) =>
        x.Shape.Count >= index.Shape.Count && x.Shape.Slice(x.Shape.Count - index.Shape.Count) == index.Shape;

    /// <summary>Partition → a Map per expert → Merge: a run of consecutive fns of one signature, or one fn for every expert.</summary>
    private IEnumerable<Production> Experts(StreamType x, MultihotType route)
    {
        if (route.Width.Evaluate(_sizes) is not { } width || width < 1 || width > 16) yield break;
        var candidates = FnsTaking(x.DType);
        var assignments = new List<FnDecl[]>();
        for (int start = 0; start + width <= candidates.Count; start++)
        {
            var window = candidates.Skip(start).Take((int)width).ToArray();
            if (window.All(f => f.Output == window[0].Output)) assignments.Add(window);
        }
        assignments.AddRange(candidates.Select(f => Enumerable.Repeat(f, (int)width).ToArray()));
        foreach (var experts in assignments.DistinctBy(a => string.Join(",", a.Select(f => f.FuncName))))
            foreach (var merge in _fns.Where(f => f.HasInit && f.Input == experts[0].Output))
                yield return new Production("Experts", Fragment.Binary(new ExpertsOp(route.Width, new ValueList<FnDecl>(experts), merge)),
                    new ValueList<FnDecl>([.. experts, merge]), null, false);
    }

    private static ValueList<FnDecl> One(FnDecl fn) => new([fn]);
}
