using StepForge.Agents;
using StepForge.Tasks;

namespace StepForge.Learning;

/// <summary>Which of a solved task's verified programs is shown as its demonstration.</summary>
public enum DemoChoice
{
    /// <summary>The shortest program text.</summary>
    Shortest,

    /// <summary>The cheapest by the cost model: fewest cycles, then fewest on-chip bytes (then the shortest).</summary>
    Cheapest,
}

/// <summary>A solved training task: how hard it was earned and the verified program it is shown with.</summary>
/// <param name="Correct">Correct samples out of <paramref name="Samples"/> in the iteration that solved it.</param>
public sealed record Experience(TaskSpec Task, int Correct, int Samples, string Program, int Iteration);

/// <summary>
/// Stratifies experiences by how hard they were earned and picks demonstrations hardest first. Stratum s holds the
/// tasks whose correct count c lies in (s*m, (s+1)*m] for granularity m: stratum 0 is the hardest (fewest correct).
/// Level L shows the L hardest non-empty strata, one demonstration (a verified program, by <see cref="DemoChoice"/>) per task.
/// </summary>
public static class DemoSelector
{
    public static int Stratum(Experience e, int granularity) => Math.Max(0, (e.Correct - 1) / Math.Max(1, granularity));

    /// <summary>The non-empty strata, hardest first, each ordered by task name.</summary>
    public static IReadOnlyList<IReadOnlyList<Experience>> Strata(IEnumerable<Experience> experiences, int granularity) =>
    [
        .. experiences.GroupBy(e => Stratum(e, granularity)).OrderBy(g => g.Key)
            .Select(g => (IReadOnlyList<Experience>)[.. g.OrderBy(e => e.Task.Name, StringComparer.Ordinal)]),
    ];

    public static IReadOnlyList<Demonstration> Select(IReadOnlyList<IReadOnlyList<Experience>> strata, int level) =>
        [.. strata.Take(level).SelectMany(s => s).Select(e => new Demonstration(e.Task, e.Program))];

    /// <summary>The program a solved task is shown with, among its correct samples.</summary>
    public static string Choose(IReadOnlyList<StoredSample> correct, DemoChoice choice)
    {
        var programs = correct.Where(s => s.FinalImpl is not null);
        // A correct sample stored without a cost (by an older StepForge) sorts after every costed one.
        var ordered = choice == DemoChoice.Cheapest
            ? programs.OrderBy(s => s.Performance?.Cycles ?? long.MaxValue).ThenBy(s => s.Performance?.OnChipBytes ?? long.MaxValue).ThenBy(s => s.FinalImpl!.Length)
            : programs.OrderBy(s => s.FinalImpl!.Length);
        return ordered.ThenBy(s => s.FinalImpl, StringComparer.Ordinal).First().FinalImpl!;
    }

    /// <summary>
    /// Every task the store holds a verified program for, with the one <paramref name="choice"/> picks, in task-name
    /// order: what a learner that was not part of the run can learn from.
    /// </summary>
    public static IReadOnlyList<Demonstration> FromStore(ExperienceStore store, DemoChoice choice = DemoChoice.Shortest)
    {
        var tasks = store.Tasks();
        return
        [
            .. store.Samples().Where(s => s.IsCorrect && s.FinalImpl is not null && tasks.ContainsKey(s.Key.Task))
                .GroupBy(s => s.Key.Task).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new Demonstration(tasks[g.Key], Choose([.. g], choice))),
        ];
    }
}
