using System.Runtime;
using StepForge.Tasks;

namespace StepForge.Tests.Tasks;

/// <summary>The collector a measurement ran under, as a bench reports it.</summary>
public class CollectorSettingsTests
{
    [Theory]
    [InlineData("A00000", 10L << 20)]
    [InlineData("0xa00000", 10L << 20)]
    [InlineData(" 0X400000 ", 4L << 20)]
    public void Gen0Size_IsReadAsTheRuntimeReadsIt_Hexadecimal(string text, long bytes) =>
        Assert.Equal(bytes, CollectorSettings.ParseGen0Size(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("ten megabytes")]
    public void Gen0Size_UnsetZeroOrNotANumber_LeavesTheBudgetToTheRuntime(string? text) =>
        Assert.Null(CollectorSettings.ParseGen0Size(text));

    [Fact]
    public void Describe_SaysTheKindTheHeapsTheGen0BudgetAndWhereItCameFrom()
    {
        var tuned = new CollectorSettings(Server: true, Heaps: 2, Concurrent: false, Gen0Size: 10L << 20, Gen0MaxBudget: 16L << 20, RegionSize: 16L << 20);
        Assert.Equal("server, 2 heaps, non-concurrent; gen0 budget 10 MiB (DOTNET_GCgen0size), at most 16 MiB; regions of 16 MiB", tuned.Describe());
        var plain = new CollectorSettings(Server: false, Heaps: 1, Concurrent: true, Gen0Size: null, Gen0MaxBudget: 0, RegionSize: 0);
        Assert.Equal("workstation, concurrent; gen0 budget the runtime's (DOTNET_GCgen0size unset)", plain.Describe());
    }

    [Fact]
    public void Current_IsThisProcesssCollector()
    {
        var current = CollectorSettings.Current();
        Assert.Equal(GCSettings.IsServerGC, current.Server);
        Assert.True(current.Heaps >= 1);
        Assert.Equal(GCSettings.LatencyMode != GCLatencyMode.Batch, current.Concurrent);
    }
}
