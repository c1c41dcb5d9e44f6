using StepForge.Agents;
using StepForge.Learning;
using StepForge.Llm;
using StepForge.Synthesis;
using StepForge.Tasks;
using StepForge.Tests.Support;
using StepForge.Tests.Synthesis;

namespace StepForge.Tests.Agents;

/// <summary>The built-in search behind the proposer interface: the task and demonstrations as data, unsolved answers, failed calls.</summary>
public class SearchProposerTests
{
    private static ProposalRequest Request(TaskSpec task, IReadOnlyList<Demonstration>? demos = null, int sample = 0) =>
        new(task, Setting.Single, demos ?? [], null, 0.7, sample, 0, 4096);

    private static TaskSpec Benchmark(string path) => TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, path));

    [Fact]
    public async Task AFoundProgram_IsAnsweredInTheUsualForm_WithTheSearchsStatistics_AndNoTokens()
    {
        var proposer = new SearchProposer(new SearchOptions());
        var task = ProgramSearchTests.Task("sum-of-squares", ProgramSearchTests.SumOfSquares);
        var proposal = await proposer.ProposeAsync(Request(task), CancellationToken.None);
        Assert.False(proposal.Unsolved);
        Assert.Equal(proposal.Impl, AnswerExtractor.ExtractImpl(proposal.Response).Impl);
        Assert.Contains("search: found after", proposal.Response, StringComparison.Ordinal);
        Assert.Contains("no demonstrations", proposal.Response, StringComparison.Ordinal);
        Assert.Equal((0L, 0L, 0m), (proposal.InputTokens, proposal.OutputTokens, proposal.Cost!.Value));
        // What the search was given is kept as its prompt: the task, never its impl.
        Assert.StartsWith("builtin:search", proposal.Prompt.System, StringComparison.Ordinal);
        Assert.Contains("sum-of-squares", proposal.Prompt.User, StringComparison.Ordinal);
        Assert.Equal(1, proposer.Calls);
        // Asked again, the same request is answered without searching again.
        var again = await proposer.ProposeAsync(Request(task), CancellationToken.None);
        Assert.Equal(proposal.Impl, again.Impl);
        Assert.Equal(1, proposer.Calls);
    }

    [Fact]
    public async Task NoProgramFound_IsAnUnsolvedAnswer()
    {
        var proposer = new SearchProposer(new SearchOptions(MaxCandidates: 300));
        var proposal = await proposer.ProposeAsync(Request(ProgramSearchTests.Task("double", ProgramSearchTests.Double)), CancellationToken.None);
        Assert.True(proposal.Unsolved);
        Assert.Null(proposal.Impl);
        Assert.StartsWith("no program found within 300 candidates", proposal.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASearchStoppedByItsSafetyNet_IsAFailedCall_NotAnAnswer()
    {
        var proposer = new SearchProposer(new SearchOptions(SafetySeconds: 1e-9));
        var task = ProgramSearchTests.Task("sum-of-squares", ProgramSearchTests.SumOfSquares);
        var e = await Assert.ThrowsAsync<ModelCallException>(() => proposer.ProposeAsync(Request(task), CancellationToken.None));
        Assert.False(e.Fatal);
        Assert.Contains("searched again by the next run", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demonstrations_AreWhatTheSearchLearnsFrom()
    {
        var task = Benchmark("norm/layernorm-streaming.yaml");
        var teacher = Benchmark("extra/layernorm-4d.yaml");
        var options = new SearchOptions(MaxCandidates: 20_000);
        var alone = await new SearchProposer(options).ProposeAsync(Request(task), CancellationToken.None);
        Assert.True(alone.Unsolved);
        var taught = await new SearchProposer(options).ProposeAsync(Request(task, [new Demonstration(teacher, teacher.Impl!)]), CancellationToken.None);
        Assert.False(taught.Unsolved, taught.Problem);
        Assert.Contains("learned from 1 demonstration(s)", taught.Response, StringComparison.Ordinal);
        Assert.Contains("built with learned piece(s)", taught.Response, StringComparison.Ordinal);
        Assert.Contains("Demonstration extra-layernorm-4d", taught.Prompt.User, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSampler_StoresAnUnsolvedVerdict_AndRecordsAStoppedSearchAsAFailedCall()
    {
        var dir = Scratch.Folder("stepforge-proposer-");
        File.WriteAllText(Path.Combine(dir, "double.yaml"), ProgramSearchTests.Text("double", ProgramSearchTests.Double));
        var tasks = TaskLocator.LoadTasks([dir]);
        using var store = new ExperienceStore(Path.Combine(dir, "run.sqlite"));
        var options = new SamplerOptions(Setting.Single, 1, [0.7], Concurrency: 1);

        var summary = await new Sampler(new SearchProposer(new SearchOptions(MaxCandidates: 300)), store, options).RunAsync(tasks);
        Assert.Equal((1, 0), (summary.Finished, summary.Failed));
        var sample = Assert.Single(store.Samples());
        Assert.Equal("unsolved", sample.Verdict);
        Assert.Contains("\"rule\":\"unsolved\"", sample.VerdictJson, StringComparison.Ordinal);
        Assert.Null(sample.FinalImpl);

        using var other = new ExperienceStore(Path.Combine(dir, "stopped.sqlite"));
        var stopped = await new Sampler(new SearchProposer(new SearchOptions(SafetySeconds: 1e-9)), other, options).RunAsync(tasks);
        Assert.Equal((0, 1), (stopped.Finished, stopped.Failed));
        Assert.Empty(other.Samples());
        Assert.Contains("safety net", Assert.Single(other.Errors()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheModelGuardian_NeedsAModel()
    {
        var dir = Scratch.Folder("stepforge-proposer-");
        File.WriteAllText(Path.Combine(dir, "sum.yaml"), ProgramSearchTests.Text("sum-of-squares", ProgramSearchTests.SumOfSquares));
        using var store = new ExperienceStore(Path.Combine(dir, "run.sqlite"));
        var sampler = new Sampler(new SearchProposer(new SearchOptions()), store, new SamplerOptions(Setting.Agent, 1, [0.7], GuardianKind.Model));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => sampler.RunAsync(TaskLocator.LoadTasks([dir])));
        Assert.Contains("cannot be the model guardian", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBuiltinSearch_IsNoApiModel()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelPipeline.Create(new ModelSettings(ModelSpec.Parse(ModelSpec.BuiltinSearch), null, new RetryPolicy(1)), null));
        Assert.Contains("not reached through an API client", e.Message, StringComparison.Ordinal);
    }
}
