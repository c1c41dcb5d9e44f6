using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Simulation;
using StepForge.Tensors;

namespace StepForge.Tests.Tensors;

/// <summary>
/// The storage of large tensors is recycled from one scope to the next on a thread (bench/README.md, "Where the time
/// goes"); these pin when it is and, above all, when it must not be.
/// </summary>
public class TensorArenaTests
{
    private static readonly int[] Large = [TensorArena.MinPooledLength];

    /// <summary>Runs a test on a thread of its own: the pool is per thread, and another test may have left storage in this one's.</summary>
    private static void OnFreshThread(Action body)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    [Fact]
    public void LargeTensor_TakesTheStorageTheLastScopeGaveBack() => OnFreshThread(() =>
    {
        float[] first;
        using (TensorArena.Open()) first = Tensor.Uninitialized(Large).Data;
        using (TensorArena.Open()) Assert.Same(first, Tensor.Uninitialized(Large).Data);
    });

    [Fact]
    public void ZeroedTensor_OnRecycledStorage_IsAllZeros() => OnFreshThread(() =>
    {
        using (TensorArena.Open()) Array.Fill(Tensor.Allocate(Large).Data, 7f);
        using (TensorArena.Open()) Assert.All(Tensor.Allocate(Large).Data, v => Assert.Equal(0f, v));
    });

    [Fact]
    public void SmallTensor_IsLeftToTheCollector() => OnFreshThread(() =>
    {
        int[] small = [TensorArena.MinPooledLength - 1];
        float[] first;
        using (TensorArena.Open()) first = Tensor.Uninitialized(small).Data;
        using (TensorArena.Open()) Assert.NotSame(first, Tensor.Uninitialized(small).Data);
    });

    [Fact]
    public void OutsideAnyScope_NothingIsRecycled() => OnFreshThread(() =>
    {
        var first = Tensor.Uninitialized(Large).Data;
        using (TensorArena.Open()) Assert.NotSame(first, Tensor.Uninitialized(Large).Data);
    });

    [Fact]
    public void Suspend_AllocatesWhatOutlivesTheScope_FromTheCollector() => OnFreshThread(() =>
    {
        Tensor kept;
        using (TensorArena.Open())
        using (TensorArena.Suspend())
            kept = Tensor.Full(Large, 3f);
        using (TensorArena.Open())
        {
            Assert.NotSame(kept.Data, Tensor.Uninitialized(Large).Data);
            Assert.All(kept.Data, v => Assert.Equal(3f, v));
        }
    });

    [Fact]
    public void InnerScope_GivesBackOnlyWhatItAllocated() => OnFreshThread(() =>
    {
        using (TensorArena.Open())
        {
            var outer = Tensor.Full(Large, 5f);
            using (TensorArena.Open()) Tensor.Uninitialized(Large);
            using (TensorArena.Open())
            {
                var inner = Tensor.Uninitialized(Large);
                Assert.NotSame(outer.Data, inner.Data);
                Array.Fill(inner.Data, -1f);
            }
            Assert.All(outer.Data, v => Assert.Equal(5f, v));
        }
    });

    [Fact]
    public void NoteEscape_KeepsTheStorageOfEveryOpenScope() => OnFreshThread(() =>
    {
        float[] escaped;
        using (TensorArena.Open())
        {
            using (TensorArena.Open())
            {
                escaped = Tensor.Full(Large, 2f).Data;
                TensorArena.NoteEscape();
            }
            Assert.NotSame(escaped, Tensor.Uninitialized(Large).Data);
        }
        using (TensorArena.Open()) Assert.NotSame(escaped, Tensor.Uninitialized(Large).Data);
        Assert.All(escaped, v => Assert.Equal(2f, v));
    });

