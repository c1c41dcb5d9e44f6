using StepForge.Diagnostics;

namespace StepForge.Tensors;

/// <summary>
/// Too much work or memory for one verification: becomes a <c>limit</c> verdict with <see cref="Rule"/>
/// (<c>limit.work</c>, <c>limit.steps</c>, <c>limit.tensor</c>, ...). <c>limit.time</c> is the wall-clock safety net,
/// the one limit that is not a property of the input: callers retry it rather than store it as a verdict.
/// </summary>
public sealed class LimitExceededException(Rule rule, string message) : Exception(message)
{
    public LimitExceededException(string message) : this(Rules.LimitWork, message)
    {
    }

    public Rule Rule { get; } = rule;

    /// <summary>Whether the wall-clock safety net stopped the work (not a verdict about the input).</summary>
    public bool IsTimeGuard => Rule == Rules.LimitTime;
}

/// <summary>A computation that cannot be done on these values (bad shapes, bad arguments): a <c>runtime</c> verdict.</summary>
public class TensorException(string message) : Exception(message);

/// <summary>
/// Code used a function, module, method or argument that StepForge's PyTorch subset lacks. In a task's own code
/// (reference, global block, fn body) this makes the task <c>invalid</c>, naming <see cref="What"/>.
/// </summary>
public sealed class UnsupportedFeatureException(string what, string? why = null)
    : TensorException($"{what} is not supported by StepForge's PyTorch subset{(why is null ? "" : $" ({why})")}")
{
    /// <summary>The function or feature, as code names it (<c>torch.fft</c>, <c>Tensor.unfold</c>).</summary>
    public string What { get; } = what;
}

/// <summary>
/// What one verification may spend, counted in work so that the same input gets the same verdict on any machine at
/// any load: elements per tensor, work (elements every tensor kernel and Python container produces or touches),
/// interpreter steps and operators. Every tensor operation charges it, so runaway programs stop with a clear reason.
/// A wall-clock guard stays as a safety net far above any task's need (<see cref="SafetyNet"/>); what it stops is
/// reported with its own rule and never stored as a verdict.
/// </summary>
public sealed class ExecutionBudget
{
    /// <summary>How deep a recursive walk (printing, converting nested lists) may go: far below the stack's limit.</summary>
    public const int MaxDepth = 1000;

    /// <summary>What a Python container item or a tensor element costs in memory, for <see cref="MaxAllocatedBytes"/>.</summary>
    private const int ItemBytes = 16, ElementBytes = 4, CharBytes = 2;

    public long MaxTensorElements { get; init; } = 1 << 22;

    /// <summary>Element operations in total: every element a kernel produces, plus the inner work of contractions and sorts.</summary>
    public long MaxWork { get; init; } = 400_000_000;

    public long MaxSteps { get; init; } = 10_000_000;

    /// <summary>
    /// Bytes of values allocated in total (tensors, lists, strings): what was never allocated cannot be live, so this
    /// bounds memory whatever the code keeps.
    /// </summary>
    public long MaxAllocatedBytes { get; init; } = 512L << 20;

    /// <summary>Operators one program may run: the benchmark's programs have fewer than 30.</summary>
    public int MaxOps { get; init; } = 1000;

    /// <summary>The wall-clock guard: only against a bug or a machine far slower than any seen; never a verdict.</summary>
    public TimeSpan SafetyNet { get; init; } = TimeSpan.FromMinutes(5);

    private long _start = Environment.TickCount64;
    private long _work;
    private long _steps;
    private long _bytes;

    /// <summary>
    /// The default limits at the given symbol sizes. A task run at big sizes legitimately holds tensors as large as the
    /// product of its dimension sizes (every dim streamed at once), and evaluates fns once per element, so the limits
    /// grow with that product; at the upstream default sizes they are the defaults above.
    /// </summary>
    public static ExecutionBudget ForSizes(IEnumerable<long> sizes)
    {
        double product = sizes.Aggregate(1.0, (acc, s) => acc * Math.Max(1, s));
        long perTensor = (long)Math.Min(1L << 28, Math.Max(1 << 22, 2 * product));
        double growth = (double)perTensor / (1 << 22);
        return new ExecutionBudget
        {
            MaxTensorElements = perTensor,
            MaxWork = (long)Math.Max(400_000_000, 60.0 * perTensor),
            MaxSteps = (long)(10_000_000 * growth),
            MaxAllocatedBytes = (long)((512L << 20) * growth),
            SafetyNet = growth > 1 ? TimeSpan.FromMinutes(30) : TimeSpan.FromMinutes(5),
        };
    }

