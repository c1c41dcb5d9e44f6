using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Synthesis;

/// <summary>
/// The search's probabilistic grammar for one task, learned from demonstrations as Probe learns its: each production
/// kind has a probability (its frequency in the demonstrations, a demonstration counting more the more of the task's
/// fns it uses, mixed with a prior), each choice of fn or dim a probability (higher for a fn whose role, or a dim
/// whose name, the demonstrations used), and each learned piece a share of the library's probability. A candidate
/// costs the sum of -log2 of its choices' probabilities, in half-bits; the search enumerates values cheapest first.
/// Without demonstrations the prior alone orders the search.
/// </summary>
internal sealed class SearchModel
{
    /// <summary>Costs are whole numbers of half-bits: fine enough to order by, coarse enough for few levels.</summary>
    public const int UnitsPerBit = 2;

    /// <summary>The prior's share of the production probabilities once there are demonstrations.</summary>
    private const double PriorShare = 0.5;

    /// <summary>How much more likely a fn (or dim) is when the demonstrations used its role (or name) with the same op.</summary>
    private const double SeenBoost = 3;

    /// <summary>Probability mass of the learned pieces, when there are any.</summary>
    private const double LibraryShare = 0.4;

    /// <summary>Probability that a piece's fn slot takes a fn playing the role it played in the demonstrations, when one fits.</summary>
    private const double RoleKept = 0.85;

    /// <summary>How much more a piece weighs for each of its fn slots that a fn of the task fills as in the demonstrations.</summary>
    private const double RoleWeight = 2;

    /// <summary>Pieces the search applies at most: the heaviest, the rest would only slow every level down.</summary>
    public const int MaxPieces = 60;

    /// <summary>How much more a demonstration counts in the production probabilities for each fn of the task it shares.</summary>
    private const double SharedFnWeight = 8;

    private readonly SearchKnowledge _knowledge;
    private readonly double _kindShare;
    private readonly Dictionary<string, double> _kindCounts = new(StringComparer.Ordinal);
    private readonly double _productions;

    public SearchModel(SearchKnowledge knowledge, TaskSpec task)
    {
        _knowledge = knowledge;
        // Demonstrations that use this task's fns (by name or body) are the likelier guide to its program's shape.
        foreach (var (fns, kinds) in knowledge.Demonstrations)
        {
            double weight = 1 + SharedFnWeight * task.Fns.Count(f => fns.Any(r => r.Fits(f)));
            foreach (var (kind, count) in kinds)
            {
                _kindCounts[kind] = _kindCounts.GetValueOrDefault(kind) + weight * count;
                _productions += weight * count;
            }
        }
        // A piece is worth applying here when its slots can take this task's fns, and the demonstrations used it in
        // several tasks or it passes some fn of this task's.
        var usable = knowledge.Pieces
            .Where(p => p.Fits(task))
            .Select(p => (Piece: p, Roles: p.RolesIn(task)))
            // A two-hole piece is applied to pairs of values, which are many: only one that recurs across tasks earns that.
            .Where(p => (p.Roles > 0 || p.Piece.Tasks.Count >= 2) && (p.Piece.Holes == 1 || p.Piece.Tasks.Count >= 2))
            .Select(p => (p.Piece, Weight: p.Piece.Tasks.Count * Math.Pow(RoleWeight, p.Roles) * (p.Piece.Size - 1)))
            .OrderByDescending(p => p.Weight).ThenBy(p => p.Piece.Key, StringComparer.Ordinal)
            .Take(MaxPieces).ToList();
        double total = usable.Sum(p => p.Weight);
        Pieces = [.. usable.Select(p => (p.Piece, Bits: -Math.Log2(LibraryShare * p.Weight / total)))];
        _kindShare = usable.Count > 0 ? 1 - LibraryShare : 1;
    }

    /// <summary>The pieces the search applies to this task, with the bits of choosing each.</summary>
    public IReadOnlyList<(Piece Piece, double Bits)> Pieces { get; }

    /// <summary>Bits of choosing this kind of production.</summary>
    public double KindBits(string kind)
    {
        // Half the demonstrations' frequencies, half the prior: what was learned guides the search without ruling out
        // what the demonstrations happen not to show (no kind costs more than a bit over its prior).
        double prior = Math.Pow(2, -PriorBits(kind));
        double p = _productions > 0 ? (1 - PriorShare) * _kindCounts.GetValueOrDefault(kind) / _productions + PriorShare * prior : prior;
        return -Math.Log2(p * _kindShare);
    }

