using StepForge.Cost;
using static StepForge.Tests.Cost.CostFixture;

namespace StepForge.Tests.Cost;

/// <summary>
/// cost-model.md, "Time": a second run with fifo_depth channels reports whether the program would deadlock with
/// shallow channels, and at which op. A unit takes a step's inputs together, and starts its next step once every
/// output of this one is in its channel (each output waits for room in its own channel).
/// </summary>
[Collection(CostCollection.Name)]
public class DeadlockTests
{
    [Fact]
    public void AReconvergentCopy_DeadlocksAtFifoDepth_AtTheCopy()
    {
        var cost = CostOf(MinusRowSum);
        // The Accum needs all 7 elements of a row in a before it emits; the Zip takes nothing from b until the Repeat
        // of that sum arrives. With 2-deep channels b fills after 2 elements, the Copy stops, and a never gets the row.
        var dead = cost.FifoDeadlock!;
        Assert.Equal("Copy", dead.Op);
        Assert.Equal(1, dead.Line);
        Assert.Equal("b", dead.Channel);
        Assert.Contains("Zip@4", dead.Message, StringComparison.Ordinal);
        Assert.Contains("waits for r", dead.Message, StringComparison.Ordinal);
        Assert.Null(cost.UnboundedDeadlock);
    }

    [Fact]
    public void TheRequiredDepth_IsARowLessTheCopysOwnOutput()
    {
        var cost = CostOf(MinusRowSum);
        // For row r the Copy must put all 7 elements into a. b holds the row's first 6 while the Copy waits to put
        // the 7th into b (it has already put the 7th into a): then the Accum emits, the Zip drains b, the Copy goes on.
        // So b needs N - 1 = 6; with 5 the Copy stops after 6 elements of the row and the sum never comes.
        Assert.Equal(7 - 1, Channel(cost, "b").RequiredDepth);
        Assert.Equal(7 - 1, cost.RequiredFifoDepth);
        Assert.Null(CostOf(MinusRowSum, machine: Machine.Default with { FifoDepth = 6 }).FifoDeadlock);
        Assert.Equal("Copy", CostOf(MinusRowSum, machine: Machine.Default with { FifoDepth = 5 }).FifoDeadlock!.Op);
        // No other channel must be deeper.
        Assert.All(cost.Channels.Where(c => c.Stream != "b"), c => Assert.Equal(2, c.RequiredDepth));
    }

    [Fact]
    public void AStraightPipeline_NeverDeadlocks()
    {
        var cost = CostOf(RowSum);
        Assert.Null(cost.FifoDeadlock);
        Assert.Null(cost.RequiredFifoDepth);
        Assert.Null(CostOf(RowSum, machine: Machine.Default with { FifoDepth = 1 }).FifoDeadlock);
    }

    [Fact]
    public void AStreamNothingReads_FillsItsChannel()
    {
        // b is never read: with unbounded channels the run still ends (b holds all 35), with fifo_depth it cannot.
        var cost = CostOf(Header + """
            outputs:
              - name: out
                dtype: fp32
                dims: [M]
                data_transform: |
                  input_data['x'].sum(-1)
            impl: |
              a, b = step.Copy().apply(x)
              out = step.Accum(fn=fn_add, b=1).apply(a)
              return out
            """);
        Assert.Contains("nothing reads it", cost.FifoDeadlock!.Message, StringComparison.Ordinal);
        Assert.Equal(35, Channel(cost, "b").Peak);
        Assert.Equal(35, Channel(cost, "b").RequiredDepth);
    }
}
