using System.Diagnostics;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cli;

/// <summary>
/// The .NET tool: <c>dotnet pack</c> makes the stepforge package, <c>dotnet tool install</c> puts it in a tool folder,
/// and there, from a folder outside the repository, it answers --help and verifies the benchmark it carries.
/// </summary>
public class PackagedToolTests
{
    private static (int Exit, string Out, string Err) Dotnet(string workingDirectory, params string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return Start(dotnet, workingDirectory, args);
    }

    private static (int Exit, string Out, string Err) Start(string file, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in args) start.ArgumentList.Add(a);
        // The tool's own settings, not the test host's (which may point MSBuild at this test run).
        foreach (var key in new[] { "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "VSTEST_HOST_DEBUG" }) start.Environment.Remove(key);
        // The SDK leaves empty folders in the temp folder on every pack and install; these go with the test's scratch.
        start.Environment["TMPDIR"] = Scratch.Folder("tmp-");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void ThePackedTool_InstallsAndVerifiesItsBundledBenchmark_FromAnEmptyFolder()
    {
        var work = Scratch.Folder("stepforge-tool-");
        var packages = Path.Combine(work, "packages");
        var tools = Path.Combine(work, "tools");
        var elsewhere = Directory.CreateDirectory(Path.Combine(work, "elsewhere")).FullName;
        // A version of its own, so the install cannot find an older build of the same version in the package cache.
        var version = $"0.0.1-test.{Guid.NewGuid():N}";

        try
        {
            PackInstallAndRun(work, packages, tools, elsewhere, version);
        }
        finally
        {
            // Each run leaves a uniquely versioned copy in the package cache; it is of no use to anyone afterwards.
            var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } root ? root
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var cached = Path.Combine(cache, "stepforge", version.ToLowerInvariant());
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
            Directory.Delete(work, recursive: true); // the package and the installed tool, 130 MB
        }
    }

    private static void PackInstallAndRun(string work, string packages, string tools, string elsewhere, string version)
    {
        var pack = Dotnet(TestPaths.RepoRoot, "pack", Path.Combine("src", "StepForge.Cli"), "-c", "Release", "-o", packages, $"-p:Version={version}");
        Assert.True(pack.Exit == 0, pack.Out + pack.Err);
        Assert.True(File.Exists(Path.Combine(packages, $"stepforge.{version}.nupkg")), string.Join(", ", Directory.GetFiles(packages)));

        var install = Dotnet(elsewhere, "tool", "install", "stepforge", "--tool-path", tools, "--add-source", packages, "--version", version);
        Assert.True(install.Exit == 0, install.Out + install.Err);

        var stepforge = Path.Combine(tools, OperatingSystem.IsWindows() ? "stepforge.exe" : "stepforge");
        var help = Start(stepforge, elsewhere, "--help");
        Assert.Equal(0, help.Exit);
        Assert.Contains("verify", help.Out, StringComparison.Ordinal);

        var verify = Start(stepforge, elsewhere, "verify", "benchmark/rope");
        Assert.True(verify.Exit == 0, verify.Out + verify.Err);
        Assert.Contains("3 checked: 3 correct", verify.Out, StringComparison.Ordinal);

        var versionText = Start(stepforge, elsewhere, "--version");
        Assert.StartsWith(version, versionText.Out.Trim(), StringComparison.Ordinal);
    }
}
