namespace StepForge.Cost;

/// <summary>
/// Runs the dataflow graph with channels that hold at most <c>depth</c> elements and says whether every unit
/// finishes. A unit takes a step's inputs together once all are there, and starts its next step only after every
/// output of this one is in its channel (each output waits for room in its own channel). Every unit is a
/// sequential process that blocks on reads and writes, so the network is a Kahn process network with bounded
/// channels: whether it deadlocks, and where every unit stands when it does, do not depend on timing, and a
/// schedule-free run (a worklist of units that may move) answers both.
/// </summary>
internal static class FifoCheck
{
    public const long Unbounded = long.MaxValue;

    /// <summary>The run with every channel <paramref name="depth"/> deep; null when every unit finishes, else where it is stuck.</summary>
    public static Deadlock? Run(DataflowGraph graph, long depth) => Run(graph, Enumerable.Repeat(depth, graph.Channels.Count).ToArray()).Deadlock;

    /// <summary>The run with a depth per channel.</summary>
    /// <returns>No deadlock when every unit finishes; else where the run is stuck and, when a unit cannot put, the full channel.</returns>
    public static (Deadlock? Deadlock, int Channel) Run(DataflowGraph graph, IReadOnlyList<long> depths)
    {
        var units = graph.Units;
        var channels = graph.Channels;
        var written = new long[channels.Count];
        var read = channels.Select(c => new long[c.Readers.Count]).ToArray();
        var readerOf = units.Select((u, i) => Enumerable.Range(0, u.Inputs.Length).Select(p => graph.ReaderIndex(i, p)).ToArray()).ToArray();
        var next = new long[units.Count];
        var pending = units.Select(u => new long[u.Outputs.Length]).ToArray();
        var hasPending = new bool[units.Count];
        var queued = new bool[units.Count];
        var work = new Queue<int>();
        for (int u = 0; u < units.Count; u++) Wake(u);
        var step = new UnitStep();

        void Wake(int u)
        {
            if (u < 0 || queued[u]) return;
            queued[u] = true;
            work.Enqueue(u);
        }

        long Held(int c) => written[c] - (read[c].Length == 0 ? 0 : read[c].Min());

        while (work.Count > 0)
        {
            int u = work.Dequeue();
            queued[u] = false;
            var unit = units[u];
            while (true)
            {
                if (hasPending[u])
                {
                    bool blocked = false;
                    for (int p = 0; p < unit.Outputs.Length; p++)
                    {
                        if (pending[u][p] == 0) continue;
                        int c = unit.Outputs[p];
                        long room = depths[c] == Unbounded ? pending[u][p] : Math.Max(0, depths[c] - Held(c));
                        long put = Math.Min(room, pending[u][p]);
                        if (put > 0)
                        {
                            written[c] += put;
                            pending[u][p] -= put;
                            foreach (var (reader, _) in channels[c].Readers) Wake(reader);
                        }
                        blocked |= pending[u][p] > 0;
                    }
                    if (blocked) break;
                    hasPending[u] = false;
                }
                if (next[u] == unit.Steps) break;
                step.Clear();
                unit.Describe(next[u], step);
                bool ready = true;
                foreach (var p in step.Takes) ready &= written[unit.Inputs[p]] - read[unit.Inputs[p]][readerOf[u][p]] >= 1;
                if (!ready) break;
                foreach (var p in step.Takes)
                {
                    int c = unit.Inputs[p];
                    read[c][readerOf[u][p]]++;
                    Wake(channels[c].Producer);
                }
                foreach (var (port, count) in step.Emits) pending[u][port] += count;
                hasPending[u] = step.Emits.Count > 0;
                next[u]++;
            }
        }

        bool Done(int u) => next[u] == units[u].Steps && !hasPending[u];
        if (Enumerable.Range(0, units.Count).All(Done)) return (null, -1);

        // What a stuck unit waits for: the inputs of its next step that are empty.
        List<string> Empty(int u)
        {
            if (next[u] == units[u].Steps) return [];
            step.Clear();
            units[u].Describe(next[u], step);
            return [.. step.Takes.Where(p => written[units[u].Inputs[p]] - read[units[u].Inputs[p]][readerOf[u][p]] < 1)
                .Select(p => channels[units[u].Inputs[p]].Name)];
        }
        string WaitsFor(int u) => Empty(u) is { Count: > 0 } empty ? string.Join(" and ", empty) : "room in its own outputs";

        // The jam starts at a unit whose full channel is not drained because its reader waits for something else
        // (not because the reader is itself stuck putting), or that nothing reads: report that one, else the first that cannot put.
        int Full(int u) => units[u].Outputs[Array.FindIndex(pending[u], r => r > 0)];
        var putting = Enumerable.Range(0, units.Count).Where(u => hasPending[u]).ToList();
        var root = putting.Where(u => channels[Full(u)].Readers is var readers && (readers.Count == 0 || readers.Any(r => !hasPending[r.Unit]))).DefaultIfEmpty(putting.FirstOrDefault(-1)).First();
        if (root >= 0)
        {
            int u = root;
            int c = Full(u);
            var readers = channels[c].Readers.Select(r => r.Unit).Distinct().ToList();
            var why = readers.Count == 0
                ? "nothing reads it"
                : string.Join("; ", readers.Select(r => $"{units[r].Label} does not take them: it waits for {WaitsFor(r)}"));
            return (new Deadlock(units[u].Kind, units[u].Line, channels[c].Name,
                $"{units[u].Label} cannot put into {channels[c].Name}, full at {Held(c)} element(s); {why}"), c);
        }
        int stuck = Enumerable.Range(0, units.Count).First(u => !Done(u));
        return (new Deadlock(units[stuck].Kind, units[stuck].Line, Empty(stuck).FirstOrDefault() ?? "",
            $"{units[stuck].Label} waits for {WaitsFor(stuck)}, which gets no more elements"), -1);
    }
}
