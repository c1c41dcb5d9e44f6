using System.Text.Json;
using StepForge.Cli;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cli;

/// <summary><c>stepforge verify</c> as design.md's contract describes it.</summary>
public class VerifyCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    private static string Bench(string relative) => Path.Combine(TestPaths.ProjectBenchmark, relative);

    [Fact]
    public void TheBenchmark_VerifiesAsATable()
    {
        var (exit, output, _) = Run("verify", TestPaths.ProjectBenchmark);
        Assert.Equal(0, exit);
        var lines = output.Trim().Split('\n');
        Assert.StartsWith("verdict", lines[0], StringComparison.Ordinal);
        Assert.Equal(27, lines.Count(l => l.StartsWith("correct", StringComparison.Ordinal)));
        Assert.EndsWith("27 checked: 27 correct", lines[^1].TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_HasTheContractsFields_AndMaxAbsErrorPerOutput()
    {
        var (exit, output, _) = Run("verify", Bench("index/softmax-top1.yaml"), "--json", "--trials", "2", "--seed", "5");
        Assert.Equal(0, exit);
        var json = JsonDocument.Parse(output).RootElement;
        foreach (var key in new[] { "verdict", "task", "line", "op", "rule", "message", "expected", "actual" }) Assert.True(json.TryGetProperty(key, out _), key);
        Assert.Equal("correct", json.GetProperty("verdict").GetString());
        var outputs = json.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(["mask", "probs"], outputs.Select(o => o.GetProperty("name").GetString()));
        Assert.All(outputs, o => Assert.True(o.GetProperty("max_abs_error").GetDouble() <= 1e-5));
    }

    [Fact]
    public void AtLargerSizes_TheToleranceWidens_UnlessFixed()
    {
        var task = Bench("bmm/outer-product-accumulate.yaml");
        var (exit, output, _) = Run("verify", task, "--size", "K=1024");
        Assert.Equal(0, exit);
        Assert.Contains("within 113.78x the float32 tolerance", output, StringComparison.Ordinal);
        (exit, output, _) = Run("verify", task, "--size", "K=1024", "--fixed-tolerance", "--json");
        Assert.Equal(1, exit);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal("wrong", json.GetProperty("verdict").GetString());
        Assert.Equal("|actual - expected| <= 1E-05 + 1.3E-06 * |expected|", json.GetProperty("expected").GetString());
    }

    [Fact]
    public void AWrongCandidate_ExitsOne_WithAWrongVerdict()
    {
        var candidate = Path.Combine(Scratch.Folder(), "c.py");
        File.WriteAllText(candidate, "x_sq, x_out = step.Copy().apply(x)\nsq = step.Map(fn=fn_square).apply(x_sq)\nt = step.Accum(fn=fn_add, b=1).apply(sq)\n" +
            "r = step.Map(fn=fn_sqrt).apply(t)\nrr = step.Repeat(n=D).apply(r)\np = step.Zip().apply((x_out, rr))\nreturn step.Map(fn=fn_div).apply(p)\n");
        var (exit, output, _) = Run("verify", Bench("norm/rmsnorm.yaml"), "--impl", candidate, "--json");
        Assert.Equal(1, exit);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal("wrong", json.GetProperty("verdict").GetString());
        Assert.Contains("worst at index", json.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Sizes_Trials_AndBadOptions()
    {
        Assert.Equal(0, Run("verify", Bench("bmm/row-times-block.yaml"), "--size", "M=16", "--size", "N=32", "--size", "K=24", "--size", "D=32", "--trials", "2").Exit);
        var bad = Run("verify", Bench("bmm/row-times-block.yaml"), "--size", "M=zero");
        Assert.Equal(2, bad.Exit);
        Assert.Contains("--size M=zero", bad.Err, StringComparison.Ordinal);
        var unknown = Run("verify", Bench("bmm/row-times-block.yaml"), "--size", "Q=4");
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("Q", unknown.Err, StringComparison.Ordinal);
        Assert.Equal(2, Run("verify", Bench("bmm/row-times-block.yaml"), "--trials", "0").Exit);
        Assert.Equal(2, Run("verify", "/nonexistent.yaml").Exit);
    }

    [Fact]
    public void Help_ListsTheOptions()
    {
        var (exit, output, _) = Run("verify", "--help");
        Assert.Equal(0, exit);
        foreach (var option in new[] { "--impl", "--json", "--seed", "--trials", "--size", "--repair-affine", "--print" })
            Assert.Contains(option, output, StringComparison.Ordinal);
    }

    [UpstreamFact]
    public void UpstreamCorpus_WithRepairAndThreeTrials_IsAllCorrect()
    {
        var (exit, output, _) = Run("verify", TestPaths.Upstream, "--repair-affine", "--trials", "3", "--json");
        Assert.Equal(0, exit);
        Assert.Equal(27, output.Trim().Split('\n').Count(l => l.Contains("\"verdict\":\"correct\"", StringComparison.Ordinal)));
    }

    [Fact]
    public void ASyntaxErrorInAnImplFile_NamesThatFileAndItsLine()
    {
        var dir = Scratch.Folder();
        var bare = Path.Combine(dir, "candidate.py");
        File.WriteAllText(bare, "squares = step.Map(fn=fn_square).apply(x)\nbroken = step.Accum(fn=fn_add b=1).apply(squares)\nreturn broken\n");
        var (exit, output, _) = Run("verify", Bench("norm/rmsnorm.yaml"), "--impl", bare);
        Assert.Equal(1, exit);
        Assert.Contains($"{bare}:2", output, StringComparison.Ordinal);

        var yaml = Path.Combine(dir, "candidate.yaml");
        File.WriteAllText(yaml, "# a candidate\nimpl: |\n  squares = step.Map(fn=fn_square).apply(x)\n  broken = step.Accum(fn=fn_add b=1).apply(squares)\n  return broken\n");
        (exit, output, _) = Run("verify", Bench("norm/rmsnorm.yaml"), "--impl", yaml, "--json");
        Assert.Equal(1, exit);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(yaml, json.GetProperty("file").GetString());
        Assert.Equal(4, json.GetProperty("line").GetInt32());
    }

    [Fact]
    public void ASyntaxErrorInATasksOwnImpl_NamesItsLineInTheTaskFile()
    {
        var text = File.ReadAllText(Bench("norm/rmsnorm.yaml"));
        var lines = text.Split('\n').ToList();
        int broken = lines.FindIndex(l => l.Contains("total = step.Accum", StringComparison.Ordinal));
        lines[broken] += ")";
        var path = Path.Combine(Scratch.Folder(), "rmsnorm.yaml");
        File.WriteAllText(path, string.Join('\n', lines));
        var (exit, output, _) = Run("verify", path, "--json");
        Assert.Equal(1, exit);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal("parse", json.GetProperty("verdict").GetString());
        Assert.Equal(broken + 1, json.GetProperty("line").GetInt32());
    }

    [Theory]
    [InlineData("verify")]
    [InlineData("check")]
    [InlineData("synthesize")]
    public void AFolderWithNoTaskFiles_ExitsTwoWithOneLine(string command)
    {
        var dir = Scratch.Folder();
        File.WriteAllText(Path.Combine(dir, "notes.yaml"), "just: notes\n");
        var (exit, output, err) = Run(command, dir);
        Assert.Equal(2, exit);
        Assert.Equal($"stepforge: error: no task files found under {dir}", err.Trim());
        Assert.DoesNotContain("verdict", output, StringComparison.Ordinal);
    }

    [Fact]
    public void OneBadFileInAFolder_GetsItsVerdict_AndEveryOtherFileGetsItsOwn()
    {
        var dir = Scratch.Folder();
        foreach (var name in new[] { "softmax-top1", "score-threshold", "sigmoid-top3-tokens", "expert-choice-top3" })
            File.Copy(Bench($"index/{name}.yaml"), Path.Combine(dir, $"{name}.yaml"));
        var rms = File.ReadAllText(Bench("norm/rmsnorm.yaml"));
        File.WriteAllText(Path.Combine(dir, "a-int.yaml"), rms.Replace("fns:", "global: |\n  y = abs()\nfns:", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(dir, "b-nested.yaml"), "inputs: " + new string('[', 50_000));
        File.WriteAllText(Path.Combine(dir, "c-separator.yaml"), "outputs: {\u0085p");
        var (exit, output, err) = Run("verify", dir, "--json");
        Assert.Equal(2, exit);
        var verdicts = output.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement.GetProperty("verdict").GetString()).ToList();
        Assert.Equal(["invalid", "invalid", "invalid", "correct", "correct", "correct", "correct"], verdicts);
        Assert.DoesNotContain("internal error", err, StringComparison.Ordinal);
    }

    [Fact]
    public void AFullDisk_IsRecognised_InSQLitesAndTheFileSystemsWords()
    {
        Assert.NotNull(StepForgeCli.DiskFull(new InvalidOperationException("wrapped", new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13))));
        Assert.NotNull(StepForgeCli.DiskFull(new IOException("No space left on device", 28)));
        Assert.Null(StepForgeCli.DiskFull(new Microsoft.Data.Sqlite.SqliteException("constraint failed", 19)));
        Assert.Null(StepForgeCli.DiskFull(new IOException("other")));
    }
}
