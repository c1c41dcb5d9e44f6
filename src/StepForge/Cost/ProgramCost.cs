using System.Globalization;

namespace StepForge.Cost;

/// <summary>Where a run gets stuck: the op that cannot go on, the channel it is stuck at, and why.</summary>
public sealed record Deadlock(string Op, int Line, string Channel, string Message);

/// <summary>One unit of the timed run: an op, a program input (source) or a program output (sink).</summary>
/// <param name="Label">The op and the stream(s) it makes, e.g. <c>Accum@3 → total</c>.</param>
/// <param name="Elements">Elements consumed (for several inputs, the largest count); for a source, elements moved on chip.</param>
/// <param name="MinService">Fewest cycles one step took (a step takes one element of each input it reads).</param>
/// <param name="Busy">Cycles busy in total: elements times cycles per element.</param>
/// <param name="Calls">fn calls (a Merge calls its fn once per folded element).</param>
/// <param name="StorageBytes">On-chip bytes the unit holds itself (Bufferize's buffer, a Buffer-typed Accum/Scan state).</param>
/// <param name="Bottleneck">The busiest unit: its busy time is the lower bound unless off-chip traffic takes longer.</param>
public sealed record OpCost(
    string Op,
    int Line,
    string Label,
    long Elements,
    long MinService,
    long MaxService,
    long Busy,
    long Calls,
    long FlopsPerCall,
    long Flops,
    long StorageBytes,
    long FirstStart,
    long LastFinish,
    bool Bottleneck);

/// <summary>One channel (stream): how full it got in the timed run, and how deep it must be for the program to run through.</summary>
/// <param name="Peak">The most elements it held at once in the timed run (unbounded channels).</param>
/// <param name="RequiredDepth">The depth it needs, the other channels as deep as they need (fifo_depth unless the program jams on it).</param>
/// <param name="Bytes">On-chip bytes it counts: for a channel that must be deeper than fifo_depth, its peak (at least its required depth) beyond fifo_depth elements; else 0.</param>
/// <param name="PeakBytesBeyondDepth">Bytes of the peak beyond fifo_depth, whether the program needs them or a producer merely ran ahead.</param>
public sealed record ChannelCost(string Stream, string From, string To, long ElementBytes, long Elements, long Peak, long RequiredDepth, long Bytes, long PeakBytesBeyondDepth);

/// <summary>The headline figures of a program's cost, as the experience store keeps them.</summary>
/// <param name="RequiredFifoDepth">The least depth, for every channel, at which the program runs through; null when fifo_depth does (or none does).</param>
public sealed record CostSummary(long Cycles, long OnChipBytes, long OffChipBytes, long Flops, long LowerBound, bool FifoDeadlock, long? RequiredFifoDepth);

/// <summary>
/// What a program would cost on the machine of cost-model.md: cycles of the timed run, on-chip bytes (buffers,
/// Buffer-typed states and channel occupancy beyond fifo_depth), off-chip bytes, flops, the lower bound, whether it
/// deadlocks with fifo_depth channels (and where, and how deep they must be), and the per-unit breakdown.
/// </summary>
/// <param name="Cycles">When the last output element is written off chip in the timed run.</param>
/// <param name="BoundBy">"off-chip traffic" or the busiest unit's label.</param>
/// <param name="ChannelBytes">Bytes of the channels the program jams on at fifo_depth (see <see cref="ChannelCost.Bytes"/>).</param>
/// <param name="FifoDeadlock">Where the run with fifo_depth channels gets stuck; null when it runs through.</param>
/// <param name="RequiredFifoDepth">With a deadlock at fifo_depth: the least depth, for every channel, at which it runs through.</param>
/// <param name="UnboundedDeadlock">Where the run gets stuck even with unbounded channels (an element that never comes); null normally.</param>
public sealed record ProgramCost(
    Machine Machine,
    long Cycles,
    long OffChipBytes,
    long Flops,
    long LowerBound,
    string BoundBy,
    long BufferBytes,
    long StateBytes,
    long ChannelBytes,
    Deadlock? FifoDeadlock,
    long? RequiredFifoDepth,
    Deadlock? UnboundedDeadlock,
    IReadOnlyList<OpCost> Ops,
    IReadOnlyList<ChannelCost> Channels)
{
    public long OnChipBytes => BufferBytes + StateBytes + ChannelBytes;

    /// <summary>The cycles as time at the machine's clock.</summary>
    public double Microseconds => Cycles / (Machine.ClockGhz * 1000);

    public OpCost Bottleneck => Ops.First(o => o.Bottleneck);

    /// <summary>Channel bytes if every channel counted its whole timed-run peak beyond fifo_depth (a producer running ahead of a slow reader included).</summary>
    public long ChannelPeakBytes => Channels.Sum(c => c.PeakBytesBeyondDepth);

    public CostSummary Summary => new(Cycles, OnChipBytes, OffChipBytes, Flops, LowerBound, FifoDeadlock is not null, RequiredFifoDepth);

    /// <summary>The cost as its JSON object; <paramref name="details"/> adds the per-unit and per-channel breakdown.</summary>
    public CostJson Json(bool details) => new(
        Cycles, Math.Round(Microseconds, 6), OnChipBytes, new OnChipJson(BufferBytes, StateBytes, ChannelBytes, ChannelPeakBytes), OffChipBytes, Flops,
        LowerBound, BoundBy, Bottleneck.Label, Machine.FifoDepth, FifoDeadlock, RequiredFifoDepth, UnboundedDeadlock,
        details
            ? [.. Ops.Select(o => new OpJson(o.Op, o.Line, o.Label, o.Elements, ServiceText(o), o.Busy, o.Flops, o.FlopsPerCall, o.StorageBytes, o.FirstStart, o.LastFinish, o.Bottleneck))]
            : null,
        details ? Channels : null);

    /// <summary>Cycles per step as a person reads them: one number, or the range when steps differ (Merge).</summary>
    public static string ServiceText(OpCost o) =>
        o.MinService == o.MaxService ? o.MinService.ToString(CultureInfo.InvariantCulture) : $"{o.MinService}-{o.MaxService}";
}
