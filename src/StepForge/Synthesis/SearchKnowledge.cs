using System.Globalization;
using System.Text;
using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Synthesis;

/// <summary>A solved task and one of its verified programs: what the search learns from.</summary>
public sealed record SolvedExample(TaskSpec Task, string Program);

/// <summary>
/// A fn as the part it plays: another task's fn with the same name or the same body plays the same part. Its
/// signature's shape (scalar, buffer of some rank, index or tuple in and out, with or without a state), names aside,
/// tells which fns could take its place at all.
/// </summary>
internal sealed record FnRole(string FuncName, string Body, string Signature)
{
    public static FnRole Of(FnDecl fn) => new(fn.FuncName, Normalize(fn.Apply), SignatureOf(fn));

    public bool Fits(FnDecl fn) => fn.FuncName == FuncName || Normalize(fn.Apply) == Body;

    public static string SignatureOf(FnDecl fn) => $"{Shape(fn.Input)}->{Shape(fn.Output)}{(fn.HasInit ? "*" : "")}";

    private static string Shape(DType d) => d switch
    {
        BufferType b => $"B{b.Shape.Count}({Shape(b.Element)})",
        MultihotType => "M",
        TupleType t => "(" + string.Join(",", t.Items.Select(Shape)) + ")",
        _ => "s",
    };

    private static string Normalize(string body) => string.Concat(body.Where(c => !char.IsWhiteSpace(c)));
}

/// <summary>One production of a piece: its kind, where its arguments come from (the piece's holes first, then earlier steps),
/// and the fns and dims the demonstrations passed it, which the search prefers when it applies the piece.</summary>
internal sealed record PieceStep(string Kind, ValueList<int> Inputs, IReadOnlyList<IReadOnlySet<FnRole>> Fns, IReadOnlySet<string> Dims);

/// <summary>
/// A learned piece (a library abstraction, as in DreamCoder's inventions): a connected subgraph of two or more productions taken from
/// demonstrations, with its fns, dims and input streams abstracted. The search applies it as one step to any values
/// its types fit, with any fns and dims of the task that type-check, preferring the ones the demonstrations used.
/// </summary>
/// <param name="Key">The piece's structure; pieces of the same structure from several demonstrations are one piece.</param>
/// <param name="Tasks">The demonstrations' tasks it was found in.</param>
internal sealed record Piece(string Key, int Holes, IReadOnlyList<PieceStep> Steps, IReadOnlyList<string> Tasks)
{
    public int Size => Steps.Count;

    /// <summary>Fn slots whose demonstrated role one of the task's fns plays.</summary>
    public int RolesIn(TaskSpec task) => Steps.Sum(s => s.Fns.Count(slot => task.Fns.Any(f => slot.Any(r => r.Fits(f)))));

    /// <summary>Whether every fn slot can be filled with one of the task's fns of a signature the demonstrations' fns had.</summary>
    public bool Fits(TaskSpec task)
    {
        var signatures = task.Fns.Select(FnRole.SignatureOf).ToHashSet(StringComparer.Ordinal);
        return Steps.All(s => s.Fns.All(slot => slot.Any(r => signatures.Contains(r.Signature))));
    }

    public override string ToString() => Key;
}

/// <summary>
/// What the search learned from demonstrations (verified programs of solved tasks): how often each production of its
/// grammar was used (per demonstration), which fns (by role) each op was given, which dims were repeated along, and
/// pieces of two to <see cref="MaxPieceSize"/> productions. <see cref="SearchModel"/> turns this into costs for one task.
/// </summary>
public sealed class SearchKnowledge
{
    /// <summary>Productions a piece may hold: larger pieces are rarer and each costs a search step to apply.</summary>
    public const int MaxPieceSize = 8;

    /// <summary>Distinct argument streams a piece may take.</summary>
    public const int MaxHoles = 2;

    private readonly Dictionary<string, int> _kindCounts = new(StringComparer.Ordinal);
    private readonly List<(IReadOnlyList<FnRole> Fns, Dictionary<string, int> Kinds)> _demonstrations = [];
    private readonly Dictionary<string, HashSet<FnRole>> _fnRoles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _dimCounts = new(StringComparer.Ordinal);
    private readonly List<Piece> _pieces = [];

