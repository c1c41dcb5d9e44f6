using StepForge.Agents;
using StepForge.Learning;
using StepForge.Llm;
using StepForge.Tasks;
using StepForge.Tests.Agents;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cost;

/// <summary>
/// improve --demos: a solved task is shown with its shortest verified program (the default) or its cheapest by the
/// cost model (fewest cycles, then fewest on-chip bytes).
/// </summary>
[Collection(CostCollection.Name)]
public class DemoChoiceTests
{
    /// <summary>
    /// Runs the loop on two tasks: the fake model answers cost-row-sum with the buffered program, then the streaming
    /// one, and never answers cost-later; returns the program shown to cost-later in the second iteration.
    /// </summary>
    private static async Task<string> Demonstrated(DemoChoice choice)
    {
        var shown = new List<string>();
        var model = CostScenario.Model("cost-row-sum");
        using var server = new FakeModelServer((request, n) =>
        {
            if (AgentScenario.TaskOf(request) == "cost-later")
                lock (shown) shown.Add(request.User);
            return model(request, n);
        });
        var db = Path.Combine(Scratch.Folder(), "improve.sqlite");
        var tasks = TaskLocator.LoadTasks([CostScenario.WriteTasks("cost-row-sum", "cost-later")]);
        using var store = new ExperienceStore(db);
        using var client = ModelPipeline.Create(new ModelSettings(ModelSpec.Parse("fake", server.OpenAIUrl), null, new RetryPolicy(2)), new ResponseCache(db));
        var options = new ImproveOptions("improve", new SamplerOptions(Setting.Single, 2, [0.7], Concurrency: 1, Verify: new VerifyOptions(Trials: 1)),
            MaxIterations: 2, Demos: choice);
        var result = await new SelfImprovement(new LlmProposer(client.Chat, client.Spec.Id), store, options).RunAsync(tasks, []);
        Assert.Equal(2, result.Iterations.Count);
        Assert.Equal(2, result.Solved["cost-row-sum"].Correct);
        // The second iteration's prompt for cost-later (after its two first-iteration samples).
        var prompt = shown[^1];
        return prompt[..prompt.LastIndexOf("Your task:", StringComparison.Ordinal)];
    }

    [Fact]
    public async Task Cheapest_ShowsTheProgramWithFewestCycles_Shortest_TheShortestText()
    {
        var task = CostFixture.Task(CostScenario.Yaml("cost-row-sum"));
        long buffered = TaskCost.Estimate(task, CostScenario.Buffered).Cost!.Cycles, streaming = TaskCost.Estimate(task, CostScenario.Streaming).Cost!.Cycles;
        // The two choices differ: the streaming program is cheaper and the buffered one's text is shorter.
        Assert.True(streaming < buffered, $"{streaming} >= {buffered}");
        Assert.True(CostScenario.Buffered.Length < CostScenario.Streaming.Length);

        // The prompt's own examples have an Accum row sum too: the streaming program is known by its comment.
        const string streamingMark = "# stream every row through one adder";
        var cheapest = await Demonstrated(DemoChoice.Cheapest);
        Assert.Contains(streamingMark, cheapest, StringComparison.Ordinal);
        Assert.DoesNotContain("step.Map(fn=fn_row_sum)", cheapest, StringComparison.Ordinal);
        var shortest = await Demonstrated(DemoChoice.Shortest);
        Assert.Contains("step.Map(fn=fn_row_sum)", shortest, StringComparison.Ordinal);
        Assert.DoesNotContain(streamingMark, shortest, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadDemosValue_ExitsTwo()
    {
        var (exit, _, err) = Support.Cli.Run("improve", "--tasks", CostScenario.WriteTasks("cost-row-sum"), "--demos", "prettiest",
            "--db", Path.Combine(Scratch.Folder(), "i.sqlite"));
        Assert.Equal(2, exit);
        Assert.Contains("--demos prettiest: expected shortest or cheapest", err, StringComparison.Ordinal);
    }
}
