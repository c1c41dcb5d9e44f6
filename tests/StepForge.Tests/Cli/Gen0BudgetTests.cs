using System.Text.Json;
using StepForge.Cli;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cli;

/// <summary>The verifying commands run under a 10 MiB gen0 budget, which only the environment can give (Gen0Budget).</summary>
public class Gen0BudgetTests
{
    private static readonly Func<string, string?> NothingSet = _ => null;

    [Theory]
    [InlineData("improve", "benchmark/")]
    [InlineData("run", "benchmark/norm")]
    [InlineData("synthesize", "benchmark/norm")]
    [InlineData("bench", "verify", "benchmark")]
    public void TheCommandsThatVerifyInBulk_RunUnderTheLargerBudget(params string[] args) =>
        Assert.True(Gen0Budget.Wanted(args, NothingSet));

    [Theory]
    [InlineData]
    [InlineData("check", "a.yaml")]
    [InlineData("verify", "a.yaml")]
    [InlineData("cost", "a.yaml")]
    [InlineData("report", "runs/x.sqlite")]
    [InlineData("--version")]
    [InlineData("improve", "--help")]
    [InlineData("bench", "verify", "-h")]
    [InlineData("Improve", "benchmark/")]
    public void CommandsOfAFewProgramsHelpAndTheVersion_StartAsTheyAre(params string[] args) =>
        Assert.False(Gen0Budget.Wanted(args, NothingSet));

    [Theory]
    [InlineData("DOTNET_GCgen0size", "0")]
    [InlineData("DOTNET_GCgen0size", "0x400000")]
    [InlineData("COMPlus_GCgen0size", "400000")]
    public void ABudgetTheUserSet_IsLeftAlone(string variable, string value) =>
        Assert.False(Gen0Budget.Wanted(["improve", "benchmark/"], name => name == variable ? value : null));

    // That the process keeps its id, so that a signal sent to it reaches the command, is shown by
    // CommandLineTests.CtrlC_StopsARun_SayingWhereItsSamplesAre_AndTheSameCommandContinues: its `run` replaces itself
    // and gets SIGINT at the id the test started.
    [LinuxFact]
    public void OnLinux_ALongCommandReplacesItselfWithTheSameCommandUnderTheLargerBudget()
    {
        var folder = Scratch.Folder("gen0");
        var (exit, output, error) = Support.Cli.RunIn(folder, new Dictionary<string, string?> { ["DOTNET_GCgen0size"] = null, ["COMPlus_GCgen0size"] = null },
            "bench", "verify", Path.Combine(TestPaths.ProjectBenchmark, "norm", "rmsnorm.yaml"), "--seconds", "0.05", "--threads", "1", "--json");
        Assert.True(exit == 0, error);
        var collector = JsonDocument.Parse(output).RootElement.GetProperty("collector");
        Assert.Equal(0xA00000, collector.GetProperty("gen0_size").GetInt64());
        Assert.Contains("gen0 budget 10 MiB (DOTNET_GCgen0size)", collector.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [LinuxFact]
    public void OnLinux_ZeroInTheVariable_KeepsTheRuntimesOwnBudget()
    {
        var folder = Scratch.Folder("gen0");
        var (exit, output, error) = Support.Cli.RunIn(folder, new Dictionary<string, string?> { ["DOTNET_GCgen0size"] = "0" },
            "bench", "verify", Path.Combine(TestPaths.ProjectBenchmark, "norm", "rmsnorm.yaml"), "--seconds", "0.05", "--threads", "1", "--json");
        Assert.True(exit == 0, error);
        var collector = JsonDocument.Parse(output).RootElement.GetProperty("collector");
        Assert.Equal(JsonValueKind.Null, collector.GetProperty("gen0_size").ValueKind);
    }
}

/// <summary>A fact about Linux only (the process replacing itself); skipped elsewhere, saying so.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "the command replaces itself with execve on Linux only";
    }
}
