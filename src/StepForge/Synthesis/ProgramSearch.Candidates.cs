using System.Globalization;
using System.Text;
using StepForge.Step;

namespace StepForge.Synthesis;

/// <summary>The search's candidate steps per argument type (cached, since typing depends on types only) and program writing.</summary>
public sealed partial class ProgramSearch
{
    /// <summary>Instantiations of one piece on one tuple of argument types kept at most (the cheapest).</summary>
    private const int MaxInstantiations = 48;

    private readonly Dictionary<(StreamType, StreamType), Candidate?> _layoutPaths = [];

    private readonly Dictionary<(StreamType, StreamType?), ILookup<string, (Production Production, StreamType[] Types)>> _typedProductions = [];
    private readonly Dictionary<(Piece, int, StreamType), bool> _holeTakes = [];

    private IReadOnlyList<Candidate> Unary(StreamType type) => _unary[type];

    /// <summary>The grammar's productions on these arguments that type-check, by kind, with their types (cached: typing depends on types only).</summary>
    private ILookup<string, (Production Production, StreamType[] Types)> TypedProductions(StreamType[] args)
    {
        var key = (args[0], args.Length > 1 ? args[1] : null);
        if (_typedProductions.TryGetValue(key, out var known)) return known;
        var productions = args.Length == 1 ? _grammar.Unary(args[0]) : _grammar.Binary(args[0], args[1]);
        var typed = new List<(Production, StreamType[])>();
        foreach (var p in productions)
            if (p.Fragment.Types(args, _sizes) is { } t) typed.Add((p, t));
        return _typedProductions[key] = typed.ToLookup(t => t.Item1.Kind, StringComparer.Ordinal);
    }

    private readonly Dictionary<ValueList<Dim>, List<StreamType>> _typesByShape = [];
    private readonly Dictionary<ValueList<Dim>, List<StreamType>> _typesByOuterShape = [];
    private readonly List<StreamType> _routeTypes = [];
    private readonly Dictionary<(Piece, int, string), List<StreamType>> _joinIndex = [];
    private readonly Dictionary<Piece, (PieceStep Step, int[] Side, Piece?[] Chains)?> _joins = [];
    private readonly HashSet<(StreamType, StreamType)> _pairsChecked = [];

    /// <summary>
    /// A type seen for the first time: its one-argument steps, and the two-argument steps it makes with the types so
    /// far that some step can pair it with (the same shape for Zips, one dim more or less for RepeatRef, an index
    /// stream for experts, the types a learned piece's holes take).
    /// </summary>
    private void NewType(StreamType type)
    {
        _types.Add(type);
        _unary[type] = Typed([type]);
        Index(_typesByShape, type.Shape, type);
        if (type.Shape.Count > 1) Index(_typesByOuterShape, type.Shape.Slice(1), type);
        if (type.DType is MultihotType) _routeTypes.Add(type);

        foreach (var other in _typesByShape[type.Shape].ToList()) Pair(type, other);
        if (_typesByOuterShape.TryGetValue(type.Shape, out var references))
            foreach (var reference in references.ToList()) Pair(type, reference);
        if (type.Shape.Count > 1 && _typesByShape.TryGetValue(type.Shape.Slice(1), out var smaller))
            foreach (var x in smaller.ToList()) Pair(x, type);
        foreach (var route in _routeTypes.ToList())
            if (Grammar.Routes(type, route)) Pair(type, route);
        if (type.DType is MultihotType)
            foreach (var x in _types.ToList())
                if (Grammar.Routes(x, type)) Pair(x, type);
        foreach (var (piece, _) in _model.Pieces)
        {
            if (piece.Holes != 2) continue;
            for (int hole = 0; hole < 2; hole++)
            {
                if (!PieceHoleTakes(piece, hole, type)) continue;
                foreach (var key in JoinKeys(piece, hole, type))
                {
                    if (!_joinIndex.TryGetValue((piece, hole, key), out var mine)) _joinIndex[(piece, hole, key)] = mine = [];
                    mine.Add(type);
                    if (_joinIndex.TryGetValue((piece, 1 - hole, key), out var others))
                        foreach (var other in others.ToList())
                            if (hole == 0) Pair(type, other);
                            else Pair(other, type);
                }
            }
        }
    }

