using StepForge.Agents;
using StepForge.Tasks;

namespace StepForge.Learning;

/// <summary>A solved training task: how hard it was earned and its shortest verified program.</summary>
/// <param name="Correct">Correct samples out of <paramref name="Samples"/> in the iteration that solved it.</param>
public sealed record Experience(TaskSpec Task, int Correct, int Samples, string Program, int Iteration);

/// <summary>
/// Stratifies experiences by how hard they were earned and picks demonstrations hardest first. Stratum s holds the
/// tasks whose correct count c lies in (s*m, (s+1)*m] for granularity m: stratum 0 is the hardest (fewest correct).
/// Level L shows the L hardest non-empty strata, one demonstration (the shortest verified program) per task.
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

    /// <summary>
    /// Every task the store holds a verified program for, with its shortest one (ties broken by the text), in task-name
    /// order: what a learner that was not part of the run can learn from.
    /// </summary>
    public static IReadOnlyList<Demonstration> FromStore(ExperienceStore store)
    {
        var tasks = store.Tasks();
        return
        [
            .. store.Samples().Where(s => s.IsCorrect && s.FinalImpl is not null && tasks.ContainsKey(s.Key.Task))
                .GroupBy(s => s.Key.Task).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new Demonstration(tasks[g.Key], g.Select(s => s.FinalImpl!).OrderBy(p => p.Length).ThenBy(p => p, StringComparer.Ordinal).First())),
        ];
    }
}