    public static ExecutionBudget Unlimited() => new()
    {
        MaxTensorElements = long.MaxValue, MaxWork = long.MaxValue, MaxSteps = long.MaxValue, MaxAllocatedBytes = long.MaxValue,
        SafetyNet = TimeSpan.MaxValue, MaxOps = int.MaxValue,
    };

    /// <summary>Work charged so far (deterministic: the same input charges the same work).</summary>
    public long WorkUsed => _work;

    /// <summary>Interpreter steps charged so far.</summary>
    public long StepsUsed => _steps;

    /// <summary>Starts counting afresh, for a caller that runs many small independent evaluations (a search).</summary>
    public void Restart()
    {
        _start = Environment.TickCount64;
        _work = 0;
        _steps = 0;
        _bytes = 0;
    }

    /// <summary>A new value of <paramref name="count"/> elements: checked against the per-tensor limit and charged as work.</summary>
    public void ChargeElements(long count)
    {
        if (count > MaxTensorElements)
            throw new LimitExceededException(Rules.LimitTensor, $"a tensor of {count:N0} elements exceeds the limit of {MaxTensorElements:N0}");
        ChargeWork(count);
        ChargeBytes(count, ElementBytes);
    }

    /// <summary>A new Python list, tuple or dict of <paramref name="count"/> items (no larger than a tensor may be).</summary>
    public void ChargeItems(long count)
    {
        if (count > MaxTensorElements)
            throw new LimitExceededException(Rules.LimitTensor, $"a list of {count:N0} items exceeds the limit of {MaxTensorElements:N0}");
        ChargeWork(count);
        ChargeBytes(count, ItemBytes);
    }

    /// <summary>A new string of <paramref name="length"/> characters.</summary>
    public void ChargeChars(long length)
    {
        if (length > 4 * MaxTensorElements)
            throw new LimitExceededException(Rules.LimitTensor, $"a string of {length:N0} characters exceeds the limit of {4 * MaxTensorElements:N0}");
        ChargeWork(length / 8);
        ChargeBytes(length, CharBytes);
    }

    private void ChargeBytes(long count, int size)
    {
        if (count > (MaxAllocatedBytes - _bytes) / size)
        {
            _bytes = MaxAllocatedBytes;
            throw new LimitExceededException(Rules.LimitMemory, $"the computation allocates more than {MaxAllocatedBytes >> 20:N0} MiB of values");
        }
        _bytes += count * size;
    }

    /// <summary>Bytes of values allocated so far.</summary>
    public long BytesAllocated => _bytes;

    /// <summary>Work that produces no new value of its own (the inner loop of a contraction, a sort's comparisons).</summary>
    public void ChargeWork(long count)
    {
        if (count < 0 || count > MaxWork - _work)
        {
            _work = MaxWork;
            throw new LimitExceededException(Rules.LimitWork, $"the computation needs more than {MaxWork:N0} element operations");
        }
        long before = _work;
        _work += count;
        if ((before ^ _work) >> 16 != 0) CheckTime();
    }

    public void ChargeStep()
    {
        if (++_steps > MaxSteps)
            throw new LimitExceededException(Rules.LimitSteps, $"evaluation took more than {MaxSteps:N0} steps");
        if ((_steps & 0x3FFF) == 0) CheckTime();
    }

    public void CheckTime()
    {
        if (SafetyNet != TimeSpan.MaxValue && Environment.TickCount64 - _start > SafetyNet.TotalMilliseconds)
            throw new LimitExceededException(Rules.LimitTime,
                $"the computation ran longer than the {SafetyNet.TotalMinutes:0.#}-minute safety net (not a verdict: it is retried)");
    }
}
