using System.Diagnostics;
using System.Text.Json;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cli;

/// <summary><c>stepforge check</c> follows design.md's contract: exit codes, JSON lines in order, one-line errors.</summary>
public sealed class CheckCommandTests : IDisposable
{
    private readonly string _dir = Scratch.Folder("stepforge-cli-");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Task = """
        name: rowsum
        inputs:
          - name: E0
            dtype: fp32
            dims: [N, M]
            data_gen: torch.rand
        fns:
          - name: Add
            func_name: fn_add
            apply: |
              return [state[0] + input[0]]
            init: [0]
            input_dtype: fp32
            output_dtype: fp32
          - name: Twice
            func_name: fn_twice
            apply: |
              return [input[0] + input[1]]
            input_dtype: [fp32, fp32]
            output_dtype: fp32
        outputs:
          - name: S0
            dtype: fp32
            dims: [M]
            data_transform:
              - |
                input_data['E0'].sum(1)
        """;

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static (int Exit, string Out, string Err) RunWithInput(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Support.Cli.Invoke(args, stdout, stderr, new StringReader(stdin));
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static (int Exit, string Out, string Err) Run(params string[] args) => RunWithInput("", args);

    [Fact]
    public void CorrectProgram_ExitsZero()
    {
        var path = Write("ok.yaml", Task + "\nimpl: |\n  E1 = step.Accum(fn=fn_add, b=1).apply(E0)\n  return E1\n");
        var (exit, output, _) = Run("check", path);
        Assert.Equal(0, exit);
        Assert.Contains("correct", output, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectedProgram_ExitsOne_WithOneJsonObjectPerTaskInOrder()
    {
        var good = Write("a/good.yaml", Task + "\nimpl: |\n  E1 = step.Accum(fn=fn_add, b=1).apply(E0)\n  return E1\n");
        var bad = Write("a/bad.yaml", Task + "\nimpl: |\n  E1 = step.Accum(fn=fn_add, b=2).apply(E0)\n  return E1\n");
        var (exit, output, _) = Run("check", bad, good, "--json");
        Assert.Equal(1, exit);
        var lines = output.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal("type", lines[0].GetProperty("verdict").GetString());
        Assert.Equal(bad, lines[0].GetProperty("task").GetString());
        Assert.Equal("Accum.b-range", lines[0].GetProperty("rule").GetString());
        Assert.Equal("Accum", lines[0].GetProperty("op").GetString());
        // The line in the task file, where the program's first line sits after "impl: |".
        int expectedLine = File.ReadAllLines(bad).ToList().FindIndex(l => l.Contains("b=2", StringComparison.Ordinal)) + 1;
        Assert.Equal(expectedLine, lines[0].GetProperty("line").GetInt32());
        Assert.Contains("b = 2", lines[0].GetProperty("actual").GetString(), StringComparison.Ordinal);
        foreach (var key in new[] { "message", "expected" }) Assert.True(lines[0].TryGetProperty(key, out _));
        Assert.Equal("correct", lines[1].GetProperty("verdict").GetString());
    }

    [Fact]
    public void Folders_AreSearchedForTaskFiles()
    {
        Write("f/x.yaml", Task + "\nimpl: |\n  E1 = step.Accum(fn=fn_add, b=1).apply(E0)\n  return E1\n");
        Write("f/sub/y.yaml", Task + "\nimpl: |\n  return E0\n");
        Write("f/sub/notask.yaml", "some: other\nyaml: [1, 2]\n");
        Write("f/noimpl.yaml", Task);
        var (exit, output, err) = Run("check", Path.Combine(_dir, "f"), "--json");
        Assert.Equal(1, exit);
        var verdicts = output.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement.GetProperty("verdict").GetString()).ToList();
        Assert.Equal(["type", "correct"], verdicts);
        Assert.Contains("not task files", err, StringComparison.Ordinal);
        Assert.Contains("have no impl", err, StringComparison.Ordinal);
    }

    [Fact]
    public void ImplOption_ReadsABareProgram_AYamlFile_OrStandardInput()
    {
        var task = Write("t.yaml", Task);
        var bare = Write("cand.py", "E1 = step.Accum(fn=fn_add, b=1).apply(E0)\nreturn E1\n");
        var yaml = Write("cand.yaml", "impl: |\n  E1 = step.Accum(fn=fn_add, b=1).apply(E0)\n  return E1\n");
        Assert.Equal(0, Run("check", task, "--impl", bare).Exit);
        Assert.Equal(0, Run("check", task, "--impl", yaml).Exit);
        Assert.Equal(0, RunWithInput("E1 = step.Accum(fn=fn_add, b=1).apply(E0)\nreturn E1\n", "check", task, "--impl", "-").Exit);
        Assert.Equal(1, RunWithInput("return E0\n", "check", task, "--impl", "-").Exit);
    }

    [Fact]
    public void RepairAffine_PrintsTheRepairedProgram()
    {
        var path = Write("twice.yaml", Task.Replace("dims: [M]\n    data_transform", "dims: [N, M]\n    data_transform", StringComparison.Ordinal)
            + "\nimpl: |\n  E1 = step.Zip().apply((E0, E0))\n  E2 = step.Map(fn=fn_twice).apply(E1)\n  return E2\n");
        Assert.Equal(1, Run("check", path).Exit);
        var (exit, output, _) = Run("check", path, "--repair-affine", "--print");
        Assert.Equal(0, exit);
        Assert.Contains("E0_1, E0_2 = step.Copy().apply(E0)", output, StringComparison.Ordinal);
        var json = JsonDocument.Parse(Run("check", path, "--repair-affine", "--json").Out).RootElement;
        Assert.Equal(1, json.GetProperty("copies_inserted").GetInt32());
        Assert.Contains("step.Zip().apply((E0_1, E0_2))", json.GetProperty("repaired_impl").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_ExitsTwo_WithOneLineNamingIt()
    {
        var (exit, output, err) = Run("check", Path.Combine(_dir, "nope.yaml"));
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("nope.yaml", err, StringComparison.Ordinal);
        Assert.Contains("no such file", err, StringComparison.Ordinal);
    }

    [Fact]
    public void NonYaml_ExitsTwo_AndGetsAnInvalidJsonLine()
    {
        var path = Write("junk.yaml", "inputs: [unclosed\n  : : :");
        var (exit, output, err) = Run("check", path, "--json");
        Assert.Equal(2, exit);
        Assert.Equal("invalid", JsonDocument.Parse(output).RootElement.GetProperty("verdict").GetString());
        var errorLine = Assert.Single(err.Trim().Split('\n'), l => l.StartsWith("stepforge: error:", StringComparison.Ordinal));
        Assert.Contains("junk.yaml", errorLine, StringComparison.Ordinal);
        Assert.Contains("not valid YAML", errorLine, StringComparison.Ordinal);
    }

    [Fact]
    public void BrokenDtype_ExitsTwo_NamingTheFileAndKey()
    {
        var path = Write("dtype.yaml", Task.Replace("dtype: fp32\n    dims: [N, M]", "dtype: Buffer(fp32\n    dims: [N, M]", StringComparison.Ordinal)
            + "\nimpl: |\n  return E0\n");
        var (exit, _, err) = Run("check", path);
        Assert.Equal(2, exit);
        Assert.Contains("dtype.yaml", err, StringComparison.Ordinal);
        Assert.Contains("inputs[0].dtype", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void NamedTaskWithoutImpl_IsBadInput()
    {
        var (exit, _, err) = Run("check", Write("t.yaml", Task));
        Assert.Equal(2, exit);
        Assert.Contains("impl", err, StringComparison.Ordinal);
    }

    [Fact]
    public void BadInvocation_ExitsTwo()
    {
        Assert.Equal(2, Run("check").Exit);
        Assert.Equal(2, Run("check", "x.yaml", "--bogus").Exit);
        Assert.Equal(2, Run("frobnicate").Exit);
        Assert.Equal(2, Run().Exit);
        Assert.Equal(2, Run("check", Write("p.yaml", Task + "\nimpl: |\n  return E0\n"), "--print").Exit);
    }

    [Fact]
    public void Help_ExplainsTheToolAndTheCheckCommand()
    {
        var (exit, output, _) = Run("--help");
        Assert.Equal(0, exit);
        Assert.Contains("check", output, StringComparison.Ordinal);
        var check = Run("check", "--help");
        Assert.Equal(0, check.Exit);
        foreach (var option in new[] { "--impl", "--json", "--repair-affine", "--print", "Exit codes: 0" })
            Assert.Contains(option, check.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("check")]
    [InlineData("verify")]
    [InlineData("cost")]
    [InlineData("run")]
    [InlineData("improve")]
    [InlineData("report")]
    [InlineData("synthesize")]
    [InlineData("bench")]
    public void EveryCommandsHelp_EndsWithTheSameExitCodes(string command)
    {
        var (exit, output, _) = Run(command, "--help");
        Assert.Equal(0, exit);
        Assert.Matches(@"Exit codes: 0 [^;]+; (1 [^;]+; )?2 a bad invocation, task file or store \(one line on stderr\); 3 an internal error \(a bug: please report it\)\.", output);
    }

    [Fact]
    public void TheBuiltTool_ReportsBadInputWithoutAStackTrace()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "stepforge.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { dll, "check", Write("bad.yaml", "inputs: 3"), "--json" }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var err = process.StandardError.ReadToEnd();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(600_000));
        Assert.Equal(2, process.ExitCode);
        Assert.Equal("invalid", JsonDocument.Parse(output).RootElement.GetProperty("verdict").GetString());
        Assert.Single(err.Trim().Split('\n'));
        Assert.DoesNotContain("Exception", err, StringComparison.Ordinal);
    }

    [UpstreamFact]
    public void UpstreamFolder_AllReferenceProgramsPassWithRepair()
    {
        var (exit, output, err) = Run("check", TestPaths.Upstream, "--json", "--repair-affine");
        Assert.Equal(0, exit);
        Assert.Equal(27, output.Trim().Split('\n').Length);
        Assert.Contains("27 task file(s) found in folders have no impl", err, StringComparison.Ordinal);
    }
}
