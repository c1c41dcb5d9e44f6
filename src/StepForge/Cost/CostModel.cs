using StepForge.Diagnostics;
using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Simulation;
using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Cost;

/// <summary>A program that cannot be costed (an op or fn failed on the data, or it is too large to time): the diagnostic as data.</summary>
public sealed class CostException(Diagnostic diagnostic) : Exception(diagnostic.Message)
{
    public Diagnostic Diagnostic { get; } = diagnostic;
}

/// <summary>Where a program's fn bodies run: the interpreter, the scope they see (torch, input_data, globals) and the sizes.</summary>
public sealed record FnContext(Interpreter Interpreter, Scope Globals, IReadOnlyDictionary<string, long> Sizes);

/// <summary>
/// The cost model of cost-model.md. From a typed program and its seeded input data: runs the program op by op
/// (routing flags and dynamic sizes come from this run), counts each fn's flops on real element shapes, builds the
/// dataflow graph of units (sources, ops, sinks) with their per-element service times, times it with unbounded
/// channels (<see cref="TimedRun"/>), and checks it with fifo_depth channels (<see cref="FifoCheck"/>).
/// Everything counts work, never elapsed time, so the numbers are the same on any machine.
/// </summary>
public static class CostModel
{
    /// <summary>Steps of all units together beyond which a program is not timed (a limit, like the simulator's).</summary>
    public const long MaxSteps = 50_000_000;

    /// <exception cref="CostException">when the program fails on the data or is too large to time.</exception>
    public static ProgramCost Estimate(StepProgram program, FnContext context, IReadOnlyList<Tensor[]> inputs, Machine? machine = null)
    {
        machine ??= Machine.Default;
        var fns = new FnRunner(context.Interpreter, context.Globals, context.Sizes);
        SeededRun.Result run;
        try
        {
            run = SeededRun.Run(program, new Simulator(fns), inputs);
        }
        catch (SimulationException e)
        {
            var kind = e.InnerException is LimitExceededException or FnFailedException { InnerException: LimitExceededException } ? VerdictKind.Limit : VerdictKind.Runtime;
            throw new CostException(new Diagnostic(kind, (kind == VerdictKind.Limit ? Rules.Limit : Rules.Runtime).Id, e.Message, e.Op.Span.Line, e.Op.Span.Column, e.Op.Op.Name));
        }

        var graph = Build(program, run, fns, context, machine);
        long steps = graph.Units.Sum(u => u.Steps);
        if (steps > MaxSteps)
            throw new CostException(new Diagnostic(VerdictKind.Limit, Rules.LimitCost.Id, $"timing the program would take {steps:N0} unit steps; at most {MaxSteps:N0} are timed"));

        var timed = TimedRun.Run(graph);
        var fifo = FifoCheck.Run(graph, machine.FifoDepth);
        var unbounded = fifo is null ? null : FifoCheck.Run(graph, FifoCheck.Unbounded);
        bool deepen = fifo is not null && unbounded is null;
        long? required = deepen ? RequiredDepth(graph, machine.FifoDepth, timed.ChannelPeaks) : null;
        var needs = deepen ? ChannelDepths(graph, machine.FifoDepth) : Enumerable.Repeat((long)machine.FifoDepth, graph.Channels.Count).ToArray();
        return Summarize(graph, timed, machine, fifo, required, unbounded, needs);
    }

    /// <summary>The least depth (the same for every channel) at which the graph runs through, knowing fifo_depth does not.</summary>
    private static long RequiredDepth(DataflowGraph graph, long fifoDepth, IReadOnlyList<long> peaks)
    {
        // With unbounded channels the timed run never holds more than its peaks (one more covers a take and a put at
        // the same instant), and deeper channels never cause a deadlock, so the least working depth is bisected.
        long lo = fifoDepth, hi = Math.Max(fifoDepth + 1, peaks.DefaultIfEmpty(0).Max() + 1);
        long most = graph.Channels.Select(c => c.Count).DefaultIfEmpty(0).Max() + 1;
        while (FifoCheck.Run(graph, hi) is not null)
        {
            // No channel ever holds more than it carries, so at that depth the run is the unbounded one, which runs through.
            if (hi >= most) throw new InvalidOperationException("the graph runs through with unbounded channels but not with channels as deep as their streams");
            lo = hi;
            hi = Math.Min(most, hi * 2);
        }
        while (hi - lo > 1)
        {
            long mid = lo + (hi - lo) / 2;
            if (FifoCheck.Run(graph, mid) is null) hi = mid; else lo = mid;
        }
        return hi;
    }

