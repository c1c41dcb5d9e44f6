using System.Security.Cryptography;
using System.Text;
using StepForge.Tasks;

namespace StepForge.Learning;

/// <summary>
/// What defines an experiment, so that one name in a store always means one experiment: the command, the model and
/// setting, the tasks and held-out tasks by content, and the options that change results (samples, temperatures,
/// trials, feedback, guardian, budgets, demonstrations, ...), each as the command line writes it.
/// </summary>
/// <param name="Tasks">Training tasks (all tasks of a run): name → content hash.</param>
/// <param name="TestTasks">Held-out tasks of improve: name → content hash.</param>
/// <param name="Options">Option → value as given or defaulted, e.g. <c>--samples</c> → <c>4</c>.</param>
/// <param name="Reconstructed">
/// Rebuilt from the samples of a store made before definitions were recorded: its model or setting is null when
/// several were used, its tasks are those sampled (the ones a full definition has, or some of them), its options are
/// unknown. The first command that continues it records its whole definition.
/// </param>
public sealed record ExperimentDefinition(
    string Command,
    string? Model,
    string? Setting,
    IReadOnlyDictionary<string, string> Tasks,
    IReadOnlyDictionary<string, string> TestTasks,
    IReadOnlyDictionary<string, string> Options,
    bool Reconstructed = false)
{
    /// <summary>A task's content hash: its file as StepForge writes it (so a task read from another path or folder is the same task).</summary>
    public static string Digest(TaskSpec task) => DigestOf(TaskWriter.Write(task));

    /// <summary>The hash of a task's text as the store keeps it.</summary>
    public static string DigestOf(string spec) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(spec)))[..16];

    public static IReadOnlyDictionary<string, string> Digests(IEnumerable<TaskSpec> tasks) =>
        tasks.OrderBy(t => t.Name, StringComparer.Ordinal).ToDictionary(t => t.Name, Digest, StringComparer.Ordinal);

    /// <summary>
    /// The first way in which <paramref name="given"/> differs from this (stored) definition, in words; null when
    /// it is the same experiment. A reconstructed definition is compared on what it knows.
    /// </summary>
    public string? Difference(ExperimentDefinition given)
    {
        if (Command != given.Command) return $"it was made by stepforge {Command}, this is stepforge {given.Command}";
        if (Model is not null && Model != given.Model) return $"its model is {Model}, this one is {given.Model}";
        if (Setting is not null && Setting != given.Setting) return $"its setting is {Setting}, this one is {given.Setting}";
        if (Reconstructed)
        {
            // Only the tasks sampled were recorded, training and held-out alike.
            var all = given.Tasks.Concat(given.TestTasks).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            return TaskDifference("tasks", Tasks, all, onlyMissing: true);
        }
        return TaskDifference("tasks", Tasks, given.Tasks, onlyMissing: false)
            ?? TaskDifference("held-out tasks (--test)", TestTasks, given.TestTasks, onlyMissing: false)
            ?? OptionDifference(given);
    }

    private static string? TaskDifference(string what, IReadOnlyDictionary<string, string> stored, IReadOnlyDictionary<string, string> given, bool onlyMissing)
    {
        var missing = stored.Keys.Where(k => !given.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var added = onlyMissing ? [] : given.Keys.Where(k => !stored.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var changed = stored.Keys.Where(k => given.TryGetValue(k, out var hash) && hash != stored[k]).Order(StringComparer.Ordinal).ToList();
        if (missing.Count == 0 && added.Count == 0 && changed.Count == 0) return null;
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"{missing.Count} of its {what} are not given ({Names(missing)})");
        if (added.Count > 0) parts.Add($"{added.Count} given {what} are not in it ({Names(added)})");
        if (changed.Count > 0) parts.Add($"{changed.Count} of its {what} changed since ({Names(changed)})");
        return string.Join(", and ", parts);
    }

    private string? OptionDifference(ExperimentDefinition given)
    {
        foreach (var key in Options.Keys.Concat(given.Options.Keys).Distinct())
        {
            var mine = Options.GetValueOrDefault(key);
            var theirs = given.Options.GetValueOrDefault(key);
            if (mine != theirs) return $"it has {key} {mine ?? "(not set)"}, this has {key} {theirs ?? "(not set)"}";
        }
        return null;
    }

    private static string Names(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(3)) + (names.Count > 3 ? $" and {names.Count - 3} more" : "");
}

/// <summary>An experiment as the store keeps it.</summary>
/// <param name="CommandLine">The command line that made it (null for a store from before definitions).</param>
/// <param name="Version">The StepForge version (with its commit) that made it.</param>
/// <param name="Created">When it was made (ISO 8601, UTC).</param>
public sealed record ExperimentRecord(string Name, ExperimentDefinition Definition, string? CommandLine, string? Version, string Created);

/// <summary>The outcome of opening an experiment by name.</summary>
public enum ExperimentOpening
{
    /// <summary>No experiment of that name: it was recorded.</summary>
    Created,

    /// <summary>The same definition: the experiment continues.</summary>
    Resumed,

    /// <summary>Another definition under that name: refused, nothing changed.</summary>
    Refused,
}