    /// <summary>Bits of this production's own choices (fns, dim) among the productions of its kind on the same arguments.</summary>
    public double ChoiceBits(Production chosen, IEnumerable<Production> sameKind)
    {
        double total = sameKind.Sum(Weight);
        return total <= 0 ? 0 : -Math.Log2(Weight(chosen) / total);
    }

    private double Weight(Production p)
    {
        double w = 1;
        var family = SearchKnowledge.Family(p.Kind);
        foreach (var fn in p.Fns) w *= _knowledge.FnSeen(family, fn) ? 1 + SeenBoost : 1;
        if (p.Dim is not null && _knowledge.DimCount(p.Dim.ToString()) > 0) w *= 1 + SeenBoost;
        return w;
    }

    /// <summary>Bits of filling a piece's slot with <paramref name="chosen"/> out of the <paramref name="fitting"/> candidates.</summary>
    public static double SlotBits<T>(T chosen, IReadOnlyList<T> fitting, Func<T, bool> playsRole)
    {
        int roles = fitting.Count(playsRole);
        if (roles == 0) return Math.Log2(Math.Max(1, fitting.Count));
        if (playsRole(chosen)) return -Math.Log2(RoleKept / roles);
        return fitting.Count == roles ? 0 : -Math.Log2((1 - RoleKept) / (fitting.Count - roles));
    }

    public static int Units(double bits) => Math.Max(1, (int)Math.Round(bits * UnitsPerBit, MidpointRounding.AwayFromZero));

    /// <summary>
    /// The prior, in bits: folds over the innermost dim, Maps and fused Zips are common in STeP programs; folds over
    /// several dims, splits and long flattens are rare. Roughly, every op costs as much as the next.
    /// </summary>
    public static double PriorBits(string kind)
    {
        static int Suffix(string kind, string prefix) =>
            int.TryParse(kind.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 9;
        return kind switch
        {
            "Map" => 2,
            "ZipMap" => 2.5,
            "Zip" or "Streamify" or "Experts" => 3.5,
            "Repeat" => 4,
            "RepeatRef" => 4.5,
            "Reshape" => 6,
            _ when kind.StartsWith("ZipAccum", StringComparison.Ordinal) => Suffix(kind, "ZipAccum") == 1 ? 3.5 : 6,
            _ when kind.StartsWith("ZipScan", StringComparison.Ordinal) => Suffix(kind, "ZipScan") == 1 ? 4.5 : 6.5,
            _ when kind.StartsWith("Accum", StringComparison.Ordinal) => Suffix(kind, "Accum") == 1 ? 3 : 5.5,
            _ when kind.StartsWith("Scan", StringComparison.Ordinal) => Suffix(kind, "Scan") == 1 ? 3.5 : 6,
            _ when kind.StartsWith("Bufferize", StringComparison.Ordinal) => Suffix(kind, "Bufferize") switch { 1 => 3.5, 2 => 4.5, _ => 5.5 },
            _ when kind.StartsWith("Broadcast", StringComparison.Ordinal) => Suffix(kind, "Broadcast") switch { 1 => 3.5, 2 => 4.5, _ => 5.5 },
            _ when kind.StartsWith("Promote", StringComparison.Ordinal) => 4.5,
            // "Flatten1-1" merges one dim with the next; longer runs are rarer.
            _ when kind.StartsWith("Flatten", StringComparison.Ordinal) => kind.Split('-') is [var first, var last] && first["Flatten".Length..] == last ? 4.5 : 5.5,
            _ => 6,
        };
    }

    /// <summary>The dims a piece's dim slot may take, and whether a name is one the demonstrations used there.</summary>
    public static bool DimPlaysRole(PieceStep step, Dim dim) => step.Dims.Contains(dim.ToString());

    /// <summary>Whether a fn plays one of the roles a piece's slot had.</summary>
    public static bool FnPlaysRole(IReadOnlySet<FnRole> slot, FnDecl fn) => slot.Any(r => r.Fits(fn));
}
