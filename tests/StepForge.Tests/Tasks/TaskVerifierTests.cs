using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Tasks;

/// <summary>Many candidates of one task through one <see cref="TaskVerifier"/>: the sampler's case.</summary>
public class TaskVerifierTests
{
    private static TaskSpec Project(string relative) => TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, relative));

    private static string WithoutEpsilon(TaskSpec task) =>
        task.Impl!.Replace("shifted = step.Map(fn=fn_add_eps).apply(mean_sq)", "shifted = mean_sq", StringComparison.Ordinal);

    [Fact]
    public void ReusedDataAndReference_GiveTheVerdictsOfAFreshVerification()
    {
        var task = Project("norm/rmsnorm.yaml");
        var options = new VerifyOptions(Seed: 3, Trials: 2);
        var session = new TaskVerifier(task, options);
        string[] candidates = [task.Impl!, WithoutEpsilon(task), "return x", "x = step.Map(fn=fn_nope).apply(x)\nreturn x", task.Impl!];
        foreach (var candidate in candidates)
        {
            var fresh = Verifier.Verify(task, candidate, options);
            var reused = session.Verify(candidate);
            Assert.Equal(fresh.Kind, reused.Kind);
            Assert.Equal(fresh.Message, reused.Message);
            Assert.Equal(fresh.Outputs?.Select(o => o.MaxAbsError), reused.Outputs?.Select(o => o.MaxAbsError));
        }
        // Two seeds, prepared once for all five candidates.
        Assert.Equal(2, session.CachedTrials);
    }

    [Fact]
    public void CandidatesOfOneTask_VerifyInParallel()
    {
        var task = Project("attn/online-softmax-fused.yaml");
        var session = new TaskVerifier(task, new VerifyOptions(Seed: 11));
        var broken = task.Impl!.Replace("return", "x = x\nreturn", StringComparison.Ordinal);
        var verdicts = new Verdict[64];
        Parallel.For(0, verdicts.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            i => verdicts[i] = session.Verify(i % 2 == 0 ? task.Impl : broken));
        for (int i = 0; i < verdicts.Length; i += 2) Assert.True(verdicts[i].IsCorrect, verdicts[i].Message);
        Assert.All(verdicts.Where((_, i) => i % 2 == 1), v => Assert.False(v.IsCorrect));
        Assert.Equal(1, session.CachedTrials);
    }

    [Fact]
    public void ATaskWhoseReferenceFails_IsAnInvalidVerdictForEveryCandidate()
    {
        var task = Project("norm/rmsnorm.yaml");
        var broken = task with { Outputs = [.. task.Outputs.Select(o => o with { DataTransforms = new(["return torch.no_such_function(input_data['x'])"]) })] };
        var session = new TaskVerifier(broken);
        Assert.Equal(VerdictKind.Invalid, session.Verify().Kind);
        Assert.Equal(VerdictKind.Invalid, session.Verify().Kind);
    }

    [Theory]
    [InlineData("reference", "torch.fft")]
    [InlineData("global", "torch.randn")]
    [InlineData("fn", "Tensor.unfold")]
    public void TaskCodeUsingUnsupportedPyTorch_IsInvalidNamingTheFunction(string where, string function)
    {
        var task = Project("norm/rmsnorm.yaml");
        task = where switch
        {
            "reference" => task with { Outputs = [.. task.Outputs.Select(o => o with { DataTransforms = new(["x = input_data['x']\ntorch.fft.fft(x)"]) })] },
            "global" => task with { Global = "W = torch.randn(4)" },
            _ => task with { Fns = [.. task.Fns.Select(f => f.FuncName == "fn_sqrt" ? f with { Apply = "y = input[0].unfold(0, 1, 1)\nreturn [torch.sqrt(input[0])]" } : f)] },
        };
        foreach (var batching in new[] { true, false })
        {
            var verdict = Verifier.Verify(task, options: new VerifyOptions(Batching: batching));
            Assert.Equal(VerdictKind.Invalid, verdict.Kind);
            Assert.Equal("task.unsupported", verdict.Rule);
            Assert.Equal(function, verdict.Actual);
            Assert.Contains(function, verdict.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AFnBodyFailingOnSupportedPyTorch_StaysARuntimeVerdict()
    {
        // The failing case beside the rule above: a supported function used wrongly is the program's runtime error.
        var task = Project("norm/rmsnorm.yaml");
        task = task with { Fns = [.. task.Fns.Select(f => f.FuncName == "fn_sqrt" ? f with { Apply = "return [torch.sqrt(input[0]).reshape(7)]" } : f)] };
        var verdict = Verifier.Verify(task);
        Assert.Equal(VerdictKind.Runtime, verdict.Kind);
        Assert.Contains("reshape", verdict.Message, StringComparison.Ordinal);
    }
}
