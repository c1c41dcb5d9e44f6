using StepForge.Cost;

namespace StepForge.Learning;

/// <summary>One correct program of a task (programs of the same structure count once) and its cost.</summary>
/// <param name="Speedup">Reference cycles / this program's cycles, when the reference is costed.</param>
public sealed record ProgramFigures(string Program, int Samples, CostSummary Cost, double? Speedup);

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
    decimal? Cost)
{
    /// <summary>The cost of the task's cheapest correct program (fewest cycles, then fewest on-chip bytes); null for a group.</summary>
    public CostSummary? Best { get; init; }

    /// <summary>The cost of the task's reference program (its own impl:); null for a group or when it has none.</summary>
    public CostSummary? Reference { get; init; }

    /// <summary>Reference cycles / best cycles for a task; for a group, the geometric mean over its tasks that have one.</summary>
    public double? Speedup { get; init; }

    /// <summary>fast_p for each p: 1 or 0 for a task (a correct program at least p times as fast as the reference), the fraction for a group.</summary>
    public IReadOnlyDictionary<double, double> FastAt { get; init; } = new Dictionary<double, double>();

    /// <summary>The task's distinct correct programs with a cost, cheapest first.</summary>
    public IReadOnlyList<ProgramFigures> Programs { get; init; } = [];

    /// <summary>The experiment the samples belong to (an improve run's iterations count as its one experiment).</summary>
    public string Experiment { get; init; } = "";

    /// <summary>How many samples got each verdict (correct, wrong, unsolved, parse, ...), most frequent first.</summary>
    public IReadOnlyDictionary<string, int> Verdicts { get; init; } = new Dictionary<string, int>();
}

/// <summary>Per-task and per-group results of stored samples, with pass@k by the unbiased estimator.</summary>
public static class RunSummary
{
    /// <summary>fast_1 and fast_2 always, and any other p asked for, in order.</summary>
    public static IReadOnlyList<double> FastPs(IEnumerable<double>? extra = null) => [.. new[] { 1.0, 2.0 }.Concat(extra ?? []).Distinct().Order()];

    /// <param name="references">The reference program's cost per task name (tasks missing have no speedup and are never fast).</param>
    /// <param name="fastPs">The p of fast_p (default: 1 and 2).</param>
    public static IReadOnlyList<ResultRow> PerTask(IEnumerable<StoredSample> samples, IReadOnlyList<int> ks,
        IReadOnlyDictionary<string, CostSummary>? references = null, IReadOnlyList<double>? fastPs = null)
    {
        fastPs ??= FastPs();
        return
        [
            .. samples.GroupBy(s => (s.Key.Experiment, s.Key.Model, s.Key.Setting, s.Key.Task))
                .OrderBy(g => g.Key.Experiment, StringComparer.Ordinal).ThenBy(g => g.Key.Model, StringComparer.Ordinal).ThenBy(g => g.Key.Setting, StringComparer.Ordinal)
                .ThenBy(g => g.First().Group, StringComparer.Ordinal).ThenBy(g => g.Key.Task, StringComparer.Ordinal)
                .Select(g =>
                {
                    int n = g.Count(), c = g.Count(s => s.IsCorrect);
                    var reference = references?.GetValueOrDefault(g.Key.Task);
                    double? SpeedupOf(CostSummary cost) => reference is null || cost.Cycles == 0 ? null : (double)reference.Cycles / cost.Cycles;
                    // Programs of the same structure (names aside) have the same cost: one row each, cheapest first.
                    var programs = g.Where(s => s.IsCorrect && s.Performance is not null)
                        .GroupBy(s => s.Fingerprint ?? s.FinalImpl ?? "")
                        .Select(p =>
                        {
                            var first = p.OrderBy(s => s.FinalImpl?.Length ?? 0).ThenBy(s => s.FinalImpl, StringComparer.Ordinal).First();
                            return new ProgramFigures(first.FinalImpl ?? "", p.Count(), first.Performance!, SpeedupOf(first.Performance!));
                        })
                        .OrderBy(p => p.Cost.Cycles).ThenBy(p => p.Cost.OnChipBytes).ThenBy(p => p.Program.Length).ThenBy(p => p.Program, StringComparer.Ordinal)
                        .ToList();
                    var best = programs.FirstOrDefault();
                    return new ResultRow(g.Key.Task, g.First().Group, g.Key.Model, g.Key.Setting, 1, n, c,
                        g.Where(s => s.IsCorrect).Select(s => s.Fingerprint).Distinct().Count(), c > 0 ? 1 : 0,
                        ks.Where(k => k <= n).ToDictionary(k => k, k => PassAtK.Estimate(n, c, k)),
                        g.Sum(s => s.InputTokens), g.Sum(s => s.OutputTokens), SumCost(g))
                    {
                        Best = best?.Cost,
                        Reference = reference,
                        Speedup = best?.Speedup,
                        FastAt = fastPs.ToDictionary(p => p, p => best?.Speedup >= p ? 1.0 : 0.0),
                        Programs = programs,
                        Experiment = g.Key.Experiment,
                        Verdicts = CountVerdicts(g.Select(s => s.Verdict)),
                    };
                }),
        ];
    }