    public static readonly SearchKnowledge None = new();

    private SearchKnowledge()
    {
    }

    /// <summary>Demonstrations learned from; <see cref="Unreadable"/> more did not bind in their task and were passed over.</summary>
    public IReadOnlyList<string> Tasks { get; private set; } = [];

    public int Unreadable { get; private set; }

    /// <summary>Productions counted over all demonstrations.</summary>
    public int Productions { get; private set; }

    internal IReadOnlyDictionary<string, int> KindCounts => _kindCounts;

    /// <summary>Each demonstration's fns and production counts, so a task can weigh the demonstrations that share its fns.</summary>
    internal IReadOnlyList<(IReadOnlyList<FnRole> Fns, Dictionary<string, int> Kinds)> Demonstrations => _demonstrations;

    internal IReadOnlyList<Piece> Pieces => _pieces;

    public int PieceCount => _pieces.Count;

    /// <summary>Whether a fn playing this fn's role was passed to an op of this family ("Map", "Accum", "Scan", "Experts") in a demonstration.</summary>
    internal bool FnSeen(string family, FnDecl fn) => _fnRoles.TryGetValue(family, out var roles) && roles.Any(r => r.Fits(fn));

    /// <summary>Times a dim of this name was repeated along in the demonstrations.</summary>
    internal int DimCount(string name) => _dimCounts.GetValueOrDefault(name);

    /// <summary>The op family a production passes its fns to.</summary>
    internal static string Family(string kind) =>
        kind.StartsWith("ZipAccum", StringComparison.Ordinal) || kind.StartsWith("Accum", StringComparison.Ordinal) ? "Accum"
        : kind.StartsWith("ZipScan", StringComparison.Ordinal) || kind.StartsWith("Scan", StringComparison.Ordinal) ? "Scan"
        : kind == "Experts" ? "Experts"
        : "Map";

    /// <summary>Learns from the examples, in the order given (the order changes nothing but the order of pieces of equal weight).</summary>
    public static SearchKnowledge Learn(IEnumerable<SolvedExample> examples)
    {
        var k = new SearchKnowledge();
        var byKey = new Dictionary<string, (int Holes, List<PieceStep> Steps, List<string> Tasks)>(StringComparer.Ordinal);
        var order = new List<string>();
        var tasks = new List<string>();
        foreach (var example in examples)
        {
            var graph = ProductionGraph.Read(example.Task with { Impl = null }, example.Program);
            if (graph is null)
            {
                k.Unreadable++;
                continue;
            }
            tasks.Add(example.Task.Name);
            var mine = new Dictionary<string, int>(StringComparer.Ordinal);
            k._demonstrations.Add(([.. example.Task.Fns.Select(FnRole.Of)], mine));
            foreach (var use in graph.Uses)
            {
                k._kindCounts[use.Kind] = k._kindCounts.GetValueOrDefault(use.Kind) + 1;
                mine[use.Kind] = mine.GetValueOrDefault(use.Kind) + 1;
                k.Productions++;
                var family = Family(use.Kind);
                if (!k._fnRoles.TryGetValue(family, out var roles)) k._fnRoles[family] = roles = [];
                foreach (var fn in use.Fns) roles.Add(FnRole.Of(fn));
                if (use.Dim is SymbolDim or ConstDim) k._dimCounts[use.Dim.ToString()!] = k.DimCount(use.Dim.ToString()!) + 1;
            }
            foreach (var (key, holes, steps) in Cut(graph))
            {
                if (!byKey.TryGetValue(key, out var entry))
                {
                    byKey[key] = entry = (holes, [.. steps.Select(s => s with { Fns = [.. s.Fns.Select(f => (IReadOnlySet<FnRole>)new HashSet<FnRole>(f))], Dims = new HashSet<string>(s.Dims, StringComparer.Ordinal) })], []);
                    order.Add(key);
                }
                else
                    for (int i = 0; i < steps.Count; i++)
                    {
                        for (int f = 0; f < steps[i].Fns.Count; f++) ((HashSet<FnRole>)entry.Steps[i].Fns[f]).UnionWith(steps[i].Fns[f]);
                        ((HashSet<string>)entry.Steps[i].Dims).UnionWith(steps[i].Dims);
                    }
                if (!entry.Tasks.Contains(example.Task.Name)) entry.Tasks.Add(example.Task.Name);
            }
        }
        k.Tasks = tasks;
        foreach (var key in order)
        {
            var (holes, steps, from) = byKey[key];
            k._pieces.Add(new Piece(key, holes, steps, from));
        }
        return k;
    }

