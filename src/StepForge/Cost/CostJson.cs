using System.Text.Json.Serialization;

namespace StepForge.Cost;

/// <summary>A program's cost as scripts read it (<c>verify --json</c>, <c>cost --json</c>); keys are snake_case.</summary>
/// <param name="Ops">The per-unit breakdown; null (left out) unless details were asked for.</param>
/// <param name="Channels">The per-channel breakdown; null (left out) unless details were asked for.</param>
public sealed record CostJson(
    long Cycles,
    double TimeUs,
    long OnchipBytes,
    OnChipJson Onchip,
    long OffchipBytes,
    long Flops,
    long LowerBound,
    string BoundBy,
    string Bottleneck,
    int FifoDepth,
    Deadlock? Deadlock,
    long? RequiredFifoDepth,
    Deadlock? DeadlockUnbounded,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<OpJson>? Ops,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<ChannelCost>? Channels);

/// <summary>Where the on-chip bytes are: buffers, Buffer states, channels the program jams on, and every channel's peak.</summary>
public sealed record OnChipJson(long Buffers, long States, long Channels, long ChannelPeaks);

/// <summary>One unit of the timed run, as the JSON breakdown gives it.</summary>
public sealed record OpJson(
    string Op,
    int Line,
    string Label,
    long Elements,
    string CyclesPerElement,
    long Busy,
    long Flops,
    long FlopsPerCall,
    long StorageBytes,
    long FirstStart,
    long LastFinish,
    bool Bottleneck);

/// <summary>The machine a cost was computed on, with the keys of a machine file.</summary>
public sealed record MachineJson(int Lanes, int OnchipBytesPerCycle, int OffchipBytesPerCycle, int FifoDepth, bool DoubleBuffer, double ClockGhz)
{
    public static MachineJson Of(Machine m) => new(m.Lanes, m.OnChipBytesPerCycle, m.OffChipBytesPerCycle, m.FifoDepth, m.DoubleBuffer, m.ClockGhz);
}
