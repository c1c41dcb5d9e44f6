namespace StepForge.Tensors;

/// <summary>Too much work, memory or time for one verification: becomes a <c>limit</c> verdict.</summary>
public sealed class LimitExceededException(string message) : Exception(message);

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
/// What one verification may spend: elements per tensor, elements produced in total, evaluation steps and
/// wall-clock time. Every tensor operation charges it, so runaway programs stop quickly with a clear reason.
/// </summary>
public sealed class ExecutionBudget
{
    public long MaxTensorElements { get; init; } = 1 << 22;
    public long MaxTotalElements { get; init; } = 400_000_000;
    public long MaxSteps { get; init; } = 20_000_000;
    public TimeSpan MaxTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Operators one program may run: the benchmark's programs have fewer than 30.</summary>
    public int MaxOps { get; init; } = 1000;

    private long _start = Environment.TickCount64;
    private long _elements;
    private long _steps;

    /// <summary>
    /// The default limits, widened for large sizes: a task run at big sizes legitimately holds tensors as large as the
    /// product of its dimension sizes (every dim streamed at once), so the limits grow with that product.
    /// </summary>
    public static ExecutionBudget ForSizes(IEnumerable<long> sizes)
    {
        double product = sizes.Aggregate(1.0, (acc, s) => acc * Math.Max(1, s));
        long perTensor = (long)Math.Min(1L << 28, Math.Max(1 << 22, 2 * product));
        return new ExecutionBudget
        {
            MaxTensorElements = perTensor,
            MaxTotalElements = Math.Max(400_000_000, 40 * perTensor),
            MaxTime = perTensor > 1 << 22 ? TimeSpan.FromSeconds(120) : TimeSpan.FromSeconds(10),
        };
    }

    public static ExecutionBudget Unlimited() => new()
    {
        MaxTensorElements = long.MaxValue, MaxTotalElements = long.MaxValue, MaxSteps = long.MaxValue, MaxTime = TimeSpan.MaxValue, MaxOps = int.MaxValue,
    };

    public long ElementsUsed => _elements;

    /// <summary>Starts counting afresh, for a caller that runs many small independent evaluations (a search).</summary>
    public void Restart()
    {
        _start = Environment.TickCount64;
        _elements = 0;
        _steps = 0;
    }

    public void ChargeElements(long count)
    {
        if (count > MaxTensorElements)
            throw new LimitExceededException($"a tensor of {count:N0} elements exceeds the limit of {MaxTensorElements:N0}");
        _elements += count;
        if (_elements > MaxTotalElements)
            throw new LimitExceededException($"the computation produced more than {MaxTotalElements:N0} tensor elements in total");
        if ((_elements & 0xFFFF) < (count & 0xFFFF) || count > 0xFFFF) CheckTime();
    }

    public void ChargeStep()
    {
        if (++_steps > MaxSteps)
            throw new LimitExceededException($"evaluation took more than {MaxSteps:N0} steps");
        if ((_steps & 0x3FFF) == 0) CheckTime();
    }

    public void CheckTime()
    {
        if (MaxTime != TimeSpan.MaxValue && Environment.TickCount64 - _start > MaxTime.TotalMilliseconds)
            throw new LimitExceededException($"the computation ran longer than {MaxTime.TotalSeconds:0.#} s");
    }
}
