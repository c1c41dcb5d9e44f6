using StepForge.Diagnostics;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Simulation;

/// <summary>Hostile candidates end with a verdict within their work budget and bounded memory; nothing they say is executed.</summary>
public class AdversarialCandidateTests
{
    private static TaskSpec Task(string file) => TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, file));

    /// <summary>The verdict, reached by a work limit (never the wall-clock guard) and within bounded allocation.</summary>
    private static Verdict Timed(TaskSpec task, string program, VerdictKind expected)
    {
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var verdict = Verifier.Verify(task, program);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(expected, verdict.Kind);
        Assert.NotEqual(Rules.LimitTime.Id, verdict.Rule);
        Assert.True(allocated < 256L << 20, $"allocated {allocated >> 20} MiB: {verdict.Message}");
        return verdict;
    }

    [Fact]
    public void ARepeatOfTenToTheNine_IsALimit()
    {
        var v = Timed(Task("norm/rmsnorm.yaml"), "a = step.Repeat(n=10**9).apply(x)\nb = step.Accum(fn=fn_add, b=1).apply(a)\nreturn b", VerdictKind.Limit);
        Assert.Equal("Repeat", v.Op);
    }

    [Fact]
    public void NestedRepeats_ThatGrowSlowly_AreALimit()
    {
        var program = "a = x\n" + string.Join("\n", Enumerable.Range(0, 12).Select(_ => "a = step.Repeat(n=D).apply(a)"))
            + "\n" + string.Join("\n", Enumerable.Range(0, 12).Select(_ => "a = step.Accum(fn=fn_add, b=1).apply(a)")) + "\nreturn a";
        Timed(Task("norm/rmsnorm.yaml"), program, VerdictKind.Limit);
    }

    [Fact]
    public void ATenThousandLineProgram_GetsAVerdict()
    {
        var lines = Enumerable.Range(0, 10_000).Select(i => $"s{i + 1} = step.Map(fn=fn_sqrt).apply({(i == 0 ? "x_in" : $"s{i}")})");
        var program = "x_in, x_out = step.Copy().apply(x)\n" + string.Join("\n", lines) + "\nreturn s10000";
        var verdict = Timed(Task("norm/rmsnorm.yaml"), program, VerdictKind.Limit);
        Assert.Contains("10001 operators", verdict.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("__import__('os').system('touch /tmp/pwned')\nreturn x", VerdictKind.Parse)]
    [InlineData("open('/etc/passwd')\nreturn x", VerdictKind.Parse)]
    [InlineData("x.__class__\nreturn x", VerdictKind.Type)]
    [InlineData("import os\nreturn x", VerdictKind.Parse)]
    [InlineData("torch.save(x, 'f')\nreturn x", VerdictKind.Parse)]
    public void EscapesFromTheSubset_AreVerdictsNotActions(string program, VerdictKind kind)
    {
        var verdict = Timed(Task("norm/rmsnorm.yaml"), program, kind);
        Assert.False(File.Exists("/tmp/pwned"));
        Assert.NotNull(verdict.Line);
    }

    [Fact]
    public void DeepNestingAndHugeLiterals_AreVerdicts()
    {
        var task = Task("norm/rmsnorm.yaml");
        Timed(task, "y = " + new string('(', 5000) + "x" + new string(')', 5000) + "\nreturn y", VerdictKind.Parse);
        Timed(task, "y = step.Repeat(n=" + new string('9', 3000) + ").apply(x)\nreturn y", VerdictKind.Limit);
        Timed(task, "y = step.Repeat(n=99999999999999999).apply(x)\nz = step.Accum(fn=fn_add, b=1).apply(y)\nreturn z", VerdictKind.Limit);
        Timed(task, "y = [step.Map(fn=fn_sqrt).apply(x) for i in range(10**9)]\nreturn x", VerdictKind.Limit);
    }

    [Fact]
    public void HostileFnBodies_AreRuntimeLimitOrUnsupportedVerdicts()
    {
        var task = Task("norm/rmsnorm.yaml");
        TaskSpec WithSqrt(string body) => task with { Fns = [.. task.Fns.Select(f => f.FuncName == "fn_sqrt" ? f with { Apply = body } : f)] };
        var imported = Verifier.Verify(WithSqrt("__import__('os')\nreturn [input[0]]"));
        Assert.Equal(VerdictKind.Runtime, imported.Kind);
        Assert.Contains("'__import__' is not defined", imported.Message, StringComparison.Ordinal);
        Assert.Equal(VerdictKind.Runtime, Verifier.Verify(WithSqrt("return [input[0].__class__]")).Kind);
        var loop = Verifier.Verify(WithSqrt("x = [i for i in range(10**6) for j in range(10**6)]\nreturn [input[0]]"));
        Assert.Equal(VerdictKind.Limit, loop.Kind);
        Assert.Equal(VerdictKind.Limit, Verifier.Verify(WithSqrt("return [torch.ones(10**5, 10**5)]")).Kind);
        // PyTorch outside StepForge's subset in the task's own fn: the task cannot be verified here, whatever the candidate.
        var unsupported = Verifier.Verify(WithSqrt("return [torch.fft(input[0])]"));
        Assert.Equal(VerdictKind.Invalid, unsupported.Kind);
        Assert.Equal("task.unsupported", unsupported.Rule);
        Assert.Contains("torch.fft is not supported", unsupported.Message, StringComparison.Ordinal);
    }
}