    /// <summary>
    /// Every piece of a program: connected sets of two to <see cref="MaxPieceSize"/> productions that end in one of them
    /// (the others are its arguments' producers, transitively) and read at most <see cref="MaxHoles"/> streams from outside.
    /// A production inside a piece may also be read from outside it: a program using the piece then computes it again.
    /// </summary>
    private static IEnumerable<(string Key, int Holes, List<PieceStep> Steps)> Cut(ProductionGraph graph)
    {
        var uses = graph.Uses;
        var producer = new Dictionary<int, int>();
        for (int i = 0; i < uses.Count; i++) producer[uses[i].Result] = i;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<(string, int, List<PieceStep>)>();

        void Grow(int sink, SortedSet<int> set)
        {
            if (!seen.Add(sink + ":" + string.Join(",", set))) return;
            if (set.Count >= 2 && Render(sink, set) is { } piece) result.Add(piece);
            if (set.Count == MaxPieceSize) return;
            foreach (var u in set.ToList())
                foreach (var a in uses[u].Args)
                    if (producer.TryGetValue(a, out var p) && !set.Contains(p))
                    {
                        var bigger = new SortedSet<int>(set) { p };
                        Grow(sink, bigger);
                    }
        }

        (string, int, List<PieceStep>)? Render(int sink, SortedSet<int> set)
        {
            // Steps in the order a depth-first walk from the sink's arguments finishes them; holes in the order met.
            var index = new Dictionary<int, int>();
            var holes = new List<int>();
            var steps = new List<(int Use, int[] Inputs)>();
            int Visit(int use)
            {
                if (index.TryGetValue(use, out var known)) return known;
                var inputs = new List<int>();
                foreach (var a in uses[use].Args)
                {
                    if (producer.TryGetValue(a, out var p) && set.Contains(p)) inputs.Add(-1 - Visit(p));
                    else
                    {
                        int h = holes.IndexOf(a);
                        if (h < 0) { holes.Add(a); h = holes.Count - 1; }
                        inputs.Add(h);
                    }
                }
                steps.Add((use, [.. inputs]));
                return index[use] = steps.Count - 1;
            }
            Visit(sink);
            if (holes.Count > MaxHoles) return null;
            var key = new StringBuilder().Append(holes.Count.ToString(CultureInfo.InvariantCulture)).Append(':');
            var pieceSteps = new List<PieceStep>();
            foreach (var (use, raw) in steps)
            {
                // Step results are numbered after the holes.
                var inputs = raw.Select(i => i >= 0 ? i : holes.Count + (-1 - i)).ToArray();
                var u = uses[use];
                var kind = u.Kind == "Experts" ? $"Experts{u.Fns.Count - 1}" : u.Kind;
                key.Append(kind).Append('(').AppendJoin(",", inputs).Append(')').Append(';');
                pieceSteps.Add(new PieceStep(u.Kind, new ValueList<int>(inputs), [.. u.Fns.Select(f => (IReadOnlySet<FnRole>)new HashSet<FnRole> { FnRole.Of(f) })],
                    u.Dim is null ? new HashSet<string>() : new HashSet<string>(StringComparer.Ordinal) { u.Dim.ToString()! }));
            }
            return (key.ToString(), holes.Count, pieceSteps);
        }

        for (int v = 0; v < uses.Count; v++) Grow(v, [v]);
        return result;
    }

    /// <summary>One line on what was learned, for the answer's statistics.</summary>
    public string Describe() => Tasks.Count == 0
        ? "no demonstrations"
        : $"learned from {Tasks.Count} demonstration(s): {Productions} productions of {_kindCounts.Count} kinds, {_pieces.Count} pieces" +
          (Unreadable > 0 ? $" ({Unreadable} demonstration(s) did not bind and were passed over)" : "");
}
