namespace StepForge.Cost;

/// <summary>What the timed run measured for one unit.</summary>
/// <param name="Elements">Elements consumed (for several inputs, the largest count); a source's elements are those it moves on chip.</param>
/// <param name="Busy">Cycles the unit was busy: the sum of its steps' service times.</param>
internal sealed record UnitTiming(long Elements, long Busy, long Calls, long FirstStart, long LastFinish, long MinService, long MaxService);

/// <summary>The timed run's result: per unit, per channel peak occupancy, and when the last output element was written.</summary>
/// <param name="Stall">Set when a unit waits for an element that is never produced (the program deadlocks even with unbounded channels).</param>
internal sealed record TimedResult(IReadOnlyList<UnitTiming> Units, IReadOnlyList<long> ChannelPeaks, long Cycles, string? Stall);

/// <summary>
/// The timed run of cost-model.md with unbounded channels. Without back-pressure a unit's timing depends only on
/// when its inputs arrive, so the units are run one after another in producer-before-reader order, each over all
/// its steps: step k starts at max(the time the unit is idle, the arrival of every element it takes), is busy for
/// its service time, and its outputs arrive at the finish (or, for Repeat and Streamify, one per cycle from the
/// end of the first cycle). This is exactly the event-by-event simulation, in time linear in the elements moved.
/// </summary>
internal static class TimedRun
{
    public static TimedResult Run(DataflowGraph graph)
    {
        var channels = graph.Channels;
        var arrive = channels.Select(c => new long[c.Count]).ToArray();
        var written = new long[channels.Count];
        // When an element leaves its channel: when the last of its readers takes it (never, without readers).
        var leave = channels.Select(c => c.Readers.Count == 0 ? Filled(c.Count, long.MaxValue) : new long[c.Count]).ToArray();
        var timings = new UnitTiming[graph.Units.Count];
        long cycles = 0;
        string? stall = null;
        var step = new UnitStep();
        for (int u = 0; u < graph.Units.Count; u++)
        {
            var unit = graph.Units[u];
            var taken = new long[unit.Inputs.Length];
            long free = 0, busy = 0, calls = 0, first = -1, minService = long.MaxValue, maxService = 0, emitted = 0;
            for (long k = 0; k < unit.Steps; k++)
            {
                step.Clear();
                unit.Describe(k, step);
                long ready = 0;
                int missing = -1;
                // Plain loops: this runs once per element of every unit.
                foreach (var p in step.Takes)
                {
                    if (taken[p] >= written[unit.Inputs[p]])
                    {
                        missing = p;
                        break;
                    }
                    ready = Math.Max(ready, arrive[unit.Inputs[p]][taken[p]]);
                }
                if (missing >= 0)
                {
                    int c = unit.Inputs[missing];
                    stall ??= $"{unit.Label} waits for element {taken[missing] + 1} of {channels[c].Name}, which gets only {written[c]}";
                    break;
                }
                long start = Math.Max(free, ready);
                foreach (var p in step.Takes)
                {
                    int c = unit.Inputs[p];
                    ref long at = ref leave[c][taken[p]];
                    at = Math.Max(at, start);
                    taken[p]++;
                }
                long finish = start + step.Service;
                long t = start;
                foreach (var (port, count) in step.Emits)
                {
                    int c = unit.Outputs[port];
                    for (long i = 0; i < count; i++)
                    {
                        if (written[c] >= channels[c].Count)
                            throw new InvalidOperationException($"{unit.Label} emits more than the {channels[c].Count} elements the run gave {channels[c].Name}");
                        arrive[c][written[c]++] = step.Spread ? ++t : finish;
                        emitted++;
                    }
                }
                if (first < 0) first = start;
                free = finish;
                busy += step.Service;
                calls += step.Calls;
                minService = Math.Min(minService, step.Service);
                maxService = Math.Max(maxService, step.Service);
            }
            long elements = unit.Inputs.Length == 0 ? emitted : taken.Max();
            timings[u] = new UnitTiming(elements, busy, calls, Math.Max(first, 0), free, minService == long.MaxValue ? 0 : minService, maxService);
            if (unit.Outputs.Length == 0) cycles = Math.Max(cycles, free);
            // Elements a reader never took stay in the channel for good.
            for (int p = 0; p < unit.Inputs.Length; p++)
            {
                var c = unit.Inputs[p];
                for (long j = taken[p]; j < channels[c].Count; j++) leave[c][j] = long.MaxValue;
            }
        }
        var peaks = new long[channels.Count];
        for (int c = 0; c < channels.Count; c++) peaks[c] = Peak(arrive[c], written[c], leave[c]);
        return new TimedResult(timings, peaks, cycles, stall);
    }

    private static long[] Filled(long count, long value)
    {
        var a = new long[count];
        Array.Fill(a, value);
        return a;
    }

    /// <summary>
    /// The most elements in the channel at once. Element j is in it from its arrival until it leaves (an element taken
    /// the moment it arrives never occupies it); both sequences are non-decreasing, so one merge pass finds the peak.
    /// </summary>
    internal static long Peak(long[] arrive, long count, long[] leave)
    {
        long peak = 0, gone = 0;
        for (long j = 0; j < count; j++)
        {
            // All arrivals at the same instant count together.
            if (j + 1 < count && arrive[j + 1] == arrive[j]) continue;
            while (gone < count && leave[gone] <= arrive[j]) gone++;
            peak = Math.Max(peak, j + 1 - gone);
        }
        return peak;
    }
}
