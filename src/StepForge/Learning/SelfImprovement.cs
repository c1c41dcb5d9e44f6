using StepForge.Agents;
using StepForge.Tasks;

namespace StepForge.Learning;

/// <param name="Name">The run's name in the store; iteration i stores its samples as experiment "NAME/iter-i".</param>
/// <param name="Granularity">m: correct counts per stratum (1 = one stratum per count).</param>
/// <param name="TokenBudget">Stop before an iteration once this many input and output tokens are spent.</param>
/// <param name="Demos">Which verified program of a solved task is its demonstration.</param>
public sealed record ImproveOptions(
    string Name,
    SamplerOptions Sampling,
    int Granularity = 1,
    int MaxIterations = 20,
    long? TokenBudget = null,
    DemoChoice Demos = DemoChoice.Shortest);

/// <summary>One iteration of the loop, as the store and the learning curve keep it.</summary>
/// <param name="Level">How many strata the demonstrations came from (0 in the first iteration).</param>
/// <param name="Demonstrations">The tasks whose programs were shown, hardest stratum first.</param>
/// <param name="InputTokens">Spent in this iteration (cached answers count as when first bought).</param>
public sealed record IterationRecord(
    int Iteration,
    int Level,
    IReadOnlyList<string> Demonstrations,
    IReadOnlyList<string> Sampled,
    IReadOnlyList<string> NewlySolved,
    int SolvedTrain,
    int SolvedTest,
    long InputTokens,
    long OutputTokens);

/// <summary>Progress that wants to know when an iteration of the loop begins, and how many samples it will take.</summary>
public interface IIterationProgress
{
    void Iteration(int iteration, int samples);
}

public sealed record ImproveResult(IReadOnlyList<IterationRecord> Iterations, IReadOnlyDictionary<string, Experience> Solved, string StopReason);

/// <summary>
/// Adaptive self-improvement (Algorithm 1 of the paper): sample the unsolved tasks; a task is solved when a sample
/// verifies; solved training tasks become experiences, stratified by how hard they were earned; the next iteration
/// shows the hardest stratum's programs as demonstrations, and adds easier strata only when the harder ones bring no
/// new solved task. Stops when every task is solved, when every stratum has been tried without progress, at the
/// iteration limit or at the token budget. Test tasks are sampled alongside but never become demonstrations.
/// Resuming is replaying: every sample and answer is in the store, so a rerun recomputes the same iterations and
/// asks only what was never answered.
/// </summary>
public sealed class SelfImprovement(IProposer proposer, ExperienceStore store, ImproveOptions options)
{
    public async Task<ImproveResult> RunAsync(IReadOnlyList<TaskSpec> train, IReadOnlyList<TaskSpec> test,
        Action<IterationRecord>? onIteration = null, IProgress<SampleProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var overlap = train.Select(t => t.Name).Intersect(test.Select(t => t.Name)).ToList();
        if (overlap.Count > 0) throw new ArgumentException($"tasks in both the training and the test set: {string.Join(", ", overlap)}");
        store.AddTasks(train.Concat(test));
        var testNames = test.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var experiences = new Dictionary<string, Experience>(StringComparer.Ordinal);
        var solvedTest = new Dictionary<string, Experience>(StringComparer.Ordinal);
        var iterations = new List<IterationRecord>();
        // Demonstration sets already tried against the current unsolved set: trying one again would repeat its answers.
        var tried = new HashSet<string>(StringComparer.Ordinal);
        long spent = 0;
        int level = 0;
        string stop;
        for (int iteration = 0; ; iteration++)
        {
            var unsolved = train.Concat(test).Where(t => !experiences.ContainsKey(t.Name) && !solvedTest.ContainsKey(t.Name)).ToList();
            if (unsolved.Count == 0) { stop = "every task is solved"; break; }
            if (iteration >= options.MaxIterations) { stop = $"reached {options.MaxIterations} iterations"; break; }
            if (options.TokenBudget is { } budget && spent >= budget) { stop = $"spent {spent:N0} tokens, the budget is {budget:N0}"; break; }

            var strata = DemoSelector.Strata(experiences.Values, options.Granularity);
            IReadOnlyList<Demonstration> demos = [];
            if (iteration > 0)
            {
                level = Math.Max(level, 1);
                while (level <= strata.Count && !tried.Add(Signature(DemoSelector.Select(strata, level), unsolved))) level++;
                if (level > strata.Count) { stop = "every stratum was tried without a new solved task"; break; }
                demos = DemoSelector.Select(strata, level);
            }
            else tried.Add(Signature(demos, unsolved));

            var sampling = options.Sampling with { Experiment = IterationExperiment(options.Name, iteration) };
            (progress as IIterationProgress)?.Iteration(iteration, unsolved.Count * sampling.Temperatures.Count * sampling.Samples);
            await new Sampler(proposer, store, sampling).RunAsync(unsolved, _ => demos, progress, cancellationToken).ConfigureAwait(false);

            var samples = store.Samples(sampling.Experiment).Where(s => s.Key.Model == proposer.Id && s.Key.Setting == Settings.Name(sampling.Setting)).ToList();
            var newly = new List<string>();
            foreach (var task in unsolved)
            {
                var mine = samples.Where(s => s.Key.Task == task.Name).ToList();
                var correct = mine.Where(s => s.IsCorrect && s.FinalImpl is not null).ToList();
                if (correct.Count == 0) continue;
                var experience = new Experience(task, correct.Count, mine.Count, DemoSelector.Choose(correct, options.Demos), iteration);
                (testNames.Contains(task.Name) ? solvedTest : experiences)[task.Name] = experience;
                newly.Add(task.Name);
            }
            long input = samples.Sum(s => s.InputTokens), output = samples.Sum(s => s.OutputTokens);
            spent += input + output;
            var record = new IterationRecord(iteration, iteration == 0 ? 0 : level, [.. demos.Select(d => d.Task.Name)], [.. unsolved.Select(t => t.Name)],
                newly, experiences.Count, solvedTest.Count, input, output);
            store.RecordIteration(options.Name, record);
            iterations.Add(record);
            onIteration?.Invoke(record);
            // Progress on training tasks changes the strata: start again from the hardest.
            if (newly.Any(n => !testNames.Contains(n)))
            {
                level = 1;
                tried.Clear();
            }
            else if (iteration > 0) level++;
        }
        return new ImproveResult(iterations, experiences.Concat(solvedTest).ToDictionary(kv => kv.Key, kv => kv.Value), stop);
    }

    /// <summary>The experiment an iteration's samples are stored under.</summary>
    public static string IterationExperiment(string run, int iteration) => $"{run}/iter-{iteration}";

    /// <summary>"NAME/iter-3" belongs to run NAME; any other experiment is its own run.</summary>
    public static string RunOf(string experiment)
    {
        int at = experiment.LastIndexOf("/iter-", StringComparison.Ordinal);
        return at > 0 ? experiment[..at] : experiment;
    }

    private static string Signature(IReadOnlyList<Demonstration> demos, IReadOnlyList<TaskSpec> unsolved) =>
        string.Join(",", demos.Select(d => d.Task.Name)) + "|" + string.Join(",", unsolved.Select(t => t.Name));
}
