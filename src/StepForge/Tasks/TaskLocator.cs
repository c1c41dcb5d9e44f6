using YamlDotNet.RepresentationModel;

namespace StepForge.Tasks;

/// <summary>A task file to process, and whether the user named it (rather than it being found in a folder).</summary>
public sealed record TaskFile(string Path, bool Named);

/// <summary>Turns the command line's files and folders into task files, in the order given.</summary>
public static class TaskLocator
{
    /// <summary>Files stay as given; folders are searched recursively for <c>*.yaml</c>/<c>*.yml</c>, sorted by path.</summary>
    /// <exception cref="TaskFileException">for a path that does not exist.</exception>
    public static IReadOnlyList<TaskFile> Expand(IEnumerable<string> paths)
    {
        var result = new List<TaskFile>();
        foreach (var given in paths)
        {
            var path = Bundled(given);
            if (Directory.Exists(path))
            {
                var found = Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
                    .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal);
                result.AddRange(found.Select(f => new TaskFile(f, Named: false)));
            }
            else if (File.Exists(path)) result.Add(new TaskFile(path, Named: true));
            else throw new TaskFileException(path, null, "no such file or folder");
        }
        return result;
    }

    /// <summary>The benchmark that ships beside the program (the .NET tool's package holds it), if it is there.</summary>
    public static string? BundledBenchmark =>
        Directory.Exists(Path.Combine(AppContext.BaseDirectory, "benchmark")) ? Path.Combine(AppContext.BaseDirectory, "benchmark") : null;

    /// <summary>
    /// <c>benchmark</c>, or a path under it such as <c>benchmark/rope</c>, means the bundled benchmark when no such file
    /// or folder exists where the user stands; a real one of that name wins.
    /// </summary>
    public static string Bundled(string path)
    {
        if (File.Exists(path) || Directory.Exists(path) || BundledBenchmark is not { } bundled) return path;
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).SkipWhile(p => p == ".").ToList();
        if (parts.Count == 0 || parts[0] != "benchmark") return path;
        var candidate = Path.Combine([bundled, .. parts.Skip(1)]);
        return File.Exists(candidate) || Directory.Exists(candidate) ? candidate : path;
    }

    /// <summary>
    /// Whether a YAML file found in a folder is meant as a task (a mapping with <c>outputs</c>); other YAML, such as
    /// upstream's function catalogue, is passed over. Unreadable files count as tasks so that their error is reported.
    /// </summary>
    public static bool LooksLikeTask(string path)
    {
        try
        {
            return YamlText.LoadRoot(File.ReadAllText(path)) is not YamlMappingNode map
                || map.Children.ContainsKey(new YamlScalarNode("outputs"))
                || map.Children.ContainsKey(new YamlScalarNode("inputs"));
        }
        catch (Exception e) when (e is YamlTextException or IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>
    /// The tasks to hand to a model: every task file found (folders searched as by <see cref="Expand"/>), where an
    /// upstream <c>X_ref.yaml</c> is passed over when its <c>X_test.yaml</c> is there (both hold the same task).
    /// </summary>
    /// <exception cref="TaskFileException">for a missing path or a malformed task file.</exception>
    public static IReadOnlyList<TaskSpec> LoadTasks(IEnumerable<string> paths)
    {
        var files = Expand(paths);
        var names = files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        List<TaskSpec> tasks =
        [
            .. files.Where(f => f.Named || LooksLikeTask(f.Path))
                .Where(f => f.Named || !f.Path.EndsWith("_ref.yaml", StringComparison.Ordinal) || !names.Contains(f.Path[..^"_ref.yaml".Length] + "_test.yaml"))
                .Select(f => TaskReader.ReadFile(f.Path)),
        ];
        // Results are kept by task name, and upstream reuses names (attention/G_0_9_01 and moe/G_0_9_01, even
        // moe/G_0_9_02 whose test_name is G_0_9_01): a name found more than once becomes FOLDER/FILE.
        var repeated = tasks.GroupBy(t => t.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        // Upstream files carry no group; their folder (attention, bmm, moe, ...) stands in, so results group by it.
        return [.. tasks.Select(t => t with
        {
            Name = repeated.Contains(t.Name) ? FileName(t.SourcePath) : t.Name,
            Group = t.Group ?? Folder(t.SourcePath),
        })];
    }

    private static string FileName(string path)
    {
        var stem = Path.GetFileNameWithoutExtension(path);
        foreach (var suffix in new[] { "_test", "_ref" })
            if (stem.EndsWith(suffix, StringComparison.Ordinal)) stem = stem[..^suffix.Length];
        return $"{Folder(path)}/{stem}";
    }

    private static string Folder(string path) => Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path)))!;
}