    /// <summary>
    /// A depth per channel at which the graph runs through, deepening only the channels it jams on: while the run
    /// deadlocks, the channel whose writer cannot put (while its reader waits for something else) gets deeper
    /// (doubling what it has beyond fifo_depth); then each deepened channel, in stream order, is bisected down to
    /// the least depth that still runs through with the others as they are.
    /// </summary>
    private static long[] ChannelDepths(DataflowGraph graph, long fifoDepth)
    {
        var depths = Enumerable.Repeat(fifoDepth, graph.Channels.Count).ToArray();
        while (FifoCheck.Run(graph, depths) is ({ } _, var c))
        {
            if (c < 0 || depths[c] > graph.Channels[c].Count)
                throw new InvalidOperationException("the graph runs through with unbounded channels but deepening its jammed channels does not help");
            depths[c] += Math.Max(1, depths[c] - fifoDepth);
        }
        for (int c = 0; c < depths.Length; c++)
        {
            if (depths[c] == fifoDepth) continue;
            long lo = fifoDepth, hi = depths[c];
            while (hi - lo > 1)
            {
                long mid = lo + (hi - lo) / 2;
                depths[c] = mid;
                if (FifoCheck.Run(graph, depths).Deadlock is null) hi = mid; else lo = mid;
            }
            depths[c] = hi;
        }
        return depths;
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    private static DataflowGraph Build(StepProgram program, SeededRun.Result run, FnRunner fns, FnContext context, Machine machine)
    {
        var facts = run.Streams;
        var channels = facts.Select((f, id) => new Channel(program.StreamNames[id], f.Count, f.ElementBytes)).ToList();
        var read = program.Ops.SelectMany(o => o.Inputs).Concat(program.Returns).ToHashSet();
        var sources = program.InputStreams.Where(read.Contains).ToList();
        // The off-chip bandwidth is split evenly over the program's input and output streams.
        int s = sources.Count + program.Returns.Count;
        long OffChip(int id) => Math.Max(1, CeilDiv(facts[id].ElementBytes * s, machine.OffChipBytesPerCycle));
        long doubled = machine.DoubleBuffer ? 2 : 1;

        var units = new List<Unit>();
        foreach (var id in sources)
            units.Add(new LockstepUnit
            {
                Kind = "input", Line = 0, Label = $"input {program.StreamNames[id]}", Inputs = [], Outputs = [id], Steps = facts[id].Count, Service = OffChip(id),
            });

        var counter = new FlopCounter(context.Interpreter);
        for (int o = 0; o < program.Ops.Count; o++)
        {
            var node = program.Ops[o];
            int line = node.Span.Line;
            string label = $"{node.Op.Name}@{line} → {string.Join(", ", node.Outputs.Select(id => program.StreamNames[id]))}";
            int[] ins = [.. node.Inputs], outs = [.. node.Outputs];
            var first = facts[node.Inputs[0]];
            long Inner(int dims) => Math.Max(1, first.Dims.Take(dims).Aggregate(1L, (a, b) => a * b));

            (long Flops, long Service) Fn(FnDecl fn, bool folds)
            {
                var input = run.FnSamples[o];
                if (input.Length != fn.Input.Components.Count)
                    input = [.. fn.Input.Components.Select(c => Tensor.Allocate(fns.ElementShape(c)))];
                long flops;
                try
                {
                    flops = counter.Count(ParsedSnippets.Get(fn.Apply), context.Globals, input, folds ? fns.Init(fn) : null);
                }
                catch (Exception e) when (e is PyLiteRuntimeException or TensorException or LimitExceededException or PyLiteSyntaxException)
                {
                    throw new CostException(new Diagnostic(VerdictKind.Runtime, Rules.Runtime.Id, $"{node.Op.Name}: counting the flops of {fn.FuncName} failed: {e.Message}",
                        line, node.Span.Column, node.Op.Name));
                }
                long BufferBytes(DType type) => type.Components.Where(c => c is BufferType).Sum(c => 4 * fns.ElementShape(c).Aggregate(1L, (a, b) => a * b));
                // Buffer-typed values read (inputs, and the state of a fold) and written (outputs).
                long bytes = BufferBytes(fn.Input) + (folds ? 2 : 1) * BufferBytes(fn.Output);
                long service = Math.Max(1, Math.Max(CeilDiv(flops, machine.Lanes), CeilDiv(bytes, machine.OnChipBytesPerCycle)));
                return (flops, service);
            }

            long StateBytes(FnDecl fn) =>
                doubled * fn.Output.Components.Where(c => c is BufferType).Sum(c => 4 * fns.ElementShape(c).Aggregate(1L, (a, b) => a * b));

            Unit unit;
            switch (node.Op)
            {
                case MapOp map:
                {
                    var (flops, service) = Fn(map.Fn, folds: false);
                    unit = new LockstepUnit { Kind = "Map", Line = line, Label = label, Inputs = ins, Outputs = outs, Steps = first.Count, Service = service, CallsFn = true, FlopsPerCall = flops };
                    break;
                }
                case AccumOp or ScanOp:
                {
                    var (fn, b) = node.Op is AccumOp a ? (a.Fn, a.B) : (((ScanOp)node.Op).Fn, ((ScanOp)node.Op).B);
                    var (flops, service) = Fn(fn, folds: true);
                    unit = new FoldUnit
                    {
                        Kind = node.Op.Name, Line = line, Label = label, Inputs = ins, Outputs = outs, Steps = first.Count, Service = service, CallsFn = true,
                        Every = node.Op is AccumOp ? Inner(b) : 1, FlopsPerCall = flops, StorageBytes = StateBytes(fn),
                    };
                    break;
                }
                case BufferizeOp bufferize:
                    unit = new FoldUnit
                    {
                        Kind = "Bufferize", Line = line, Label = label, Inputs = ins, Outputs = outs, Steps = first.Count,
                        Service = Math.Max(1, CeilDiv(first.ElementBytes, machine.OnChipBytesPerCycle)), Every = Inner(bufferize.A),
                        StorageBytes = doubled * facts[node.Outputs[0]].ElementBytes,
                    };
                    break;
                case StreamifyOp or RepeatOp:
                    unit = new ExpandUnit
                    {
                        Kind = node.Op.Name, Line = line, Label = label, Inputs = ins, Outputs = outs, Steps = first.Count,
                        Factor = first.Count == 0 ? 0 : facts[node.Outputs[0]].Count / first.Count,
                    };
                    break;
                case RepeatRefOp:
                {
                    var reference = facts[node.Inputs[1]];
                    unit = new RepeatRefUnit
                    {
                        Kind = "RepeatRef", Line = line, Label = label, Inputs = ins, Outputs = outs, Steps = reference.Count,
                        Group = Math.Max(1, reference.Dims.FirstOrDefault(1)),
                    };
                    break;
                }
                case PartitionOp:
                {
                    var index = facts[node.Inputs[1]];
                    unit = new PartitionUnit
                    {
                        Kind = "Partition", Line = line, Label = label, Inputs = ins, Outputs = outs, Steps = index.Count == 0 ? 0 : first.Count,
                        Slice = index.Count == 0 ? 1 : Math.Max(1, first.Count / index.Count), Index = index,
                    };
                    break;
                }
                case MergeOp merge:
                {
                    var index = facts[node.Inputs[^1]];
                    long outputs = facts[node.Outputs[0]].Count;
                    var (flops, service) = Fn(merge.Fn, folds: true);
                    unit = new MergeUnit
                    {
                        Kind = "Merge", Line = line, Label = label, Inputs = ins, Outputs = outs, Steps = index.Count == 0 ? 0 : outputs,
                        Common = index.Count == 0 ? 1 : Math.Max(1, outputs / index.Count), Index = index, FoldService = service, FlopsPerCall = flops,
                    };
                    break;
                }
                default:
                    // Zip, Copy, Promote, Flatten, Reshape: one element in, one out, one cycle.
                    unit = new LockstepUnit { Kind = node.Op.Name, Line = line, Label = label, Inputs = ins, Outputs = outs, Steps = first.Count, Service = 1 };
                    break;
            }
            units.Add(unit);
        }

        foreach (var id in program.Returns)
            units.Add(new LockstepUnit
            {
                Kind = "output", Line = 0, Label = $"output {program.StreamNames[id]}", Inputs = [id], Outputs = [], Steps = facts[id].Count, Service = OffChip(id),
            });
        return DataflowGraph.Link(units, channels);
    }

    private static ProgramCost Summarize(DataflowGraph graph, TimedResult timed, Machine machine,
        Deadlock? fifo, long? required, Deadlock? unbounded, IReadOnlyList<long> needs)
    {
        var units = graph.Units;
        long offchip = 0;
        for (int u = 0; u < units.Count; u++)
            if (units[u].Kind is "input" or "output") offchip += units[u].Steps * graph.Channels[(units[u].Inputs.Length > 0 ? units[u].Inputs : units[u].Outputs)[0]].ElementBytes;
        int busiest = 0;
        for (int u = 1; u < units.Count; u++)
            if (timed.Units[u].Busy > timed.Units[busiest].Busy) busiest = u;
        var ops = units.Select((unit, u) =>
        {
            var t = timed.Units[u];
            return new OpCost(unit.Kind, unit.Line, unit.Label, t.Elements, t.MinService, t.MaxService, t.Busy, t.Calls, unit.FlopsPerCall,
                t.Calls * unit.FlopsPerCall, unit.StorageBytes, t.FirstStart, t.LastFinish, u == busiest);
        }).ToList();
        // A channel the program jams on at fifo_depth holds its timed-run peak (at least the depth it needs); any other
        // channel needs no more than fifo_depth: back-pressure would hold its producer, as the deadlock check shows.
        long Counted(int id) => needs[id] > machine.FifoDepth ? Math.Max(timed.ChannelPeaks[id], needs[id]) - machine.FifoDepth : 0;
        var channels = graph.Channels.Select((c, id) => (Channel: new ChannelCost(c.Name,
            c.Producer >= 0 ? units[c.Producer].Label : "nothing",
            c.Readers.Count == 0 ? "nothing" : string.Join(", ", c.Readers.Select(r => units[r.Unit].Label)),
            c.ElementBytes, c.Count, timed.ChannelPeaks[id], needs[id], Counted(id) * c.ElementBytes,
            Math.Max(0, timed.ChannelPeaks[id] - machine.FifoDepth) * c.ElementBytes), Id: id))
            .Where(p => graph.Channels[p.Id].Producer >= 0 || graph.Channels[p.Id].Readers.Count > 0)
            .Select(p => p.Channel)
            .ToList();
        long offchipTime = CeilDiv(offchip, machine.OffChipBytesPerCycle);
        long busy = timed.Units.Count == 0 ? 0 : timed.Units[busiest].Busy;
        return new ProgramCost(machine, timed.Cycles, offchip, ops.Sum(o => o.Flops), Math.Max(offchipTime, busy),
            offchipTime > busy ? "off-chip traffic" : units[busiest].Label,
            units.Where(u => u.Kind == "Bufferize").Sum(u => u.StorageBytes),
            units.Where(u => u.Kind is "Accum" or "Scan").Sum(u => u.StorageBytes),
            channels.Sum(c => c.Bytes),
            fifo, required, unbounded ?? (timed.Stall is { } stall ? new Deadlock("", 0, "", stall) : null), ops, channels);
    }
}
