namespace StepForge.Tensors;

/// <summary>
/// The longest sum computed at each site of a computation: a reduction, a contraction or a fold, keyed by where it
/// happens (a call in a snippet, an operator of a program). The float32 rounding of a sum grows with its length, so
/// comparing a run's lengths with those at a task's own sizes tells how much wider the tolerance must be, and a
/// dimension nothing sums over widens nothing. Tracking is off (and free) unless a caller turns it on for its thread.
/// </summary>
public sealed class FoldLengths
{
    [ThreadStatic]
    private static FoldLengths? _current;

    [ThreadStatic]
    private static string? _site;

    private readonly Dictionary<string, long> _longest = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, long> Longest => _longest;

    /// <summary>Whether this thread records sums now (callers build site names only then).</summary>
    public static bool Active => _current is not null;

    /// <summary>Records the sums on this thread into <paramref name="lengths"/> until the scope is disposed.</summary>
    public static Scope Track(FoldLengths lengths)
    {
        var previous = (_current, _site);
        _current = lengths;
        _site = null;
        return new Scope(previous._current, previous._site);
    }

    /// <summary>Sums reported until the scope is disposed belong to <paramref name="site"/>.</summary>
    public static Scope At(string site)
    {
        var previous = (_current, _site);
        _site = site;
        return new Scope(previous._current, previous._site);
    }

    /// <summary>A sum of <paramref name="length"/> terms at the current site.</summary>
    public static void Report(long length)
    {
        if (_current is not { } lengths) return;
        var site = _site ?? "(top)";
        if (!lengths._longest.TryGetValue(site, out var known) || length > known) lengths._longest[site] = length;
    }

    /// <summary>Merges another computation's lengths (several seeds of one run).</summary>
    public void Add(FoldLengths other)
    {
        foreach (var (site, length) in other._longest)
            if (!_longest.TryGetValue(site, out var known) || length > known) _longest[site] = length;
    }

    /// <summary>
    /// How many times longer this run's sums are than those of <paramref name="baseline"/> at the same sites: the
    /// largest ratio, and never less than 1. A site the baseline lacks is left out (nothing to compare it with).
    /// </summary>
    public double GrowthOver(FoldLengths baseline)
    {
        double growth = 1;
        foreach (var (site, length) in _longest)
            if (baseline._longest.TryGetValue(site, out var own) && own > 0)
                growth = Math.Max(growth, (double)length / own);
        return growth;
    }

    public readonly struct Scope(FoldLengths? current, string? site) : IDisposable
    {
        public void Dispose()
        {
            _current = current;
            _site = site;
        }
    }
}
