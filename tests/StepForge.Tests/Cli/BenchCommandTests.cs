using System.Text.Json;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cli;

/// <summary><c>stepforge bench verify</c>: its figures are printed, and a failing task is reported, not measured.</summary>
public class BenchCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    [Fact]
    public void Json_HasEveryRatePerTaskAndTheSummaries()
    {
        var (exit, output, _) = Run("bench", "verify", Path.Combine(TestPaths.ProjectBenchmark, "index"), "--seconds", "0.05", "--threads", "2", "--json");
        Assert.Equal(0, exit);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(2, json.GetProperty("threads").GetInt32());
        var tasks = json.GetProperty("tasks").EnumerateArray().ToList();
        Assert.Equal(4, tasks.Count);
        foreach (var task in tasks)
        {
            foreach (var rate in new[] { "single_thread_rate", "multi_thread_rate", "reuse_rate" })
                Assert.True(task.GetProperty(rate).GetDouble() > 0, rate);
            Assert.True(task.GetProperty("allocated_bytes_per_verification").GetInt64() > 0);
            Assert.True(task.GetProperty("median_ms").GetDouble() <= task.GetProperty("worst_ms").GetDouble());
            foreach (var share in new[] { "gc_share", "multi_gc_share" })
                Assert.InRange(task.GetProperty(share).GetDouble(), 0, 1);
        }
        Assert.True(json.GetProperty("mean_single_thread_rate").GetDouble() > 0);
        var collector = json.GetProperty("collector");
        Assert.Equal(System.Runtime.GCSettings.IsServerGC, collector.GetProperty("server").GetBoolean());
        Assert.True(collector.GetProperty("heaps").GetInt32() >= 1);
        Assert.False(string.IsNullOrEmpty(collector.GetProperty("description").GetString()));
        Assert.StartsWith(Path.Combine(TestPaths.ProjectBenchmark, "index"), json.GetProperty("slowest_task").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void WithOtherSizes_EachTaskIsAlsoTimedAtItsOwn_AndTheGrowthOfTimeAndDataIsPrinted()
    {
        var task = Path.Combine(TestPaths.ProjectBenchmark, "index", "softmax-top1.yaml");
        var (exit, output, _) = Run("bench", "verify", task, "--seconds", "0.05", "--threads", "1", "--size", "M=100", "--json");
        Assert.Equal(0, exit);
        var entry = JsonDocument.Parse(output).RootElement.GetProperty("tasks")[0];
        var own = entry.GetProperty("baseline");
        Assert.True(own.GetProperty("median_ms").GetDouble() > 0);
        Assert.True(own.GetProperty("mean_ms").GetDouble() > 0);
        Assert.InRange(entry.GetProperty("gc_share").GetDouble(), 0, 1);
        // 20 times M: the data grows about 20 times.
        double growth = (double)entry.GetProperty("elements").GetInt64() / own.GetProperty("elements").GetInt64();
        Assert.InRange(growth, 10, 30);

        (exit, output, _) = Run("bench", "verify", task, "--seconds", "0.05", "--threads", "1", "--size", "M=100");
        Assert.Equal(0, exit);
        Assert.Contains("x data", output, StringComparison.Ordinal);
        Assert.Matches(@"sizes:       1 task\(s\), \d+x to \d+x the data: time per element", output);
        Assert.Contains("that at the task's sizes", output, StringComparison.Ordinal);
        Assert.Contains("time paused by the collector", output, StringComparison.Ordinal);
    }

    [Fact]
    public void BaseSizes_AreWhereTheGrowthIsMeasuredFrom()
    {
        var task = Path.Combine(TestPaths.ProjectBenchmark, "index", "softmax-top1.yaml");
        var (exit, output, _) = Run("bench", "verify", task, "--seconds", "0.05", "--threads", "1", "--size", "M=200", "--base-size", "M=10");
        Assert.Equal(0, exit);
        Assert.Contains("that at M=10, median", output, StringComparison.Ordinal);
        (exit, _, var err) = Run("bench", "verify", task, "--base-size", "M=10");
        Assert.Equal(2, exit);
        Assert.Contains("--base-size needs --size", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Table_EndsWithTheSummaryLines()
    {
        var (exit, output, _) = Run("bench", "verify", Path.Combine(TestPaths.ProjectBenchmark, "gemm-easy", "broadcast-row-dot.yaml"), "--seconds", "0.05", "--threads", "1");
        Assert.Equal(0, exit);
        Assert.Contains("1 thread/s", output, StringComparison.Ordinal);
        Assert.Contains("one thread:", output, StringComparison.Ordinal);
        Assert.Contains("reuse:", output, StringComparison.Ordinal);
        // The figures say which collector they were taken under.
        Assert.Matches(System.Runtime.GCSettings.IsServerGC ? @"collector:\s+server, \d+ heaps?, " : @"collector:\s+workstation, ", output);
        Assert.Contains("gen0 budget", output, StringComparison.Ordinal);
    }

    [Fact]
    public void OnSeveralThreads_TheShareOfTimeTheCollectorPausedThemIsPrintedBesideTheOneThreadShare_OnOneThreadNoSecondPhaseIsPrinted()
    {
        var task = Path.Combine(TestPaths.ProjectBenchmark, "index", "softmax-top1.yaml");
        var (exit, output, _) = Run("bench", "verify", task, "--seconds", "0.05", "--threads", "2");
        Assert.Equal(0, exit);
        Assert.Contains("gc % 2", output, StringComparison.Ordinal);
        Assert.Matches(@"the collector paused the threads \d+\.\d% of the time on one thread, \d+\.\d% on 2", output);

        (exit, output, _) = Run("bench", "verify", task, "--seconds", "0.05", "--threads", "1");
        Assert.Equal(0, exit);
        Assert.DoesNotContain("gc % 1", output, StringComparison.Ordinal);
        Assert.DoesNotContain("1 threads:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryTaskIsWarmedUpBeforeAnyIsMeasured_AndTheProgressSaysSo()
    {
        var (exit, _, err) = Run("bench", "verify", Path.Combine(TestPaths.ProjectBenchmark, "gemm-easy"), "--seconds", "0.05", "--threads", "1");
        Assert.Equal(0, exit);
        int warm = err.IndexOf("warming up until the runtime has compiled the hot code; ", StringComparison.Ordinal);
        Assert.True(warm >= 0, err);
        // One dot per task measured, all after the warm-up.
        Assert.Equal(3, err[warm..].Count(c => c == '.'));
    }

    [Fact]
    public void ATaskWhoseReferenceIsNotCorrect_IsNotMeasured_AndExitsOne()
    {
        var dir = Scratch.Folder();
        var text = File.ReadAllText(Path.Combine(TestPaths.ProjectBenchmark, "norm", "rmsnorm.yaml"))
            .Replace("shifted = step.Map(fn=fn_add_eps).apply(mean_sq)", "shifted = mean_sq", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, "broken.yaml"), text);
        var (exit, output, _) = Run("bench", "verify", dir, "--seconds", "0.05");
        Assert.Equal(1, exit);
        Assert.Contains("not measured: wrong", output, StringComparison.Ordinal);
    }

    [Fact]
    public void NoTask_ExitsTwo()
    {
        var (exit, _, err) = Run("bench", "verify", Scratch.Folder());
        Assert.Equal(2, exit);
        Assert.Contains("no task", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--seconds", "-1", "--seconds must be at least 0.05")]
    [InlineData("--seconds", "0.01", "--seconds must be at least 0.05")]
    [InlineData("--seconds", "NaN", "--seconds must be at least 0.05")]
    [InlineData("--threads", "0", "--threads must be at least 1")]
    public void AValueTooSmallToMeasureWith_IsRefused_NotQuietlyRaised(string option, string value, string message)
    {
        var (exit, _, err) = Run("bench", "verify", Path.Combine(TestPaths.ProjectBenchmark, "norm", "rmsnorm.yaml"), option, value);
        Assert.Equal(2, exit);
        Assert.Equal("stepforge: error: " + message, err.Trim());
    }
}