    /// <summary>Groups (and an "all" row per model and setting): pass@k is the mean over the group's tasks.</summary>
    public static IReadOnlyList<ResultRow> PerGroup(IReadOnlyList<ResultRow> tasks, IReadOnlyList<int> ks)
    {
        var rows = new List<ResultRow>();
        foreach (var run in tasks.GroupBy(t => (t.Experiment, t.Model, t.Setting)))
        {
            foreach (var group in run.GroupBy(t => t.Group ?? "(none)").OrderBy(g => g.Key, StringComparer.Ordinal))
                rows.Add(Combine(group.Key, run.Key.Model, run.Key.Setting, [.. group], ks) with { Experiment = run.Key.Experiment });
            rows.Add(Combine("all", run.Key.Model, run.Key.Setting, [.. run], ks) with { Experiment = run.Key.Experiment });
        }
        return rows;
    }

    private static ResultRow Combine(string name, string model, string setting, IReadOnlyList<ResultRow> rows, IReadOnlyList<int> ks)
    {
        var speedups = rows.Where(r => r.Speedup is not null).Select(r => r.Speedup!.Value).ToList();
        return new(name, null, model, setting, rows.Count, rows.Sum(r => r.Samples), rows.Sum(r => r.Correct), rows.Sum(r => r.UniqueCorrect),
            rows.Sum(r => r.Solved),
            ks.Where(k => rows.All(r => r.PassAt.ContainsKey(k))).ToDictionary(k => k, k => rows.Average(r => r.PassAt[k])),
            rows.Sum(r => r.InputTokens), rows.Sum(r => r.OutputTokens),
            rows.Any(r => r.Cost is null) ? null : rows.Sum(r => r.Cost!.Value))
        {
            // fast_p is over all the group's tasks: one without a correct (or costed) program is not fast.
            FastAt = rows[0].FastAt.Keys.ToDictionary(p => p, p => rows.Average(r => r.FastAt.GetValueOrDefault(p))),
            Speedup = speedups.Count == 0 ? null : Math.Exp(speedups.Average(Math.Log)),
            Verdicts = CountVerdicts(rows.SelectMany(r => r.Verdicts.SelectMany(v => Enumerable.Repeat(v.Key, v.Value)))),
        };
    }

    private static Dictionary<string, int> CountVerdicts(IEnumerable<string> verdicts) =>
        verdicts.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());

    private static decimal? SumCost(IEnumerable<StoredSample> samples) =>
        samples.Any(s => s.Cost is null) ? null : samples.Sum(s => s.Cost!.Value);
}
