using StepForge.Cost;
using StepForge.Learning;

namespace StepForge.Reports;

/// <summary>Reads experience stores into a <see cref="Report"/>.</summary>
public static class ReportBuilder
{
    /// <param name="fastPs">The p of fast_p (default 1 and 2).</param>
    public static Report Build(IReadOnlyList<(string Path, ExperienceStore Store)> stores, IReadOnlyList<int> ks, IReadOnlyList<double>? fastPs = null)
    {
        fastPs ??= RunSummary.FastPs();
        var samples = new List<StoredSample>();
        var curves = new List<LearningCurve>();
        var references = new Dictionary<string, CostSummary>(StringComparer.Ordinal);
        foreach (var (path, store) in stores)
        {
            // A task's reference program is the same in every store that holds the task (its spec is stored with it).
            foreach (var (name, reference) in store.ReferenceCosts())
                if (reference.Cost is { } cost) references.TryAdd(name, cost);
            var all = store.Samples();
            // Samples of self-improvement iterations count under their run's name, so pass@k pools the iterations.
            samples.AddRange(all.Select(s => s with { Key = s.Key with { Experiment = RunOf(s.Key.Experiment) } }));
            curves.AddRange(Curves(path, store, all));
        }
        var tasks = RunSummary.PerTask(samples, ks, references, fastPs);
        var groups = RunSummary.PerGroup(tasks, ks);
        var solved = groups.Where(g => g.Name == "all").Select(g => new SolvedFraction(g.Model, g.Setting, g.Solved, g.Tasks)).ToList();
        return new Report([.. stores.Select(s => s.Path)], ks, tasks, groups, solved, curves, fastPs);
    }

    /// <summary>"NAME/iter-3" belongs to run NAME; any other experiment is its own run.</summary>
    public static string RunOf(string experiment) => SelfImprovement.RunOf(experiment);

    private static IEnumerable<LearningCurve> Curves(string path, ExperienceStore store, IReadOnlyList<StoredSample> samples)
    {
        foreach (var run in store.Iterations().GroupBy(i => i.Run))
        {
            var first = samples.FirstOrDefault(s => RunOf(s.Key.Experiment) == run.Key && s.Key.Experiment != run.Key);
            var tasks = run.First().Iteration.Sampled.Count;
            long input = 0, output = 0;
            var points = new List<CurvePoint>();
            int best = -1;
            foreach (var (_, it) in run.OrderBy(i => i.Iteration.Iteration))
            {
                input += it.InputTokens;
                output += it.OutputTokens;
                int solved = it.SolvedTrain + it.SolvedTest;
                // Tokens only grow along a run, so a point is Pareto-optimal exactly when it solves more than every earlier one.
                points.Add(new CurvePoint(it.Iteration, input, output, it.SolvedTrain, it.SolvedTest, solved > best));
                best = Math.Max(best, solved);
            }
            yield return new LearningCurve(path, run.Key, first?.Key.Model ?? "?", first?.Key.Setting ?? "?", tasks, points);
        }
    }
}
