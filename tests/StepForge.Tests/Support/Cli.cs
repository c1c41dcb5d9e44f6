using System.Diagnostics;
using StepForge.Cli;

namespace StepForge.Tests.Support;

/// <summary>Runs the stepforge command line in-process, or as a child process (in a folder of its own, or for a test to kill).</summary>
public static class Cli
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        return (Invoke(args, stdout, stderr, new StringReader("")), stdout.ToString(), stderr.ToString());
    }

    /// <summary>The command line as a process would run it, to its exit code (tests wait for it as the shell would).</summary>
    public static int Invoke(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin) =>
        StepForgeCli.RunAsync(args, stdout, stderr, stdin).GetAwaiter().GetResult();

    /// <summary>Runs the built stepforge.dll as a child process in <paramref name="folder"/>, to its exit.</summary>
    public static (int Exit, string Out, string Err) RunIn(string folder, params string[] args) => RunIn(folder, new Dictionary<string, string?>(), args);

    /// <summary>
    /// Runs the built stepforge.dll as a child process in <paramref name="folder"/>, to its exit, with
    /// <paramref name="environment"/> over this process's environment (a null value removes the variable).
    /// </summary>
    public static (int Exit, string Out, string Err) RunIn(string folder, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var process = Start(args, defaultSigInt: false, folder, environment);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        return Outcome(process, output, error, "stepforge did not exit within ten minutes");
    }

    /// <summary>Starts the built stepforge.dll with the given arguments; kills it when <paramref name="killWhen"/> is set.</summary>
    public static void RunUntilKilled(string[] args, ManualResetEventSlim killWhen, string what)
    {
        using var process = Start(args, defaultSigInt: false);
        process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEndAsync();
        Assert.True(killWhen.Wait(TimeSpan.FromMinutes(10)), $"the run never reached {what} within ten minutes");
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>
    /// Starts the built stepforge.dll, sends it SIGINT (what Ctrl+C sends) once <paramref name="interruptWhen"/> is set,
    /// and returns how it ended.
    /// </summary>
    public static (int Exit, string Out, string Err) RunAndInterrupt(string[] args, ManualResetEventSlim interruptWhen, string what)
    {
        using var process = Start(args, defaultSigInt: true);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(interruptWhen.Wait(TimeSpan.FromMinutes(10)), $"the run never reached {what} within ten minutes");
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
            Assert.True(kill.ExitCode == 0, $"kill -INT {process.Id} exited {kill.ExitCode}");
        }
        return Outcome(process, output, error, "the run did not stop within ten minutes of SIGINT");
    }

    /// <summary>How a started child ended: its exit code and everything it wrote, once it exits (within ten minutes).</summary>
    private static (int Exit, string Out, string Err) Outcome(Process process, Task<string> output, Task<string> error, string stuck)
    {
        Assert.True(process.WaitForExit(600_000), stuck);
        return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }

    /// <summary>Starts the built stepforge.dll with the given arguments, its output redirected.</summary>
    /// <param name="defaultSigInt">Whether the child must get SIGINT's default disposition even where this process ignores it.</param>
    private static Process Start(string[] args, bool defaultSigInt, string? folder = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        // A suite started where SIGINT is ignored (a background job of a script) passes that on to its children, and a
        // process that starts with SIGINT ignored rightly keeps ignoring it, .NET included: the run would never see the
        // signal. GNU env gives the child SIGINT's default disposition before it execs (same process id), so that a
        // test of Ctrl+C checks what it does in a terminal wherever the suite runs.
        bool reset = defaultSigInt && SigIntIgnored();
        var start = new ProcessStartInfo(reset ? "env" : dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder ?? "" };
        if (reset)
        {
            start.ArgumentList.Add("--default-signal=INT");
            start.ArgumentList.Add(dotnet);
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "stepforge.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        return Process.Start(start)!;
    }

    /// <summary>Whether this process ignores SIGINT (bit 2 of SigIgn in /proc/self/status), and so would its children.</summary>
    private static bool SigIntIgnored()
    {
        if (!OperatingSystem.IsLinux()) return false;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (2 - 1))) != 0;
    }
}
