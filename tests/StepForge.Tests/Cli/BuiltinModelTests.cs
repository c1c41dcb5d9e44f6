using System.Text.Json;
using StepForge.Cli;
using StepForge.Learning;
using StepForge.Tests.Synthesis;

namespace StepForge.Tests.Cli;

/// <summary>builtin:search as the model of run and improve: no key, no network, no tokens.</summary>
public class BuiltinModelTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    private static string Tasks()
    {
        var dir = Directory.CreateTempSubdirectory("stepforge-builtin-").FullName;
        File.WriteAllText(Path.Combine(dir, "sum-of-squares.yaml"), ProgramSearchTests.Text("sum-of-squares", ProgramSearchTests.SumOfSquares));
        File.WriteAllText(Path.Combine(dir, "double.yaml"), ProgramSearchTests.Text("double", ProgramSearchTests.Double));
        return dir;
    }

    [Fact]
    public void Run_WithoutAModel_UsesTheSearch_AndStoresItsStatistics()
    {
        var db = Path.Combine(Directory.CreateTempSubdirectory().FullName, "b.sqlite");
        var (exit, output, err) = Run("run", "--tasks", Tasks(), "--db", db, "--max-seconds", "3", "--json");
        Assert.True(exit == 0, err);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal("builtin:search", json.GetProperty("model").GetString());
        var rows = json.GetProperty("tasks").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        Assert.Equal(1, rows["sum-of-squares"].GetProperty("correct").GetInt32());
        Assert.Equal(0, rows["double"].GetProperty("correct").GetInt32());
        Assert.Equal(0, rows["sum-of-squares"].GetProperty("input_tokens").GetInt64());
        Assert.Equal(0m, rows["sum-of-squares"].GetProperty("cost").GetDecimal());
        using var store = new ExperienceStore(db);
        var samples = store.Samples();
        var solved = samples.Single(s => s.Key.Task == "sum-of-squares");
        Assert.Contains("search: found after", solved.Response, StringComparison.Ordinal);
        Assert.Contains("kept", solved.Response, StringComparison.Ordinal);
        Assert.True(solved.ModelSeconds > 0);
        // The search found nothing: its own verdict, not a parse error of an answer.
        var unsolved = samples.Single(s => s.Key.Task == "double");
        Assert.Equal("unsolved", unsolved.Verdict);
        Assert.Contains("no program found within 3 s", unsolved.VerdictJson, StringComparison.Ordinal);
        Assert.Contains("\"verdict\":\"unsolved\"", unsolved.VerdictJson, StringComparison.Ordinal);
    }

    [Fact]
    public void Improve_WithTheSearch_EndsAndWritesTheReport()
    {
        var db = Path.Combine(Directory.CreateTempSubdirectory().FullName, "b.sqlite");
        var html = Directory.CreateTempSubdirectory().FullName;
        var (exit, output, err) = Run("improve", "--model", "builtin:search", "--tasks", Tasks(), "--db", db, "--max-seconds", "2", "--html", html);
        Assert.True(exit == 0, err);
        Assert.Contains("iteration 0: demonstrations none; sampled 2 task(s); newly solved 1 (sum-of-squares)", output, StringComparison.Ordinal);
        Assert.Contains("stopped:", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(html, "index.html")));
    }

    [Fact]
    public void TheSearch_NeedsTheStructuredTask()
    {
        var (exit, _, err) = Run("run", "--tasks", Tasks(), "--setting", "single-ws", "--db", Path.Combine(Directory.CreateTempSubdirectory().FullName, "b.sqlite"));
        Assert.Equal(2, exit);
        Assert.Contains("builtin:search reads the task's structured YAML", err, StringComparison.Ordinal);
    }
}
