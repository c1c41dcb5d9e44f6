using System.Diagnostics;

namespace StepForge.Tests.Support;

/// <summary>
/// Folders for the files a test writes (stores, tasks, reports, a packed tool). They all live under one folder per
/// test process, deleted as the process exits. The test runner may stop its host before that finishes (and a killed
/// run never starts it), so each run also deletes the folders of earlier runs that no longer run: the temp folder
/// holds at most the last run's files, not every run's.
/// </summary>
public static class Scratch
{
    private const string RootPrefix = "stepforge-tests-";
    private static readonly Lazy<string> Root = new(CreateRoot);
    private static int _count;

    /// <summary>A new empty folder; the prefix only helps a person find it while the suite runs.</summary>
    public static string Folder(string prefix = "")
    {
        var path = Path.Combine(Root.Value, $"{prefix}{Interlocked.Increment(ref _count)}");
        Directory.CreateDirectory(path);
        return path;
    }

    private static string CreateRoot()
    {
        DeleteLeftovers(Path.GetTempPath());
        var root = Path.Combine(Path.GetTempPath(), RootPrefix + Environment.ProcessId);
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true); // a dead run's folder under a reused id
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    }

    /// <summary>Folders of earlier test processes that no longer run (killed before they could clean up).</summary>
    internal static void DeleteLeftovers(string tempFolder)
    {
        foreach (var dir in Directory.EnumerateDirectories(tempFolder, RootPrefix + "*"))
        {
            if (!int.TryParse(Path.GetFileName(dir).AsSpan(RootPrefix.Length), out var pid) || pid == Environment.ProcessId) continue;
            if (!IsRunning(pid)) TryDelete(dir);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // Another process may still hold a file there; the next run deletes the folder.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