    private static void Index(Dictionary<ValueList<Dim>, List<StreamType>> index, ValueList<Dim> key, StreamType type)
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = [];
        list.Add(type);
    }

    /// <summary>Both orders of a pair of types, each once.</summary>
    private void Pair(StreamType a, StreamType b)
    {
        if (_pairsChecked.Add((a, b))) AddPartners(a, b);
        if (a != b && _pairsChecked.Add((b, a))) AddPartners(b, a);
    }

    /// <summary>Whether a value of this type could fill a piece's hole: every step that reads the hole alone has a production on it.</summary>
    private bool PieceHoleTakes(Piece piece, int hole, StreamType type)
    {
        if (_holeTakes.TryGetValue((piece, hole, type), out var known)) return known;
        bool takes = true;
        foreach (var step in piece.Steps)
            if (step.Inputs.Count == 1 && step.Inputs[0] == hole && !TypedProductions([type])[step.Kind].Any(p => p.Production.Fns.Count == step.Fns.Count))
            {
                takes = false;
                break;
            }
        return _holeTakes[(piece, hole, type)] = takes;
    }

    /// <summary>
    /// Where a two-hole piece brings its holes together: its first step that reads both, the input of that step each
    /// hole reaches, and the one-hole piece that carries the hole there (null when the hole is that input itself).
    /// </summary>
    private (PieceStep Step, int[] Side, Piece?[] Chains)? JoinOf(Piece piece)
    {
        if (_joins.TryGetValue(piece, out var known)) return known;
        var deps = new List<HashSet<int>> { new() { 0 }, new() { 1 } };
        (PieceStep, int[], Piece?[])? result = null;
        foreach (var step in piece.Steps)
        {
            var d = new HashSet<int>(step.Inputs.SelectMany(i => deps[i]));
            if (result is null && d.Count == 2 && step.Inputs.Count == 2)
            {
                var side = new int[2];
                var chains = new Piece?[2];
                for (int input = 0; input < 2; input++)
                {
                    int hole = deps[step.Inputs[input]].Single();
                    side[hole] = input;
                    chains[hole] = step.Inputs[input] < 2 ? null : Chain(piece, hole, step.Inputs[input]);
                }
                result = (step, side, chains);
            }
            deps.Add(d);
        }
        return _joins[piece] = result;
    }

    /// <summary>The steps of a piece that carry one hole to one of its values, as a piece of their own.</summary>
    private static Piece Chain(Piece piece, int hole, int target)
    {
        var needed = new SortedSet<int>();
        void Need(int value)
        {
            if (value < 2 || !needed.Add(value)) return;
            foreach (var i in piece.Steps[value - 2].Inputs) Need(i);
        }
        Need(target);
        var renumber = new Dictionary<int, int> { [hole] = 0 };
        var steps = new List<PieceStep>();
        foreach (var value in needed)
        {
            var step = piece.Steps[value - 2];
            steps.Add(step with { Inputs = new ValueList<int>(step.Inputs.Select(i => renumber[i])) });
            renumber[value] = steps.Count;
        }
        return new Piece(piece.Key + $"/hole{hole}", 1, steps, piece.Tasks);
    }

    /// <summary>
    /// Keys that a pair of hole types must share for a two-hole piece to type: the shape at its join (Zips need equal
    /// shapes, RepeatRef one dim more on the reference, experts an index of the stream's outer dims).
    /// </summary>
    private IEnumerable<string> JoinKeys(Piece piece, int hole, StreamType type)
    {
        if (JoinOf(piece) is not { } join) return [];
        var reaching = join.Chains[hole] is { } chain ? Instantiate(chain, 0, [type]).Select(c => c.Result).Distinct().ToList() : [type];
        int input = join.Side[hole];
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in reaching)
        {
            if (join.Step.Kind.StartsWith("Zip", StringComparison.Ordinal)) keys.Add("s" + t.Shape);
            else if (join.Step.Kind == "RepeatRef") keys.Add("r" + (input == 0 ? t.Shape : t.Shape.Count > 1 ? t.Shape.Slice(1) : default));
            else if (join.Step.Kind == "Experts")
            {
                if (input == 1) keys.Add("e" + t.Shape);
                else
                    for (int n = 1; n <= t.Shape.Count; n++) keys.Add("e" + t.Shape.Slice(t.Shape.Count - n));
            }
        }
        return keys;
    }

    private void AddPartners(StreamType first, StreamType second)
    {
        var candidates = Typed([first, second]);
        if (candidates.Length == 0) return;
        if (!_partners.TryGetValue(first, out var list)) _partners[first] = list = [];
        list.Add((second, candidates));
    }

    /// <summary>The productions that type-check on these arguments and make a value worth keeping, with the pieces that do, cheapest first.</summary>
    private Candidate[] Typed(StreamType[] args)
    {
        var result = new List<Candidate>();
        foreach (var group in TypedProductions(args))
        {
            var kept = group.Where(g => Keep(g.Types[^1])).ToList();
            if (kept.Count == 0) continue;
            double kindBits = _model.KindBits(group.Key);
            var alternatives = kept.Select(g => g.Production).ToList();
            foreach (var (production, t) in kept)
                result.Add(new Candidate(production, t, SearchModel.Units(kindBits + _model.ChoiceBits(production, alternatives)), null));
        }
        foreach (var (piece, bits) in _model.Pieces)
            if (piece.Holes == args.Length && Enumerable.Range(0, args.Length).All(h => PieceHoleTakes(piece, h, args[h])))
                result.AddRange(Instantiate(piece, bits, args));
        foreach (var c in result) _dearestStep = Math.Max(_dearestStep, c.Cost);
        return [.. result.OrderBy(c => c.Cost)];
    }

    private bool Keep(StreamType type)
    {
        if (type.Rank > _maxRank || Elements(type) > _maxElements) return false;
        var dtype = type.DType;
        return _usefulDTypes.Contains(dtype) || dtype is TupleType && _grammar.IsZippable(dtype) || dtype is MultihotType;
    }

    /// <summary>
    /// A piece applied to arguments of these types: each of its productions filled with the task's fns and dims that
    /// type-check, the ones playing the demonstrations' roles cheapest.
    /// </summary>
    private IEnumerable<Candidate> Instantiate(Piece piece, double pieceBits, StreamType[] args)
    {
        var results = new List<(List<FragmentOp> Ops, StreamType[] Types, double Bits, List<FnDecl> Fns, bool Layout)>();
        var slotTypes = new List<StreamType>(args);
        // Where each of the piece's values (holes, then steps) is in the fragment being built.
        var at = new List<int>(Enumerable.Range(0, args.Length));
        var ops = new List<FragmentOp>();
        var fragmentTypes = new List<StreamType>(args);
        var fns = new List<FnDecl>();

        void Fill(int s, double bits, bool layout, int deviations)
        {
            if (results.Count >= 2 * MaxInstantiations) return;
            if (s == piece.Steps.Count)
            {
                results.Add(([.. ops], [.. fragmentTypes], bits, [.. fns], layout));
                return;
            }
            var step = piece.Steps[s];
            var inputs = step.Inputs.Select(i => slotTypes[i]).ToArray();
            var typed = TypedProductions(inputs)[step.Kind]
                .Where(x => x.Production.Fns.Count == step.Fns.Count && Elements(x.Types[^1]) <= _maxElements && x.Types[^1].Rank <= _maxRank + 1)
                .ToList();
            var fitting = Enumerable.Range(0, step.Fns.Count).Select(f => typed.Select(x => x.Production.Fns[f]).Distinct().ToList()).ToList();
            var fittingDims = typed.Where(x => x.Production.Dim is not null).Select(x => x.Production.Dim!).Distinct().ToList();
            foreach (var (p, t) in typed)
            {
                double b = bits;
                int deviated = 0;
                for (int f = 0; f < step.Fns.Count; f++)
                {
                    var slot = step.Fns[f];
                    bool Plays(FnDecl fn) => SearchModel.FnPlaysRole(slot, fn);
                    if (!Plays(p.Fns[f]) && fitting[f].Any(Plays)) deviated++;
                    b += SearchModel.SlotBits(p.Fns[f], fitting[f], Plays);
                }
                if (p.Dim is { } dim)
                {
                    bool Plays(Dim d) => SearchModel.DimPlaysRole(step, d);
                    if (!Plays(dim) && fittingDims.Any(Plays)) deviated++;
                    b += SearchModel.SlotBits(dim, fittingDims, Plays);
                }
                // One choice away from what the demonstrations did is a piece applied anew; more is a different program.
                if (deviations + deviated > 1) continue;
                // The step's own fragment, its argument indices moved to where the piece's values are.
                int baseIndex = args.Length + ops.Count;
                var frag = p.Fragment;
                int added = 0;
                foreach (var op in frag.Ops)
                {
                    var mapped = op.Inputs.Select(i => i < frag.Arity ? at[step.Inputs[i]] : baseIndex + (i - frag.Arity)).ToArray();
                    ops.Add(new FragmentOp(op.Op, new ValueList<int>(mapped)));
                    added++;
                }
                for (int i = frag.Arity; i < t.Length; i++) fragmentTypes.Add(t[i]);
                slotTypes.Add(t[^1]);
                at.Add(args.Length + ops.Count - 1);
                fns.AddRange(p.Fns);
                Fill(s + 1, b, layout && p.Layout, deviations + deviated);
                fns.RemoveRange(fns.Count - p.Fns.Count, p.Fns.Count);
                at.RemoveAt(at.Count - 1);
                slotTypes.RemoveAt(slotTypes.Count - 1);
                fragmentTypes.RemoveRange(fragmentTypes.Count - (t.Length - frag.Arity), t.Length - frag.Arity);
                ops.RemoveRange(ops.Count - added, added);
            }
        }

        Fill(0, pieceBits, true, 0);
        foreach (var r in results.Where(r => Keep(r.Types[^1])).OrderBy(r => r.Bits).Take(MaxInstantiations))
        {
            var fragment = new Fragment(args.Length, new ValueList<FragmentOp>(r.Ops));
            yield return new Candidate(new Production("piece", fragment, new ValueList<FnDecl>(r.Fns), null, r.Layout), r.Types,
                SearchModel.Units(r.Bits), PieceName(piece));
        }
    }

    private string PieceName(Piece piece)
    {
        int index = 0;
        foreach (var (p, _) in _model.Pieces)
        {
            if (ReferenceEquals(p, piece)) break;
            index++;
        }
        return $"#{index} {piece.Key} (from {string.Join(", ", piece.Tasks.Take(3))}{(piece.Tasks.Count > 3 ? ", ..." : "")})";
    }

    /// <summary>The cheapest run of at most three layout ops (Bufferize, Streamify, Promote, Flatten, Reshape) from one type to another.</summary>
    private Candidate? LayoutPath(StreamType from, StreamType to)
    {
        if (_layoutPaths.TryGetValue((from, to), out var known)) return known;
        Candidate? best = null;
        var ops = new List<FragmentOp>();
        var path = new List<StreamType> { from };

        void Walk(StreamType t, double bits)
        {
            if (t == to && ops.Count > 0)
            {
                int cost = SearchModel.Units(bits);
                if (best is null || cost < best.Cost)
                    best = new Candidate(new Production("layout", new Fragment(1, new ValueList<FragmentOp>(ops)), default, null, true), [.. path], cost, null);
                return;
            }
            if (ops.Count == 3) return;
            foreach (var p in _grammar.Unary(t))
            {
                if (p.Fragment.Ops.Count != 1 || p.Fragment.Ops[0].Op is not (BufferizeOp or StreamifyOp or PromoteOp or FlattenOp or ReshapeOp)) continue;
                if (p.Fragment.Types([t], _sizes) is not { } types) continue;
                ops.Add(new FragmentOp(p.Fragment.Ops[0].Op, new ValueList<int>([ops.Count])));
                path.Add(types[^1]);
                Walk(types[^1], bits + _model.KindBits(p.Kind));
                path.RemoveAt(path.Count - 1);
                ops.RemoveAt(ops.Count - 1);
            }
        }

        Walk(from, 0);
        _layoutPaths[(from, to)] = best;
        return best;
    }

    /// <summary>
    /// The program that computes the given values, one line per op, values named in order of definition. An op that
    /// was already written with the same inputs is not written again (two pieces may make the same intermediate value).
    /// </summary>
    private string Emit(int[] outputs)
    {
        var names = new Dictionary<int, string>();
        var written = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = new StringBuilder();
        int counter = 0;
        string Name(int id)
        {
            if (names.TryGetValue(id, out var known)) return known;
            var value = _pool[id];
            if (value.Origin is not { } step) return names[id] = value.Input!;
            var fragment = step.Candidate.Production.Fragment;
            var local = new List<string>(step.Args.Select(Name));
            foreach (var op in fragment.Ops)
            {
                var inputs = op.Inputs.Select(i => local[i]).ToList();
                var call = op.Op is ExpertsOp e ? $"experts {Count(e.N)} {string.Join(",", e.Experts.Select(f => f.FuncName))} {e.Merge.FuncName}" : Call(op.Op);
                var key = call + "(" + string.Join(", ", inputs) + ")";
                if (written.TryGetValue(key, out var same))
                {
                    local.Add(same);
                    continue;
                }
                var name = $"t{counter++}";
                if (op.Op is ExpertsOp experts)
                {
                    lines.Append(CultureInfo.InvariantCulture, $"{name}_parts = step.Partition(N={Count(experts.N)}).apply(({inputs[0]}, {inputs[1]}))\n");
                    lines.Append(CultureInfo.InvariantCulture,
                        $"{name}_done = [step.Map(fn=f).apply(p) for f, p in zip([{string.Join(", ", experts.Experts.Select(f => f.FuncName))}], {name}_parts)]\n");
                    lines.Append(CultureInfo.InvariantCulture, $"{name} = step.Merge(fn={experts.Merge.FuncName}).apply(({name}_done, {inputs[1]}))\n");
                }
                else
                {
                    var apply = inputs.Count == 1 ? inputs[0] : $"({string.Join(", ", inputs)})";
                    lines.Append(CultureInfo.InvariantCulture, $"{name} = step.{call}.apply({apply})\n");
                }
                written[key] = name;
                local.Add(name);
            }
            return names[id] = local[^1];
        }
        var returned = outputs.Select(Name).ToList();
        lines.Append("return ").Append(string.Join(", ", returned)).Append('\n');
        return lines.ToString();
    }

    /// <summary>A count as upstream writes it: the global value that holds a dimension's size (<c>E_value</c>), or a literal.</summary>
    private static string Count(Dim n) => n switch
    {
        SymbolDim s => $"{s.Name}_value",
        ConstDim c => c.Value.ToString(CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"no count for {n}"),
    };

    private static string Call(StepOp op) => op switch
    {
        MapOp m => $"Map(fn={m.Fn.FuncName})",
        ZipOp => "Zip()",
        AccumOp a => $"Accum(fn={a.Fn.FuncName}, b={a.B})",
        ScanOp s => $"Scan(fn={s.Fn.FuncName}, b={s.B})",
        BufferizeOp b => $"Bufferize(a={b.A})",
        StreamifyOp => "Streamify()",
        PromoteOp p => $"Promote(b={p.B})",
        FlattenOp f => $"Flatten(L=[{string.Join(", ", f.L)}])",
        ReshapeOp r => $"Reshape(L=[{string.Join(", ", r.L)}], S={r.S})",
        RepeatOp r => $"Repeat(n={r.N})",
        RepeatRefOp => "RepeatRef()",
        _ => throw new InvalidOperationException($"the search does not build {op.Name}"),
    };
}
