using System.Text.Json;
using StepForge.Learning;
using StepForge.Tests.Support;
using StepForge.Tests.Synthesis;

namespace StepForge.Tests.Cli;

/// <summary>builtin:search as the model of run and improve, and synthesize on its own: no key, no network, no tokens.</summary>
public class BuiltinModelTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Support.Cli.Run(args);

    private static string Tasks()
    {
        var dir = Scratch.Folder("stepforge-builtin-");
        File.WriteAllText(Path.Combine(dir, "sum-of-squares.yaml"), ProgramSearchTests.Text("sum-of-squares", ProgramSearchTests.SumOfSquares));
        File.WriteAllText(Path.Combine(dir, "double.yaml"), ProgramSearchTests.Text("double", ProgramSearchTests.Double));
        return dir;
    }

    [Fact]
    public void Run_WithoutAModel_UsesTheSearch_AndStoresItsStatistics()
    {
        var db = Path.Combine(Scratch.Folder(), "b.sqlite");
        var (exit, output, err) = Run("run", "--tasks", Tasks(), "--db", db, "--max-candidates", "2000", "--json");
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
        var unsolved = samples.Single(s => s.Key.Task == "double");
        Assert.Equal("unsolved", unsolved.Verdict);
        Assert.Contains("no program found within 2,000 candidates", unsolved.VerdictJson, StringComparison.Ordinal);
        Assert.Contains("\"verdict\":\"unsolved\"", unsolved.VerdictJson, StringComparison.Ordinal);
    }

    [Fact]
    public void Improve_WithTheSearch_EndsAndWritesTheReport()
    {
        var db = Path.Combine(Scratch.Folder(), "b.sqlite");
        var html = Scratch.Folder();
        var (exit, output, err) = Run("improve", "--model", "builtin:search", "--tasks", Tasks(), "--db", db, "--max-candidates", "2000", "--html", html);
        Assert.True(exit == 0, err);
        Assert.Contains("iteration 0: demonstrations none; sampled 2 task(s); newly solved 1 (sum-of-squares)", output, StringComparison.Ordinal);
        // The second iteration shows the solved task to the search, which learns from it and still finds nothing for the other.
        Assert.Contains("iteration 1: demonstrations 1 from 1 stratum(a); sampled 1 task(s); newly solved 0", output, StringComparison.Ordinal);
        Assert.Contains("stopped:", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(html, "index.html")));
        using var store = new ExperienceStore(db);
        Assert.Contains("learned from 1 demonstration(s)", store.Samples("improve/iter-1").Single().Response, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSearch_TakesTheTaskAsData_NotAsAPythonPrompt_AndAnswersNoGuardian()
    {
        var (exit, _, err) = Run("run", "--tasks", Tasks(), "--setting", "single-ws", "--db", Path.Combine(Scratch.Folder(), "b.sqlite"));
        Assert.Equal(2, exit);
        Assert.Contains("builtin:search takes the task as data", err, StringComparison.Ordinal);
        (exit, _, err) = Run("run", "--tasks", Tasks(), "--setting", "agent", "--guardian", "model", "--db", Path.Combine(Scratch.Folder(), "b.sqlite"));
        Assert.Equal(2, exit);
        Assert.Contains("--guardian repair", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Synthesize_ReportsEveryTask_AndItsBudget()
    {
        var (exit, output, _) = Run("synthesize", Tasks(), "--max-candidates", "2000", "--json");
        Assert.Equal(1, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(j => j.GetProperty("name").GetString()!);
        Assert.Equal("found", lines["sum-of-squares"].GetProperty("outcome").GetString());
        Assert.Equal(2, lines["sum-of-squares"].GetProperty("ops").GetInt32());
        Assert.Equal("notfound", lines["double"].GetProperty("outcome").GetString());
        Assert.InRange(lines["double"].GetProperty("tried").GetInt64(), 2000, 2020);
        var (bad, _, err) = Run("synthesize", Tasks(), "--max-work", "0");
        Assert.Equal(2, bad);
        Assert.Contains("must be positive", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Synthesize_LearnsFromAStore_LeavingOutTheTaskItself()
    {
        // A store with verified programs of two rope tasks: each is searched with the other's program only.
        var db = Path.Combine(Scratch.Folder(), "learn.sqlite");
        var rope = Path.Combine(TestPaths.ProjectBenchmark, "rope");
        var tasks = new[] { Path.Combine(rope, "neox-rope.yaml"), Path.Combine(rope, "gptj-rope.yaml") };
        var (ran, _, runErr) = Run(["run", "--tasks", .. tasks, "--db", db]);
        Assert.True(ran == 0, runErr);

        var (exit, output, err) = Run(["synthesize", .. tasks, "--learn-from", db, "--json"]);
        Assert.True(exit == 0, err);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement))
        {
            var knowledge = line.GetProperty("knowledge").GetString()!;
            Assert.Contains("learned from 1 demonstration(s)", knowledge, StringComparison.Ordinal);
            Assert.True(line.GetProperty("found").GetBoolean());
        }

        // Task files teach with their impl:, the task searched left out.
        var (fromTasks, text, _) = Run(["synthesize", tasks[0], "--learn-from", rope]);
        Assert.Equal(0, fromTasks);
        Assert.Contains("learned from 3 stored program(s), each task without its own", text, StringComparison.Ordinal);
    }
}
