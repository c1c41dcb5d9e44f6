using StepForge.Agents;
using StepForge.Learning;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Learning;

/// <summary>Demonstrations read back from an experience store, for a learner that was not part of the run.</summary>
public class StoredDemonstrationTests
{
    private static SampleRecord Sample(TaskSpec task, int index, string? program, bool correct) =>
        new(new SampleKey("run", task.Name, "builtin:search", "single", 0.7, index), task.Group, new Prompt("s", "u"), "answer", null, program, program,
            new Verdict(correct ? VerdictKind.Correct : VerdictKind.Wrong, task.SourcePath, task.Name, "m"), null, 0, 0, false, 0m, 0, 0, 1, 0, 1, false);

    [Fact]
    public void EachSolvedTask_GivesItsShortestVerifiedProgram_WithItsStoredTask()
    {
        var neox = TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "rope", "neox-rope.yaml"));
        var gptj = TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "rope", "gptj-rope.yaml"));
        using var store = new ExperienceStore(Path.Combine(Scratch.Folder(), "s.sqlite"));
        store.AddTasks([neox, gptj]);
        store.Record(Sample(neox, 0, "a longer program\n", correct: true));
        store.Record(Sample(neox, 1, "short\n", correct: true));
        store.Record(Sample(neox, 2, "tiny\n", correct: false));
        store.Record(Sample(gptj, 0, "wrong\n", correct: false));

        var stored = store.Tasks();
        Assert.Equal(["rope-gptj", "rope-neox"], stored.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(neox.Fns.Select(f => f.FuncName), stored["rope-neox"].Fns.Select(f => f.FuncName));

        var demo = Assert.Single(DemoSelector.FromStore(store));
        Assert.Equal("rope-neox", demo.Task.Name);
        Assert.Equal("short\n", demo.Impl);
    }
}
