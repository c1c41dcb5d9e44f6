namespace StepForge.Tests.Support;

/// <summary>Where the repository, the project's benchmark and the external upstream corpus are.</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string ProjectBenchmark => Path.Combine(RepoRoot, "benchmark");

    /// <summary>The upstream corpus beside the checkout (../shared/pcl-lite/benchmark), or STEPFORGE_UPSTREAM.</summary>
    public static string Upstream =>
        Environment.GetEnvironmentVariable("STEPFORGE_UPSTREAM") is { Length: > 0 } overridden
            ? overridden
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "pcl-lite", "benchmark"));

    public static bool HasUpstream => Directory.Exists(Upstream);

    public const string UpstreamMissing = "upstream corpus not found beside the checkout (../shared/pcl-lite/benchmark); set STEPFORGE_UPSTREAM to run these tests";

    public static IEnumerable<string> UpstreamFiles(string suffix) =>
        HasUpstream
            ? Directory.EnumerateFiles(Upstream, $"*{suffix}", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : [];

    /// <summary>A path relative to the upstream folder, as test case names.</summary>
    public static string Relative(string path) => Path.GetRelativePath(Upstream, path).Replace('\\', '/');

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "StepForge.slnx"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (StepForge.slnx) above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that needs the upstream corpus; skipped with a clear reason when it is missing.</summary>
public sealed class UpstreamFactAttribute : FactAttribute
{
    public UpstreamFactAttribute()
    {
        if (!TestPaths.HasUpstream) Skip = TestPaths.UpstreamMissing;
    }
}

/// <summary>A theory over upstream files; skipped with a clear reason when the corpus is missing.</summary>
public sealed class UpstreamTheoryAttribute : TheoryAttribute
{
    public UpstreamTheoryAttribute()
    {
        if (!TestPaths.HasUpstream) Skip = TestPaths.UpstreamMissing;
    }
}
