using StepForge.Diagnostics;
using StepForge.PyLite.Runtime;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Tasks;

/// <summary>
/// Every input gets a verdict in bounded work and memory: task code, task files and candidate files written to hurt
/// (huge or wrapping sizes, endless work, cycles, deep nesting, missing arguments). None may crash the process, hang,
/// exhaust memory or end in an internal error; each is stopped by a work limit, never by the clock.
/// </summary>
public class HostileInputTests
{
    /// <summary>Task code that once hung, exhausted memory, overflowed the stack or crashed with a .NET exception.</summary>
    public static TheoryData<string> HostileCode() =>
    [
        "y = [0, 0] * 4611686018427387904",
        "y = (-1) ** (10 ** 18) + None",
        "y = 3 ** (10 ** 18)",
        "y = sum([[0] * 1000 for i in range(20000)], [])",
        "y = [[0] * 1000000 for i in range(3000)]",
        "s = 'ab'\n" + string.Join("\n", Enumerable.Repeat("s = s + s", 32)),
        "s = [1]\n" + string.Join("\n", Enumerable.Repeat("s = s + s", 32)),
        "s = 'ab'\n" + string.Join("\n", Enumerable.Repeat("s = f'{s}{s}'", 32)),
        "y = torch.zeros(2).chunk(2147483647)\nz = y[5]",
        "l = [0]\nl[0] = l\ns = str(l)",
        "l = [0]\nl[0] = l\ns = f'{l}'",
        "d = {}\nd[1] = d\ns = str(d)",
        "l = [0]\nl[0] = l\nt = torch.tensor(l)",
        "y = int()\nz = y + None",
        "y = float()\nz = y + None",
        "y = abs()",
        "y = sum()",
        "y = range()",
        "y = max()",
        "y = torch.zeros(65536, 65536, 65536, 65536)[1, 1, 1]",
        "y = torch.zeros(1).expand(65536, 65536, 65536, 65536)",
        "y = torch.cat([torch.zeros(0, 2147483647), torch.zeros(0, 2147483647)], dim=1)",
        "y = torch.einsum('i->j', torch.zeros(3))",
        "y = torch.einsum('i->ii', torch.zeros(3))",
        "y = torch.argmax(torch.zeros(0))",
        "y = torch.min(torch.zeros(0))",
        "y = torch.cat([1, 2])",
        "y = torch.zeros(()).size(0)",
        "y = [i * 2 for i in range(10000000)]",
        "y = [[i for i in range(3000)] for j in range(3000)]",
        "x = 1\ny = x * 2 ** 70",
        "y = 10 ** 30 * 10 ** 30",
        "y = list(range(9223372036854775807))",
        "y = range(-9223372036854775807, 9223372036854775807)",
        "y = torch.ones(4194304) @ torch.ones(4194304) + None",
    ];

    private static readonly string Template = File.ReadAllText(Path.Combine(TestPaths.ProjectBenchmark, "norm/rmsnorm.yaml"));