    [Fact]
    public void FnBody_StoringATensorInAGlobal_KeepsItsValues() => OnFreshThread(() =>
    {
        var interpreter = new Interpreter(new ExecutionBudget());
        var globals = new Scope();
        interpreter.Run(ParsedSnippets.Get("kept = {}"), globals);
        using (TensorArena.Open())
        {
            using (TensorArena.Open())
            {
                var body = new Scope(globals);
                body.Set("x", Tensor.Full(Large, 4f));
                interpreter.Run(ParsedSnippets.Get("kept['x'] = x"), body);
            }
            using (TensorArena.Open()) Array.Fill(Tensor.Uninitialized(Large).Data, -1f);
        }
        Assert.True(globals.TryGet("kept", out var kept));
        Assert.True(((PyDict)kept!).TryGet("x", out var entry));
        var stored = (Tensor)entry!;
        Assert.All(stored.Data, v => Assert.Equal(4f, v));
    });

    [Fact]
    public void DeferredMap_ComputesAgain_OnceTheScopeOfItsChunkHasClosed() => OnFreshThread(() =>
    {
        int computed = 0;
        var map = new DeferredMap((first, count) =>
        {
            computed++;
            return [Tensor.Full([count, TensorArena.MinPooledLength], 1f)];
        });
        using (TensorArena.Open())
        {
            using (TensorArena.Open())
            {
                map.Positions(0, 1);
                map.Positions(0, 1);
                Assert.Equal(1, computed);
            }
            map.Positions(0, 1);
            Assert.Equal(2, computed);
        }
    });

    [Fact]
    public void HeldStorage_IsBounded_PastItTheCollectorAllocates() => OnFreshThread(() =>
    {
        int[] half = [(int)(TensorArena.MaxHeldBytes / sizeof(float) / 2)];
        float[] third;
        using (TensorArena.Open())
        {
            Tensor.Uninitialized(half);
            Tensor.Uninitialized(half);
            third = Tensor.Uninitialized(half).Data;
        }
        using (TensorArena.Open())
        {
            var again = new[] { Tensor.Uninitialized(half).Data, Tensor.Uninitialized(half).Data, Tensor.Uninitialized(half).Data };
            Assert.DoesNotContain(again, a => ReferenceEquals(a, third));
        }
        Assert.True(TensorArena.IdleBytes <= TensorArena.MaxHeldBytes);
    });

    [Fact]
    public void IdleStorage_OfLengthsTheLastScopeDidNotAskFor_IsDropped() => OnFreshThread(() =>
    {
        using (TensorArena.Open()) Tensor.Uninitialized([TensorArena.MinPooledLength + 1]);
        using (TensorArena.Open()) Tensor.Uninitialized(Large);
        Assert.Equal((long)TensorArena.MinPooledLength * sizeof(float), TensorArena.IdleBytes);
    });

    [Fact]
    public void Suspension_OutsideAnyScope_KeepsTheLastScopesStorage() => OnFreshThread(() =>
    {
        float[] first;
        using (TensorArena.Open()) first = Tensor.Uninitialized(Large).Data;
        using (TensorArena.Suspend()) Tensor.Uninitialized(Large);
        using (TensorArena.Open()) Assert.Same(first, Tensor.Uninitialized(Large).Data);
    });

    [Fact]
    public void Scopes_ClosedOutOfOrder_AreABug() => OnFreshThread(() =>
    {
        var outer = TensorArena.Open();
        var inner = TensorArena.Open();
        Assert.Throws<InvalidOperationException>(outer.Dispose);
        inner.Dispose();
        outer.Dispose();
        // Both closed: outside them again, nothing is recycled.
        float[] first;
        using (TensorArena.Open()) first = Tensor.Uninitialized(Large).Data;
        Assert.NotSame(first, Tensor.Uninitialized(Large).Data);
    });

#if DEBUG
    [Fact]
    public void DebugBuild_PoisonsStorageAsItIsGivenBack() => OnFreshThread(() =>
    {
        Tensor dead;
        using (TensorArena.Open()) dead = Tensor.Full(Large, 1f);
        Assert.All(dead.Data, v => Assert.True(float.IsNaN(v)));
    });
#endif
}
