using System.Diagnostics;
using StepForge.Cli;

namespace StepForge.Tests.Support;

/// <summary>Runs the stepforge command line in-process, or as a child process that a test can kill.</summary>
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

    /// <summary>Starts the built stepforge.dll with the given arguments; kills it when <paramref name="killWhen"/> is set.</summary>
    public static void RunUntilKilled(string[] args, ManualResetEventSlim killWhen, string what)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "stepforge.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
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
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "stepforge.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(interruptWhen.Wait(TimeSpan.FromMinutes(10)), $"the run never reached {what} within ten minutes");
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
            Assert.True(kill.ExitCode == 0, $"kill -INT {process.Id} exited {kill.ExitCode}");
        }
        Assert.True(process.WaitForExit(600_000), "the run did not stop within ten minutes of SIGINT");
        return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }
}