    private static TaskSpec WithGlobal(string code) =>
        TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "norm/rmsnorm.yaml")) with { Global = code };

    private static TaskSpec WithFnBody(string code)
    {
        var task = TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "norm/rmsnorm.yaml"));
        return task with { Fns = [.. task.Fns.Select(f => f.FuncName == "fn_sqrt" ? f with { Apply = code + "\nreturn [torch.sqrt(input[0])]" } : f)] };
    }

    /// <summary>The verdict, reached by a work limit (never the clock), without an unforeseen failure and within 1 GB of allocations.</summary>
    private static Verdict Bounded(Func<Verdict> verify)
    {
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var verdict = verify();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.NotEqual(Rules.LimitTime.Id, verdict.Rule);
        Assert.DoesNotContain(Interpreter.UnforeseenMarker, verdict.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1L << 30, $"allocated {allocated >> 20} MiB: {verdict.Message}");
        return verdict;
    }

    [Theory]
    [MemberData(nameof(HostileCode))]
    public void HostileCodeInAGlobalBlock_MakesTheTaskInvalid(string code)
    {
        var verdict = Bounded(() => Verifier.Verify(WithGlobal(code)));
        Assert.Equal(VerdictKind.Invalid, verdict.Kind);
    }

    [Theory]
    [MemberData(nameof(HostileCode))]
    public void HostileCodeInAnFnBody_IsAVerdict(string code)
    {
        var verdict = Bounded(() => Verifier.Verify(WithFnBody(code)));
        Assert.Contains(verdict.Kind, new[] { VerdictKind.Runtime, VerdictKind.Limit, VerdictKind.Invalid });
    }

    [Theory]
    [MemberData(nameof(HostileCode))]
    public void HostileCodeInAReference_MakesTheTaskInvalid(string code)
    {
        var task = TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "norm/rmsnorm.yaml"));
        task = task with { Outputs = [task.Outputs[0] with { DataTransforms = new([code + "\ninput_data['x']"]) }] };
        Assert.Equal(VerdictKind.Invalid, Bounded(() => Verifier.Verify(task)).Kind);
    }

    /// <summary>Candidate programs and YAML that once crashed the process or used gigabytes.</summary>
    public static TheoryData<string, VerdictKind> HostileCandidates() => new()
    {
        { "impl: " + new string('[', 50_000), VerdictKind.Parse },
        { "impl: {\u0085p", VerdictKind.Parse },
        { "impl: [\u2028x", VerdictKind.Parse },
        { "impl: {\u2029x", VerdictKind.Parse },
        { string.Concat(Enumerable.Repeat("- ", 50_000)) + "x", VerdictKind.Parse },
        { "y = step.Repeat(n=M*2147483647*2147483647*2147483647).apply(x)\nreturn y", VerdictKind.Limit },
        { "r = list(range(100000))\nq = [enumerate(r) for i in range(1000)]\nreturn x", VerdictKind.Limit },
        { "r = list(range(100000))\nq = [zip(r, r, r) for i in range(1000)]\nreturn x", VerdictKind.Limit },
        { "y = " + new string('(', 200_000) + "x" + new string(')', 200_000) + "\nreturn y", VerdictKind.Parse },
        { "y = " + string.Concat(Enumerable.Repeat("-", 200_000)) + "x\nreturn y", VerdictKind.Parse },
        { "a, b = step.Copy().apply(x)\nc = step.Repeat(n=9223372036854775807).apply(a)\nreturn b", VerdictKind.Limit },
    };

    [Theory]
    [MemberData(nameof(HostileCandidates))]
    public void AHostileCandidateFile_GetsItsVerdict(string text, VerdictKind expected)
    {
        var task = TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "norm/rmsnorm.yaml"));
        var program = CandidateText.Read(text);
        var verdict = Bounded(() => Verifier.Verify(task, program.Source));
        Assert.Equal(expected, verdict.Kind);
    }

    public static TheoryData<string> HostileTaskFiles() =>
    [
        "inputs: " + new string('[', 50_000),
        "name: x\ninputs: {\u0085p",
        string.Concat(Enumerable.Repeat("- ", 50_000)) + "x",
        "a: &a [*a, *a]",
        Template.Replace("dims: [D, N]", "dims: [" + string.Join(", ", Enumerable.Repeat("D", 5000)) + "]", StringComparison.Ordinal),
        Template.Replace("data_gen: torch.rand", "data_gen: torch.rand\n    min: 99999999999999999999", StringComparison.Ordinal),
        Template.Replace("dtype: fp32\n    dims: [D, N]", "dtype: Buffer(fp32, [" + new string('[', 10_000) + "D])\n    dims: [D, N]", StringComparison.Ordinal),
    ];

    [Theory]
    [MemberData(nameof(HostileTaskFiles))]
    public void AHostileTaskFile_IsABadTaskFile_OrGetsAVerdict(string text)
    {
        try
        {
            var task = TaskReader.Read(text, "hostile.yaml");
            Bounded(() => Verifier.Verify(task));
        }
        catch (TaskFileException e)
        {
            Assert.Equal("hostile.yaml", e.Path);
        }
    }
}
