using StepForge.Agents;
using StepForge.Learning;
using StepForge.Llm;
using StepForge.Tasks;
using StepForge.Tests.Agents;
using StepForge.Tests.Support;

namespace StepForge.Tests.Learning;

/// <summary>
/// Algorithm 1 against a fake model that can solve a task only when a related task's solution is shown:
/// E is easy (always right), H hard (right once in four), T1 and the test task X need H's program, T2 needs E's,
/// U is never solved.
/// </summary>
public class SelfImprovementTests
{
    public static readonly string[] Train = ["E", "H", "T1", "T2", "U"];

    /// <summary>The fake model's rules; H counts its requests so that exactly one of its samples is right.</summary>
    public sealed class Curriculum
    {
        private int _hardRequests;

        public FakeReply Answer(FakeRequest request)
        {
            var task = AgentScenario.TaskOf(request)["rms-".Length..];
            var shown = request.User[..request.User.LastIndexOf("Your task:", StringComparison.Ordinal)];
            bool Shown(string name) => shown.Contains($"name: rms-{name}\n", StringComparison.Ordinal);
            bool right = task switch
            {
                "E" => true,
                "H" => Interlocked.Increment(ref _hardRequests) == 1,
                "T1" or "X" => Shown("H"),
                "T2" => Shown("E"),
                _ => false,
            };
            var program = right ? AgentScenario.Program("correct") : AgentScenario.Program("wrong");
            return new FakeReply.Answer(AgentScenario.Fenced(program));
        }
    }

    public static (IReadOnlyList<TaskSpec> Train, IReadOnlyList<TaskSpec> Test) Tasks()
    {
        var all = TaskLocator.LoadTasks([AgentScenario.WriteTasks([.. Train, "X"])]);
        return ([.. all.Where(t => t.Name != "rms-X")], [.. all.Where(t => t.Name == "rms-X")]);
    }

    public static ImproveOptions Options(string name = "improve") =>
        new(name, new SamplerOptions(Setting.Single, 4, [0.7], Concurrency: 1, Verify: new VerifyOptions(Trials: 1)), Granularity: 2);

    /// <summary>Runs the loop over the curriculum; returns its result and the number of iterations the store holds.</summary>
    private static async Task<(ImproveResult Result, int StoredIterations)> RunLoop(ImproveOptions options)
    {
        var curriculum = new Curriculum();
        using var server = new FakeModelServer((r, _) => curriculum.Answer(r));
        var db = Path.Combine(Scratch.Folder(), "improve.sqlite");
        var (train, test) = Tasks();
        using var store = new ExperienceStore(db);
        using var client = ModelPipeline.Create(new ModelSettings(ModelSpec.Parse("fake", server.OpenAIUrl), null, new RetryPolicy(2)), new ResponseCache(db));
        var result = await new SelfImprovement(new LlmProposer(client.Chat, client.Spec.Id), store, options).RunAsync(train, test);
        return (result, store.Iterations(options.Name).Count);
    }

    [Fact]
    public async Task TheLoop_SolvesMoreTasksIterationByIteration_HardestFirst_WideningOnlyWhenStuck_AndStops()
    {
        var (result, stored) = await RunLoop(Options());

        var it = result.Iterations;
        string[] Names(IEnumerable<string> names) => [.. names.Select(n => n["rms-".Length..])];
        // 0: no demonstrations; E (4 of 4) and H (1 of 4) solved. Strata with m = 2: {H} hardest, {E} easier.
        Assert.Empty(it[0].Demonstrations);
        Assert.Equal(["E", "H"], Names(it[0].NewlySolved));
        // 1: the hardest stratum only, H's program: T1 and the test task X follow from it.
        Assert.Equal(["H"], Names(it[1].Demonstrations));
        Assert.Equal(["T1", "X"], Names(it[1].NewlySolved));
        // 2: progress, so the hardest stratum again, for the tasks still open; nothing new.
        Assert.Equal(["H"], Names(it[2].Demonstrations));
        Assert.Empty(it[2].NewlySolved);
        // 3: stuck, so the next stratum is added: E's program solves T2.
        Assert.Equal(["H", "E", "T1"], Names(it[3].Demonstrations));
        Assert.Equal(["T2"], Names(it[3].NewlySolved));
        // 4 and 5: U stays unsolved at every level, and then the loop stops.
        Assert.Equal(["H"], Names(it[4].Demonstrations));
        Assert.Equal(["H", "E", "T1", "T2"], Names(it[5].Demonstrations));
        Assert.Equal(6, it.Count);
        Assert.Equal("every stratum was tried without a new solved task", result.StopReason);
        // Solved counts only grow; the test task is never shown.
        Assert.Equal([2, 3, 3, 4, 4, 4], it.Select(i => i.SolvedTrain));
        Assert.Equal([0, 1, 1, 1, 1, 1], it.Select(i => i.SolvedTest));
        Assert.DoesNotContain(it, i => i.Demonstrations.Contains("rms-X"));
        Assert.False(result.Solved.ContainsKey("rms-U"));
        // Demonstrations are each task's shortest verified program.
        Assert.Equal(AgentScenario.Program("correct"), result.Solved["rms-H"].Program);
        // Everything is in the store.
        Assert.Equal(6, stored);
    }

    [Fact]
    public async Task ATokenBudget_StopsTheLoop()
    {
        // The fake reports 1,100 tokens a call: 24 calls in the first iteration spend 26,400.
        var (result, _) = await RunLoop(Options() with { TokenBudget = 20_000 });
        Assert.Single(result.Iterations);
        Assert.StartsWith("spent 26,400 tokens", result.StopReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainAndTestTasks_MustNotOverlap()
    {
        using var server = new FakeModelServer((_, _) => new FakeReply.Answer(""));
        var db = Path.Combine(Scratch.Folder(), "improve.sqlite");
        var (train, _) = Tasks();
        using var store = new ExperienceStore(db);
        using var client = ModelPipeline.Create(new ModelSettings(ModelSpec.Parse("fake", server.OpenAIUrl), null, new RetryPolicy(2)), null);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => new SelfImprovement(new LlmProposer(client.Chat, client.Spec.Id), store, Options()).RunAsync(train, [train[0]]));
        Assert.Contains("both the training and the test set", e.Message, StringComparison.Ordinal);
    }
}
