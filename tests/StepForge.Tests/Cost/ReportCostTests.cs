using System.Globalization;
using System.Text.Json;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cost;

/// <summary>
/// A run against the fake provider where the model answers two different correct programs for one task: run and
/// report show both programs' cycles, the cheapest one against the reference program's, the speedup and fast_p.
/// </summary>
[Collection(CostCollection.Name)]
public class ReportCostTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    [Fact]
    public void TwoCorrectPrograms_TheReportShowsBothCosts_TheBest_TheSpeedup_AndFast1()
    {
        using var server = new FakeModelServer(CostScenario.Model("cost-row-sum"));
        var tasks = CostScenario.WriteTasks("cost-row-sum");
        var db = Path.Combine(Scratch.Folder(), "run.sqlite");
        var run = Run("run", "--model", "fake", "--base-url", server.OpenAIUrl, "--tasks", tasks, "--samples", "2", "--concurrency", "1",
            "--db", db, "--fast-p", "1.01");
        Assert.True(run.Exit == 0, run.Err);

        // The expected figures, from the cost model itself.
        var task = TaskReader.ReadFile(Path.Combine(tasks, "cost-row-sum.yaml"));
        var reference = TaskCost.Estimate(task, task.Impl!).Cost!;
        var buffered = TaskCost.Estimate(task, CostScenario.Buffered).Cost!;
        var streaming = TaskCost.Estimate(task, CostScenario.Streaming).Cost!;
        Assert.NotEqual(buffered.Cycles, streaming.Cycles);
        var best = buffered.Cycles < streaming.Cycles ? buffered : streaming;
        double speedup = (double)reference.Cycles / best.Cycles;

        var report = Run("report", db, "--json", "--fast-p", "1.01");
        Assert.Equal(0, report.Exit);
        var json = JsonDocument.Parse(report.Out).RootElement;
        var row = json.GetProperty("tasks").EnumerateArray().Single();
        Assert.Equal(2, row.GetProperty("correct").GetInt32());
        var programs = row.GetProperty("programs").EnumerateArray().ToList();
        Assert.Equal([Math.Min(buffered.Cycles, streaming.Cycles), Math.Max(buffered.Cycles, streaming.Cycles)], programs.Select(p => p.GetProperty("cycles").GetInt64()));
        Assert.Equal(best.Cycles, row.GetProperty("best_cycles").GetInt64());
        Assert.Equal(best.OnChipBytes, row.GetProperty("best_onchip_bytes").GetInt64());
        Assert.Equal(reference.Cycles, row.GetProperty("reference_cycles").GetInt64());
        Assert.Equal(reference.OnChipBytes, row.GetProperty("reference_onchip_bytes").GetInt64());
        Assert.Equal(speedup, row.GetProperty("speedup").GetDouble(), 12);
        var fast = row.GetProperty("fast_at");
        Assert.Equal(speedup >= 1 ? 1.0 : 0.0, fast.GetProperty("1").GetDouble());
        Assert.Equal(speedup >= 2 ? 1.0 : 0.0, fast.GetProperty("2").GetDouble());
        Assert.Equal(speedup >= 1.01 ? 1.0 : 0.0, fast.GetProperty("1.01").GetDouble());
        var all = json.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("name").GetString() == "all");
        Assert.Equal(speedup >= 1 ? 1.0 : 0.0, all.GetProperty("fast_at").GetProperty("1").GetDouble());

        // The text tables of report and run show the same.
        var text = Run("report", db).Out;
        var line = text.Split('\n').Single(l => l.StartsWith("cost-row-sum", StringComparison.Ordinal));
        Assert.Contains($"{best.Cycles}  ", line, StringComparison.Ordinal);
        Assert.Contains($"{reference.Cycles}  ", line, StringComparison.Ordinal);
        Assert.Contains(speedup.ToString("0.00", CultureInfo.InvariantCulture) + "x", line, StringComparison.Ordinal);
        Assert.EndsWith($"{Math.Min(buffered.Cycles, streaming.Cycles)}, {Math.Max(buffered.Cycles, streaming.Cycles)}", line.TrimEnd(), StringComparison.Ordinal);
        Assert.Contains("fast_1", text, StringComparison.Ordinal);
        Assert.Equal(line, run.Out.Split('\n').Single(l => l.StartsWith("cost-row-sum", StringComparison.Ordinal)));

        // The HTML report plots the speedup per task.
        var folder = Scratch.Folder();
        Assert.Equal(0, Run("report", db, "--html", folder).Exit);
        var svg = File.ReadAllText(Path.Combine(folder, "speedup-by-task.svg"));
        Assert.Contains($"cost-row-sum, openai:fake", svg, StringComparison.Ordinal);
        Assert.Contains($"{speedup.ToString("0.00", CultureInfo.InvariantCulture)}x ({best.Cycles:N0} against {reference.Cycles:N0} cycles)", svg, StringComparison.Ordinal);
        var page = File.ReadAllText(Path.Combine(folder, "index.html"));
        Assert.Contains("speedup-by-task.svg", page, StringComparison.Ordinal);
        Assert.Contains("<th>fast_1</th>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
    }
}
