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
        return (StepForgeCli.Run(args, stdout, stderr, new StringReader("")), stdout.ToString(), stderr.ToString());
    }

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
        Assert.True(killWhen.Wait(TimeSpan.FromSeconds(60)), $"the run never reached {what}");
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }
}
