namespace StepForge.Learning;

/// <summary>One row of a results table: a task, or a group of tasks, for one model and setting.</summary>
/// <param name="PassAt">pass@k for each requested k not above the sample count (mean over tasks for a group).</param>
/// <param name="Solved">Tasks with at least one correct sample (1 or 0 for a task row).</param>
public sealed record ResultRow(
    string Name,
    string? Group,
    string Model,
    string Setting,
    int Tasks,
    int Samples,
    int Correct,
    int UniqueCorrect,
    int Solved,
    IReadOnlyDictionary<int, double> PassAt,
    long InputTokens,
    long OutputTokens,
    decimal? Cost);

/// <summary>Per-task and per-group results of stored samples, with pass@k by the unbiased estimator.</summary>
public static class RunSummary
{
    public static IReadOnlyList<ResultRow> PerTask(IEnumerable<StoredSample> samples, IReadOnlyList<int> ks) =>
    [
        .. samples.GroupBy(s => (s.Key.Model, s.Key.Setting, s.Key.Task))
            .OrderBy(g => g.Key.Model, StringComparer.Ordinal).ThenBy(g => g.Key.Setting, StringComparer.Ordinal)
            .ThenBy(g => g.First().Group, StringComparer.Ordinal).ThenBy(g => g.Key.Task, StringComparer.Ordinal)
            .Select(g =>
            {
                int n = g.Count(), c = g.Count(s => s.IsCorrect);
                return new ResultRow(g.Key.Task, g.First().Group, g.Key.Model, g.Key.Setting, 1, n, c,
                    g.Where(s => s.IsCorrect).Select(s => s.Fingerprint).Distinct().Count(), c > 0 ? 1 : 0,
                    ks.Where(k => k <= n).ToDictionary(k => k, k => PassAtK.Estimate(n, c, k)),
                    g.Sum(s => s.InputTokens), g.Sum(s => s.OutputTokens), SumCost(g));
            }),
    ];

    /// <summary>Groups (and an "all" row per model and setting): pass@k is the mean over the group's tasks.</summary>
    public static IReadOnlyList<ResultRow> PerGroup(IReadOnlyList<ResultRow> tasks, IReadOnlyList<int> ks)
    {
        var rows = new List<ResultRow>();
        foreach (var run in tasks.GroupBy(t => (t.Model, t.Setting)))
        {
            foreach (var group in run.GroupBy(t => t.Group ?? "(none)").OrderBy(g => g.Key, StringComparer.Ordinal))
                rows.Add(Combine(group.Key, run.Key.Model, run.Key.Setting, [.. group], ks));
            rows.Add(Combine("all", run.Key.Model, run.Key.Setting, [.. run], ks));
        }
        return rows;
    }

    private static ResultRow Combine(string name, string model, string setting, IReadOnlyList<ResultRow> rows, IReadOnlyList<int> ks) =>
        new(name, null, model, setting, rows.Count, rows.Sum(r => r.Samples), rows.Sum(r => r.Correct), rows.Sum(r => r.UniqueCorrect),
            rows.Sum(r => r.Solved),
            ks.Where(k => rows.All(r => r.PassAt.ContainsKey(k))).ToDictionary(k => k, k => rows.Average(r => r.PassAt[k])),
            rows.Sum(r => r.InputTokens), rows.Sum(r => r.OutputTokens),
            rows.Any(r => r.Cost is null) ? null : rows.Sum(r => r.Cost!.Value));

    private static decimal? SumCost(IEnumerable<StoredSample> samples) =>
        samples.Any(s => s.Cost is null) ? null : samples.Sum(s => s.Cost!.Value);
}
