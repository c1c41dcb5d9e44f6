using System.Globalization;
using System.Text.Json;
using StepForge.Cost;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cost;

/// <summary><c>stepforge cost</c>, with the habits of check and verify: folders, JSON lines, one-line errors, exit codes.</summary>
[Collection(CostCollection.Name)]
public class CostCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    [Fact]
    public void TheBenchmark_AllReferencePrograms_AreCosted_RunThroughUnbounded_AndTheDeepOnesAreNamed()
    {
        var (exit, output, err) = Run("cost", TestPaths.ProjectBenchmark, "--json");
        Assert.True(exit == 0, err);
        var lines = output.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(27, lines.Count);
        var deep = new List<string>();
        foreach (var line in lines)
        {
            var reference = line.GetProperty("reference");
            Assert.Equal("correct", reference.GetProperty("verdict").GetString());
            var cost = reference.GetProperty("cost");
            Assert.Equal(JsonValueKind.Null, cost.GetProperty("deadlock_unbounded").ValueKind);
            Assert.True(cost.GetProperty("cycles").GetInt64() >= cost.GetProperty("lower_bound").GetInt64());
            if (cost.GetProperty("deadlock").ValueKind == JsonValueKind.Null)
                Assert.Equal(JsonValueKind.Null, cost.GetProperty("required_fifo_depth").ValueKind);
            else
            {
                Assert.True(cost.GetProperty("required_fifo_depth").GetInt64() > 2);
                Assert.Contains(cost.GetProperty("channels").EnumerateArray(), c => c.GetProperty("required_depth").GetInt64() > 2);
                deep.Add(line.GetProperty("name").GetString()!);
            }
        }
        // The table says which programs need deeper channels, and how deep.
        var text = Run("cost", TestPaths.ProjectBenchmark).Out;
        Assert.Contains("27 program(s) costed", text, StringComparison.Ordinal);
        Assert.Contains($"with unbounded channels every program runs through; with fifo_depth 2, {deep.Count} deadlock", text, StringComparison.Ordinal);
        foreach (var name in deep)
        {
            Assert.Matches($@"(?m)^{name}\s+reference\s+correct\s.*deadlock, needs \d+", text);
            Assert.Matches($@"(?m)^  {name} \(reference\): .* cannot put into .*; it runs through with .* deep", text);
        }
        Assert.NotEmpty(deep);
    }

    [Fact]
    public void TheSameCommandTwice_PrintsTheSame()
    {
        var first = Run("cost", Path.Combine(TestPaths.ProjectBenchmark, "etoe"), Path.Combine(TestPaths.ProjectBenchmark, "norm"), "--ops");
        var second = Run("cost", Path.Combine(TestPaths.ProjectBenchmark, "etoe"), Path.Combine(TestPaths.ProjectBenchmark, "norm"), "--ops");
        Assert.Equal(0, first.Exit);
        Assert.Equal(first.Out, second.Out);
    }

    [Fact]
    public void OneTask_ShowsThePerOpBreakdown_WithTheBottleneckMarked()
    {
        var file = Path.Combine(Scratch.Folder(), "rowsum.yaml");
        File.WriteAllText(file, CostFixture.RowSum);
        var (exit, output, _) = Run("cost", file);
        Assert.Equal(0, exit);
        // cost-model.md's worked example: 37 cycles (0.037 us at 1 GHz), 0 bytes on chip, 160 off chip, 35 flops, bound 35.
        Assert.Matches(@"(?m)^cost-rows\s+reference\s+correct\s+37\s+0\.037\s+0\s+160\s+35\s+35\s+ok\s+input x$", output);
        // The source and the Accum are equally busy (35 cycles); the first of them is the bottleneck.
        Assert.Matches(@"(?m)^  \* input x\s+35\s+1\s+35\s", output);
        Assert.Matches(@"(?m)^    Accum@1 → out\s+35\s+1\s+35\s+35\s+1\s", output);
    }

    [Fact]
    public void ACandidate_IsCostedBesideTheReference_WithTheSpeedup()
    {
        var folder = CostScenario.WriteTasks("cost-row-sum");
        var impl = Path.Combine(folder, "streaming.py");
        File.WriteAllText(impl, CostScenario.Streaming);
        var (exit, output, err) = Run("cost", Path.Combine(folder, "cost-row-sum.yaml"), "--impl", impl, "--json");
        Assert.True(exit == 0, err);
        var json = JsonDocument.Parse(output).RootElement;
        long reference = json.GetProperty("reference").GetProperty("cost").GetProperty("cycles").GetInt64();
        long candidate = json.GetProperty("candidate").GetProperty("cost").GetProperty("cycles").GetInt64();
        var task = TaskReader.ReadFile(Path.Combine(folder, "cost-row-sum.yaml"));
        Assert.Equal(TaskCost.Estimate(task, CostScenario.Streaming).Cost!.Cycles, candidate);
        Assert.Equal((double)reference / candidate, json.GetProperty("speedup").GetDouble(), 6);
        var text = Run("cost", Path.Combine(folder, "cost-row-sum.yaml"), "--impl", impl).Out;
        Assert.Matches(@"(?m)^cost-row-sum\s+candidate\s+correct\s.*" + ((double)reference / candidate).ToString("0.00", CultureInfo.InvariantCulture).Replace(".", "\\.", StringComparison.Ordinal) + "x", text);
    }

    [Fact]
    public void ACandidateThatDoesNotTypeCheck_IsNotCosted_AndExitsOne()
    {
        var folder = CostScenario.WriteTasks("cost-row-sum");
        var impl = Path.Combine(folder, "bad.py");
        File.WriteAllText(impl, "out = step.Accum(fn=fn_row_sum, b=1).apply(x)\nreturn out\n");
        var (exit, output, _) = Run("cost", Path.Combine(folder, "cost-row-sum.yaml"), "--impl", impl);
        Assert.Equal(1, exit);
        Assert.Matches(@"(?m)^cost-row-sum\s+candidate\s+type\s+not costed: \[Accum.fn-input\]", output);
    }

    [Fact]
    public void TheFlopRules_AreListedByRulesAndHelp()
    {
        var (exit, output, _) = Run("cost", "--rules");
        Assert.Equal(0, exit);
        var help = Run("cost", "--help").Out;
        foreach (var rule in FlopRules.Table)
        {
            Assert.Contains(rule.Covers, output, StringComparison.Ordinal);
            Assert.Contains(rule.Covers, help, StringComparison.Ordinal);
        }
        foreach (var (key, _) in Machine.Keys) Assert.Contains(key + ":", output, StringComparison.Ordinal);
        // A machine file changes what --rules shows and what programs cost.
        var machine = Path.Combine(Scratch.Folder(), "m.yaml");
        File.WriteAllText(machine, "lanes: 4\nfifo_depth: 8\n");
        Assert.Contains("fifo_depth: 8", Run("cost", "--rules", "--machine", machine).Out, StringComparison.Ordinal);
        var deep = Run("cost", Path.Combine(TestPaths.ProjectBenchmark, "norm", "rmsnorm.yaml"), "--machine", machine, "--json").Out;
        Assert.Equal(8, JsonDocument.Parse(deep).RootElement.GetProperty("machine").GetProperty("fifo_depth").GetInt32());
    }

    [Theory]
    [InlineData("no-such-folder", null, "no-such-folder: no such file or folder")]
    [InlineData(null, "lanes: -1\n", "lanes: expected a positive integer")]
    [InlineData(null, "speed: 3\n", "unknown key 'speed'")]
    public void BadInput_ExitsTwo_WithOneLine(string? task, string? machine, string message)
    {
        var args = new List<string> { "cost", task ?? Path.Combine(TestPaths.ProjectBenchmark, "norm", "rmsnorm.yaml") };
        if (machine is not null)
        {
            var file = Path.Combine(Scratch.Folder(), "m.yaml");
            File.WriteAllText(file, machine);
            args.AddRange(["--machine", file]);
        }
        var (exit, _, err) = Run([.. args]);
        Assert.Equal(2, exit);
        var errors = err.Split('\n').Where(l => l.StartsWith("stepforge: error:", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Contains(message, errors[0], StringComparison.Ordinal);
        Assert.Equal(2, Run("cost").Exit);
    }

    [Fact]
    public void VerifyJson_CarriesTheCostOfACorrectProgram()
    {
        var file = Path.Combine(TestPaths.ProjectBenchmark, "norm", "rmsnorm.yaml");
        var verify = JsonDocument.Parse(Run("verify", file, "--json", "--size", "D=32").Out).RootElement;
        Assert.Equal("correct", verify.GetProperty("verdict").GetString());
        // The cost is at the task's own sizes, whatever --size verified.
        var cost = JsonDocument.Parse(Run("cost", file, "--json").Out).RootElement.GetProperty("reference").GetProperty("cost");
        Assert.Equal(cost.GetProperty("cycles").GetInt64(), verify.GetProperty("cost").GetProperty("cycles").GetInt64());
        Assert.Equal(cost.GetProperty("onchip_bytes").GetInt64(), verify.GetProperty("cost").GetProperty("onchip_bytes").GetInt64());
        var wrong = JsonDocument.Parse(Run("verify", file, "--json", "--impl", Path.Combine(TestPaths.ProjectBenchmark, "norm", "layernorm-buffered.yaml")).Out).RootElement;
        Assert.NotEqual("correct", wrong.GetProperty("verdict").GetString());
        Assert.False(wrong.TryGetProperty("cost", out _));
    }
}
