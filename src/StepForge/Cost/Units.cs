namespace StepForge.Cost;

/// <summary>One step of a unit: the input ports it takes one element from, how long it is busy, what it emits.</summary>
internal sealed class UnitStep
{
    public List<int> Takes { get; } = [];

    /// <summary>Output ports and how many elements each gets from this step.</summary>
    public List<(int Port, long Count)> Emits { get; } = [];

    public long Service { get; set; }

    /// <summary>The emissions leave one per cycle, the first at the end of the first cycle (Repeat, Streamify); else all at the finish.</summary>
    public bool Spread { get; set; }

    /// <summary>fn calls this step makes (for the flop count).</summary>
    public long Calls { get; set; }

    internal void Clear()
    {
        Takes.Clear();
        Emits.Clear();
        Service = 0;
        Spread = false;
        Calls = 0;
    }
}

/// <summary>
/// A concurrently running unit of the dataflow graph (cost-model.md, "Time"): an operator, a program input moving
/// data on chip (source) or a program output moving it off chip (sink). It runs <see cref="Steps"/> steps; step k
/// takes its inputs, is busy for its service time and emits. Units are described step by step so that the timed
/// run and the deadlock check walk the same schedule without materializing it.
/// </summary>
internal abstract class Unit
{
    /// <summary>The op's name, or "input"/"output".</summary>
    public required string Kind { get; init; }

    public required int Line { get; init; }

    /// <summary>What a person reads: the op and the stream it makes, e.g. <c>Accum@3 → out</c>.</summary>
    public required string Label { get; init; }

    /// <summary>Channel (stream id) per input port.</summary>
    public required int[] Inputs { get; init; }

    /// <summary>Channel (stream id) per output port.</summary>
    public required int[] Outputs { get; init; }

    public required long Steps { get; init; }

    /// <summary>Work of one fn call (0 for ops without an fn).</summary>
    public long FlopsPerCall { get; init; }

    /// <summary>On-chip bytes the unit holds itself: Bufferize's buffer, a Buffer-typed Accum/Scan state (doubled with double_buffer).</summary>
    public long StorageBytes { get; init; }

    public abstract void Describe(long k, UnitStep step);
}

/// <summary>One element from every input, one to every output, per step: Map, Zip, Copy, Promote, Flatten, Reshape, sources and sinks.</summary>
internal sealed class LockstepUnit : Unit
{
    public required long Service { get; init; }

    public bool CallsFn { get; init; }

    public override void Describe(long k, UnitStep step)
    {
        for (int p = 0; p < Inputs.Length; p++) step.Takes.Add(p);
        for (int p = 0; p < Outputs.Length; p++) step.Emits.Add((p, 1));
        step.Service = Service;
        step.Calls = CallsFn ? 1 : 0;
    }
}

/// <summary>Accum, Scan, Bufferize: one element per step, an output after every <see cref="Every"/> steps (the last folded one).</summary>
internal sealed class FoldUnit : Unit
{
    public required long Service { get; init; }

    public required long Every { get; init; }

    public bool CallsFn { get; init; }

    public override void Describe(long k, UnitStep step)
    {
        step.Takes.Add(0);
        if ((k + 1) % Every == 0) step.Emits.Add((0, 1));
        step.Service = Service;
        step.Calls = CallsFn ? 1 : 0;
    }
}

/// <summary>Repeat and Streamify: one element in, <see cref="Factor"/> out, one per cycle.</summary>
internal sealed class ExpandUnit : Unit
{
    public required long Factor { get; init; }

    public override void Describe(long k, UnitStep step)
    {
        step.Takes.Add(0);
        step.Emits.Add((0, Factor));
        step.Service = Math.Max(1, Factor);
        step.Spread = true;
    }
}

/// <summary>RepeatRef (x, ref): one output per ref element, taking one x element per <see cref="Group"/> ref elements.</summary>
internal sealed class RepeatRefUnit : Unit
{
    public required long Group { get; init; }

    public override void Describe(long k, UnitStep step)
    {
        if (k % Group == 0) step.Takes.Add(0);
        step.Takes.Add(1);
        step.Emits.Add((0, 1));
        step.Service = 1;
    }
}

/// <summary>Partition (x, idx): per x element one step; the idx element comes with the first element of its slice and routes it.</summary>
internal sealed class PartitionUnit : Unit
{
    public required long Slice { get; init; }

    public required StreamFacts Index { get; init; }

    public override void Describe(long k, UnitStep step)
    {
        step.Takes.Add(0);
        if (k % Slice == 0) step.Takes.Add(1);
        long position = k / Slice;
        for (int e = 0; e < Outputs.Length; e++)
            if (Index.Flag(position, e)) step.Emits.Add((e, 1));
        step.Service = 1;
    }
}

/// <summary>
/// Merge (experts..., idx): per output element one step, folding one element of every expert whose flag is set
/// (each fold costs the fn's service); the idx element comes with the first output of its position.
/// </summary>
internal sealed class MergeUnit : Unit
{
    /// <summary>Output elements per idx position (the experts' common inner positions).</summary>
    public required long Common { get; init; }

    public required StreamFacts Index { get; init; }

    /// <summary>Cycles per folded element.</summary>
    public required long FoldService { get; init; }

    public override void Describe(long k, UnitStep step)
    {
        long position = k / Common;
        int experts = Inputs.Length - 1;
        if (k % Common == 0) step.Takes.Add(experts);
        long folded = 0;
        for (int e = 0; e < experts; e++)
        {
            if (!Index.Flag(position, e)) continue;
            step.Takes.Add(e);
            folded++;
        }
        step.Emits.Add((0, 1));
        // An all-zero mask emits zeros: one cycle, nothing folded.
        step.Service = folded == 0 ? 1 : folded * FoldService;
        step.Calls = folded;
    }
}
