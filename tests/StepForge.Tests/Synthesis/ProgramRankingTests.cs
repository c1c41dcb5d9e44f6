using StepForge.Synthesis;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Synthesis;

/// <summary>Which of several verified programs the search returns.</summary>
public class ProgramRankingTests
{
    /// <summary>A program the search found for layernorm-streaming: two ops fewer than the reference program, but slower.</summary>
    private const string Shorter = """
        x_1, x_2 = step.Copy().apply(x)
        t0 = step.Accum(fn=fn_add, b=1).apply(x_1)
        t1 = step.Map(fn=fn_div_by_d).apply(t0)
        t2 = step.Map(fn=fn_square).apply(t1)
        t3 = step.Repeat(n=D).apply(t2)
        t4 = step.Map(fn=fn_sqrt).apply(t3)
        t5 = step.Zip().apply((x_2, t4))
        t6 = step.Map(fn=fn_sub).apply(t5)
        t6_1, t6_2 = step.Copy().apply(t6)
        t7 = step.Map(fn=fn_square).apply(t6_1)
        t8 = step.Accum(fn=fn_add, b=1).apply(t7)
        t9 = step.Map(fn=fn_div_by_d).apply(t8)
        t10 = step.Map(fn=fn_add_eps).apply(t9)
        t11 = step.Repeat(n=D).apply(t10)
        t12 = step.Map(fn=fn_sqrt).apply(t11)
        t13 = step.Zip().apply((t6_2, t12))
        t14 = step.Map(fn=fn_div).apply(t13)
        return t14
        """;

    [Fact]
    public void TheCostModelsRanking_PrefersFewerCycles_WhereTheShortestProgramIsSlower()
    {
        var task = TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "norm", "layernorm-streaming.yaml"));
        var shorter = new FoundProgram(Shorter, 17, 0, 0, []);
        var reference = new FoundProgram(task.Impl!, 19, 0, 0, []);
        var cost = new TaskCost(task);
        long shorterCycles = cost.Estimate(Shorter).Cost!.Cycles, referenceCycles = cost.Reference!.Cost!.Cycles;
        Assert.True(referenceCycles < shorterCycles, $"{referenceCycles} against {shorterCycles} cycles");

        Assert.Equal(shorter, new[] { reference, shorter }.Order(ProgramRanking.FewestOps.For(task)).First());
        var byCycles = ProgramRanking.FewestCycles.For(task);
        Assert.Equal(reference, new[] { shorter, reference }.Order(byCycles).First());
        Assert.Equal($"{referenceCycles:N0} cycles, {cost.Reference.Cost.OnChipBytes:N0} on-chip bytes", byCycles.Measure(reference));
    }
}
