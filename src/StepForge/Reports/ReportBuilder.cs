using StepForge.Cost;
using StepForge.Learning;

namespace StepForge.Reports;

/// <summary>
/// Reads experience stores into a <see cref="Report"/>. Every experiment stays apart: rows and curves are per
/// experiment (and model and setting), and the only thing pooled is what the report says it pools, an improve run's
/// iterations under its one experiment. An experiment's name that is in several stores is labelled with its store.
/// </summary>
public static class ReportBuilder
{
    /// <param name="fastPs">The p of fast_p (default 1 and 2).</param>
    public static Report Build(IReadOnlyList<(string Path, ExperienceStore Store)> stores, IReadOnlyList<int> ks, IReadOnlyList<double>? fastPs = null,
        ReportOrigin? origin = null)
    {
        fastPs ??= RunSummary.FastPs();
        var read = stores.Select(s => (s.Path, s.Store, Samples: s.Store.Samples(), Recorded: s.Store.Experiments())).ToList();
        var names = read.SelectMany(r => r.Samples.Select(s => RunOf(s.Key.Experiment)).Concat(r.Recorded.Select(e => e.Name)).Distinct().Select(n => (r.Path, Name: n))).ToList();
        var shared = names.GroupBy(n => n.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        // Stores with the same file name in different folders are told apart by their whole path.
        var fileNames = stores.GroupBy(s => Path.GetFileName(s.Path)).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        string Label(string store, string name) =>
            !shared.Contains(name) ? name : $"{name} ({(fileNames.Contains(Path.GetFileName(store)) ? store : Path.GetFileName(store))})";

        var samples = new List<StoredSample>();
        var curves = new List<LearningCurve>();
        var experiments = new List<ReportedExperiment>();
        var references = new Dictionary<string, CostSummary>(StringComparer.Ordinal);
        foreach (var (path, store, all, recorded) in read)
        {
            // A task's reference program is the same in every store that holds the task (its spec is stored with it).
            foreach (var (name, reference) in store.ReferenceCosts())
                if (reference.Cost is { } cost) references.TryAdd(name, cost);
            // Samples of self-improvement iterations count under their run's name, so pass@k pools the iterations.
            samples.AddRange(all.Select(s => s with { Key = s.Key with { Experiment = Label(path, RunOf(s.Key.Experiment)) } }));
            var byName = recorded.ToDictionary(e => e.Name, StringComparer.Ordinal);
            foreach (var name in names.Where(n => n.Path == path).Select(n => n.Name).Order(StringComparer.Ordinal))
            {
                var record = byName.GetValueOrDefault(name);
                experiments.Add(new ReportedExperiment(path, name, Label(path, name), record?.Definition, record?.CommandLine, record?.Version, record?.Created));
            }
            curves.AddRange(Curves(path, store, all, byName, Label));
        }
        var tasks = RunSummary.PerTask(samples, ks, references, fastPs);
        var groups = RunSummary.PerGroup(tasks, ks);
        var solved = groups.Where(g => g.Name == "all").Select(g => new SolvedFraction(g.Model, g.Setting, g.Solved, g.Tasks) { Experiment = g.Experiment }).ToList();
        return new Report([.. stores.Select(s => s.Path)], ks, tasks, groups, solved, curves, fastPs) { Experiments = experiments, Origin = origin };
    }

    /// <summary>"NAME/iter-3" belongs to run NAME; any other experiment is its own run.</summary>
    public static string RunOf(string experiment) => SelfImprovement.RunOf(experiment);

    private static IEnumerable<LearningCurve> Curves(string path, ExperienceStore store, IReadOnlyList<StoredSample> samples,
        IReadOnlyDictionary<string, ExperimentRecord> recorded, Func<string, string, string> label)
    {
        foreach (var run in store.Iterations().GroupBy(i => i.Run))
        {
            var first = samples.FirstOrDefault(s => RunOf(s.Key.Experiment) == run.Key && s.Key.Experiment != run.Key);
            var iterations = run.Select(i => i.Iteration).OrderBy(i => i.Iteration).ToList();
            // The definition says which tasks were held out; without one (a store written by library code, or one
            // rebuilt from samples) the held-out tasks are known only by the ones solved.
            var definition = recorded.GetValueOrDefault(run.Key)?.Definition;
            int test = definition is { Reconstructed: false } ? definition.TestTasks.Count : iterations.Max(i => i.SolvedTest);
            int train = definition is { Reconstructed: false } ? definition.Tasks.Count : iterations[0].Sampled.Count - test;
            long input = 0, output = 0;
            var points = new List<CurvePoint>();
            int best = -1, bestTest = -1;
            foreach (var it in iterations)
            {
                input += it.InputTokens;
                output += it.OutputTokens;
                // Tokens only grow along a run, so a point is Pareto-optimal exactly when it solves more than every earlier one.
                points.Add(new CurvePoint(it.Iteration, input, output, it.SolvedTrain, it.SolvedTest, it.SolvedTrain > best, test > 0 && it.SolvedTest > bestTest));
                best = Math.Max(best, it.SolvedTrain);
                bestTest = Math.Max(bestTest, it.SolvedTest);
            }
            yield return new LearningCurve(path, run.Key, first?.Key.Model ?? definition?.Model ?? "?", first?.Key.Setting ?? definition?.Setting ?? "?", train, points)
            {
                Experiment = label(path, run.Key),
                TestTasks = test,
            };
        }
    }
}
