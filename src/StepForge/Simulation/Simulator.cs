using StepForge.Diagnostics;
using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Simulation;

/// <summary>A runtime failure inside one op of the program: which op and where.</summary>
public sealed class SimulationException(string message, OpNode op, Exception? inner = null) : Exception(message, inner)
{
    public OpNode Op { get; } = op;
}

/// <summary>
/// Runs a typed STeP program on tensors. A stream is one tensor per dtype component, laid out as
/// step-semantics.md says: the stream's dims come first (outermost first), the element's dims last,
/// so every stream position owns one contiguous block. Dynamic sizes (after Partition) come from the data.
/// </summary>
/// <remarks>
/// Memory stays bounded at large sizes: Repeat and RepeatRef are views that copy nothing, fn bodies are evaluated on
/// chunks of positions, and a Map read only by a fold or another Map (directly, or through ops that keep the data as
/// it is) is computed chunk by chunk as its reader goes, so its whole output never exists. Chunks are sized by a
/// fixed count of values, never by the machine, so the work charged to the budget is the same everywhere.
/// </remarks>
public sealed class Simulator(FnRunner fns)
{
    /// <summary>About how many values one chunk of positions holds: large enough that an evaluation's fixed cost is small, small enough to stay in cache.</summary>
    internal const long ChunkValues = 1 << 20;

    /// <summary>Runs the program; returns the returned streams' component tensors, in return order.</summary>
    public IReadOnlyList<Tensor[]> Run(StepProgram program, IReadOnlyList<Tensor[]> inputs)
    {
        if (program.Ops.Count > fns.Interpreter.Budget.MaxOps)
            throw new LimitExceededException(Rules.LimitOps, $"the program has {program.Ops.Count} operators; at most {fns.Interpreter.Budget.MaxOps} are simulated");
        var streams = new StreamData?[program.Streams.Count];
        for (int i = 0; i < program.InputStreams.Count; i++)
            streams[program.InputStreams[i]] = new StreamData(program.Streams[program.InputStreams[i]], [.. inputs[i].Select(StreamComponent.Of)]);

        // A stream's data is dropped after its last reader, so a long program holds only the streams still to be read
        // (at large sizes each can be hundreds of megabytes).
        var lastReader = new int[program.Streams.Count];
        Array.Fill(lastReader, -1);
        for (int o = 0; o < program.Ops.Count; o++)
            foreach (var id in program.Ops[o].Inputs) lastReader[id] = o;
        foreach (var id in program.Returns) lastReader[id] = int.MaxValue;
        var deferred = DeferredMaps(program);

        for (int o = 0; o < program.Ops.Count; o++)
        {
            var op = program.Ops[o];
            var args = new List<StreamData>(op.Inputs.Count);
            foreach (var id in op.Inputs) args.Add(streams[id] ?? throw new SimulationException($"stream {program.StreamNames[id]} has no data", op));
            string? site = FoldLengths.Active ? $"op {o} {op.Op.Name}" : null;
            var outTypes = new StreamType[op.Outputs.Count];
            for (int i = 0; i < outTypes.Length; i++) outTypes[i] = program.Streams[op.Outputs[i]];
            IReadOnlyList<StreamComponent[]> outputs = deferred[o]
                ? [Deferred(((MapOp)op.Op).Fn, args, outTypes[0], op, site)]
                : Guarded(op, site, (Simulator: this, Op: op.Op, Args: args, OutTypes: outTypes), static s => s.Simulator.Execute(s.Op, s.Args, s.OutTypes));
            foreach (var id in op.Inputs)
                if (lastReader[id] == o) streams[id] = null;
            for (int i = 0; i < op.Outputs.Count; i++)
                streams[op.Outputs[i]] = new StreamData(outTypes[i], outputs[i]);
            fns.Interpreter.Budget.CheckTime();
        }
        return [.. program.Returns.Select(id => streams[id]!.Materialize())];
    }

    /// <summary>Runs <paramref name="body"/> on <paramref name="state"/> as op <paramref name="op"/>: its sums recorded at its site, its failures named after it.</summary>
    /// <remarks>The state is passed rather than captured: a capturing lambda would be allocated for every op of every run.</remarks>
    private static T Guarded<TState, T>(OpNode op, string? site, TState state, Func<TState, T> body)
    {
        using var at = site is null ? default : FoldLengths.At(site);
        try
        {
            return body(state);
        }
        catch (TensorException e)
        {
            throw new SimulationException($"{op.Op.Name}: {e.Message}", op, e);
        }
        catch (FnFailedException e)
        {
            throw new SimulationException($"{op.Op.Name}: {e.Message}", op, e);
        }
        catch (LimitExceededException e)
        {
            throw new SimulationException($"{op.Op.Name}: {e.Message}", op, e);
        }
        catch (OverflowException e)
        {
            throw new SimulationException($"{op.Op.Name}: a size overflows", op, new LimitExceededException(Rules.LimitInteger, $"{op.Op.Name}: a size overflows: {e.Message}"));
        }
    }

    /// <summary>
    /// Which Maps are computed as their reader goes: those whose output is read once, not returned, and reaches a fold
    /// or another Map through ops that keep the data as it is (Bufferize, Streamify, Promote, Flatten, Reshape, Zip).
    /// </summary>
    internal static bool[] DeferredMaps(StepProgram program)
    {
        // Each stream's number of readers and (when it has one) which op it is.
        var readerCount = new int[program.Streams.Count];
        var reader = new int[program.Streams.Count];
        for (int o = 0; o < program.Ops.Count; o++)
            foreach (var id in program.Ops[o].Inputs)
            {
                readerCount[id]++;
                reader[id] = o;
            }
        foreach (var id in program.Returns) readerCount[id] = int.MaxValue;
        bool ReadInChunks(int stream)
        {
            for (int depth = 0; depth < program.Ops.Count; depth++)
            {
                if (readerCount[stream] != 1) return false;
                var next = program.Ops[reader[stream]];
                switch (next.Op)
                {
                    case MapOp or AccumOp or ScanOp:
                        return true;
                    case BufferizeOp or StreamifyOp or PromoteOp or FlattenOp or ReshapeOp or ZipOp:
                        stream = next.Outputs[0];
                        break;
                    default:
                        return false;
                }
            }
            return false;
        }
        var deferred = new bool[program.Ops.Count];
        for (int o = 0; o < deferred.Length; o++)
            deferred[o] = program.Ops[o].Op is MapOp && ReadInChunks(program.Ops[o].Outputs[0]);
        return deferred;
    }

    /// <summary>
    /// Runs one op on streams given as types and component tensors (a search evaluates candidates op by op).
    /// Failures are <see cref="TensorException"/>, <see cref="FnFailedException"/> or <see cref="LimitExceededException"/>.
    /// </summary>
    public IReadOnlyList<Tensor[]> Apply(StepOp op, IReadOnlyList<StreamType> inputTypes, IReadOnlyList<Tensor[]> inputs, IReadOnlyList<StreamType> outTypes)
    {
        var outputs = Execute(op, [.. inputTypes.Select((t, i) => new StreamData(t, [.. inputs[i].Select(StreamComponent.Of)]))], outTypes);
        return [.. outputs.Select((o, i) => new StreamData(outTypes[i], o).Materialize())];
    }

    private IReadOnlyList<StreamComponent[]> Execute(StepOp op, List<StreamData> args, IReadOnlyList<StreamType> outTypes)
    {
        switch (op)
        {
            case MapOp map:
            {
                var x = Zip(args);
                var values = MapPositions(map.Fn, x, 0, checked((int)x.Positions));
                return [[.. values.Select(t => StreamComponent.Of(t.Reshape([.. x.StreamShape, .. t.Shape[1..]])))]];
            }
            case ZipOp:
                return [Zip(args).Components];
            case AccumOp accum:
                return [[.. Fold(accum.Fn, accum.B, args[0], outTypes[0], emitEveryStep: false).Select(StreamComponent.Of)]];
            case ScanOp scan:
                return [[.. Fold(scan.Fn, scan.B, args[0], outTypes[0], emitEveryStep: true).Select(StreamComponent.Of)]];
            case BufferizeOp or StreamifyOp:
                return [args[0].Components];
            case PromoteOp promote:
                return [Promote(args[0], promote)];
            case FlattenOp flatten:
                return [Flatten(args[0], flatten)];
            case ReshapeOp reshape:
                return [Reshape(args[0], reshape)];
            case RepeatOp repeat:
                return [Repeat(args[0], fns.Size(repeat.N))];
            case RepeatRefOp:
            {
                var reference = args[1];
                int n = reference.StreamShape[^1];
                return [Repeat(args[0], n)];
            }
            case CopyOp:
                return [args[0].Components, args[0].Components];
            case PartitionOp:
                return Partition(args[0], args[1], outTypes.Count);
            case MergeOp merge:
                return [[.. Merge(merge.Fn, args.Take(args.Count - 1).ToList(), args[^1], outTypes[0]).Select(StreamComponent.Of)]];
            default:
                throw new TensorException($"op {op.Name} cannot be simulated");
        }
    }

    /// <summary>A Map computed chunk by chunk as its one reader reads it.</summary>
    private StreamComponent[] Deferred(FnDecl fn, List<StreamData> args, StreamType outType, OpNode op, string? site)
    {
        var x = Zip(args);
        var shapes = outType.DType.Components.Select(c => (int[])[.. x.StreamShape, .. fns.ElementShape(c)]).ToArray();
        // The same limit as if the output were stored: whether it is deferred must not change the verdict.
        foreach (var shape in shapes) CheckSize(Tensor.Numel(shape));
        var map = new DeferredMap((first, count) => Guarded(op, site, (Simulator: this, Fn: fn, X: x, First: first, Count: count),
            static s => s.Simulator.MapPositions(s.Fn, s.X, s.First, s.Count)));
        return [.. shapes.Select((shape, c) => new StreamComponent(shape, new DeferredValues(map, c, Tensor.Numel(shape[x.StreamAxes..]))))];
    }

    /// <summary>A stream as large as a tensor may be: views and deferred Maps obey the per-tensor limit like stored streams.</summary>
    private static void CheckSize(long values)
    {
        if (values > int.MaxValue) throw new LimitExceededException($"a tensor of {values:N0} elements is too large");
        if (Tensor.Budget is { } budget && values > budget.MaxTensorElements)
            throw new LimitExceededException(Rules.LimitTensor, $"a tensor of {values:N0} elements exceeds the limit of {budget.MaxTensorElements:N0}");
    }

    private static int ElementCount(StreamData s) => s.Components[0].Shape.Length - s.StreamAxes;

    private static StreamData Zip(List<StreamData> args)
    {
        if (args.Count == 1) return args[0];
        var shape = args[0].StreamShape;
        foreach (var a in args.Skip(1))
            if (!a.StreamShape.SequenceEqual(shape))
                throw new TensorException($"zipped streams have different sizes: ({string.Join(", ", shape)}) and ({string.Join(", ", a.StreamShape)})");
        return new StreamData(new StreamType(DType.Tuple(args.Select(a => a.Type.DType)), args[0].Type.Shape), [.. args.SelectMany(a => a.Components)]);
    }

    // Promote, Flatten and Reshape in methods of their own: their lambdas' captures would otherwise be allocated on
    // every call of Execute, whatever the op.
    private static StreamComponent[] Promote(StreamData x, PromoteOp promote) =>
        Reshaped(x, full => full.Insert(ElementCount(x) + promote.B, 1));

    private static StreamComponent[] Flatten(StreamData x, FlattenOp flatten) =>
        Reshaped(x, full =>
        {
            int e = ElementCount(x), first = e + flatten.L[0] - 1, last = e + flatten.L[^1];
            int product = 1;
            for (int i = first; i <= last; i++) product *= full[i];
            full.RemoveRange(first, last - first + 1);
            full.Insert(first, product);
        });

    private StreamComponent[] Reshape(StreamData x, ReshapeOp reshape) =>
        Reshaped(x, full =>
        {
            int e = ElementCount(x);
            int s = fns.Size(reshape.S);
            foreach (var index in reshape.L.OrderDescending())
            {
                int size = full[e + index];
                if (size % s != 0) throw new TensorException($"dim {index} of size {size} is not divisible by {s}");
                full[e + index] = size / s;
                full.Insert(e + index, s);
            }
        });

    /// <summary>Reinterprets the data with a new dims list; <paramref name="edit"/> changes the innermost-first list of the first component.</summary>
    private static StreamComponent[] Reshaped(StreamData s, Action<List<int>> edit)
    {
        int streamAxes = s.StreamAxes;
        return [.. s.Components.Select(c =>
        {
            var full = c.Shape.Reverse().ToList();
            int elementCount = c.Shape.Length - streamAxes;
            var streamPart = full.Skip(elementCount).ToList();
            var probe = Enumerable.Repeat(0, ElementCount(s)).Concat(streamPart).ToList();
            edit(probe);
            var newShape = full.Take(elementCount).Concat(probe.Skip(ElementCount(s))).Reverse().ToArray();
            if (Tensor.Numel(newShape) != c.Count)
                throw new TensorException($"cannot reshape a stream of shape ({string.Join(", ", c.Shape)}) to ({string.Join(", ", newShape)})");
            return c with { Shape = newShape };
        })];
    }

    /// <summary>Every element repeated n times as a new innermost stream dim: a view, nothing is copied.</summary>
    private static StreamComponent[] Repeat(StreamData s, int n)
    {
        int axes = s.StreamAxes;
        return [.. s.Components.Select((c, i) =>
        {
            int[] shape = [.. c.Shape[..axes], n, .. c.Shape[axes..]];
            CheckSize(Tensor.Numel(shape));
            return new StreamComponent(shape, new RepeatedValues(c.Values, s.ElementSizes[i], n));
        })];
    }

    private Tensor[] Allocate(int[] streamShape, DType dtype) =>
        [.. dtype.Components.Select(c => Tensor.Allocate([.. streamShape, .. fns.ElementShape(c)]))];

    /// <summary>Element <paramref name="index"/> of stacked component tensors, as a copy.</summary>
    private static Tensor[] Element(Tensor[] stacked, int index) =>
        [.. stacked.Select(t =>
        {
            var slice = Tensor.Uninitialized(t.Shape[1..]);
            Array.Copy(t.Data, (long)index * slice.Count, slice.Data, 0, slice.Count);
            return slice;
        })];

    private static void Write(Tensor target, long position, Tensor value) =>
        Array.Copy(value.Data, 0, target.Data, position * value.Count, value.Count);

    /// <summary>How many positions of a stream one evaluation takes: about <see cref="ChunkValues"/> values in or out.</summary>
    private int ChunkPositions(StreamData x, DType output)
    {
        long perPosition = Math.Max(1, Math.Max(x.ValuesPerPosition, output.Components.Sum(c => Tensor.Numel(fns.ElementShape(c)))));
        return (int)Math.Max(1, ChunkValues / perPosition);
    }

    /// <summary>The fn applied to positions [first, first + count) of <paramref name="x"/>: one tensor per output component, stacked.</summary>
    private Tensor[] MapPositions(FnDecl fn, StreamData x, long first, int count)
    {
        int chunk = ChunkPositions(x, fn.Output);
        // A reader's chunk (sized by its own element) is taken in one evaluation when it is not much larger.
        if (count <= 4L * chunk) return MapChunk(fn, x, first, count);
        var output = Allocate([count], fn.Output);
        for (int done = 0; done < count; done += chunk)
        {
            int size = Math.Min(chunk, count - done);
            // Everything a chunk allocates is dead once it is copied out: the next chunk reuses its storage.
            using var recycled = TensorArena.Open();
            var values = MapChunk(fn, x, first + done, size);
            for (int c = 0; c < output.Length; c++) Array.Copy(values[c].Data, 0, output[c].Data, (long)done * (values[c].Count / Math.Max(1, size)), values[c].Count);
        }
        return output;
    }

    private Tensor[] MapChunk(FnDecl fn, StreamData x, long first, int count)
    {
        var input = x.Read(first, count);
        if (fns.CallBatched(fn, count, input, null) is { } batched) return batched;
        var output = Allocate([count], fn.Output);
        for (int p = 0; p < count; p++)
        {
            var result = fns.Call(fn, Element(input, p), null);
            for (int c = 0; c < output.Length; c++) Write(output[c], p, result[c]);
        }
        return output;
    }

    /// <summary>
    /// Accum and Scan: for every outer position, the state folds over the inner positions in row-major order. Outer
    /// positions are taken a chunk at a time, and with them a block of inner positions at a time, each read once.
    /// </summary>
    private Tensor[] Fold(FnDecl fn, int b, StreamData x, StreamType outType, bool emitEveryStep)
    {
        var shape = x.StreamShape;
        int outerAxes = shape.Length - b;
        int outer = shape[..outerAxes].Aggregate(1, (a, c) => checked(a * c));
        int inner = shape[outerAxes..].Aggregate(1, (a, c) => checked(a * c));
        var output = Allocate(emitEveryStep ? shape : shape[..outerAxes], outType.DType);
        FoldLengths.Report(inner);
        if (outer == 0 || inner == 0)
        {
            if (!emitEveryStep)
                for (int o = 0; o < outer; o++)
                {
                    var init = fns.Init(fn);
                    for (int c = 0; c < output.Length; c++) Write(output[c], o, init[c]);
                }
            return output;
        }
        // Values per chunk: rows of whole inner folds when one fits, else square-ish blocks of rows by steps.
        long budget = Math.Max(1, ChunkValues / Math.Max(1, Math.Max(x.ValuesPerPosition, output.Sum(t => (long)t.Count) / Math.Max(1, emitEveryStep ? (long)outer * inner : outer))));
        int steps, rows;
        if (inner <= budget)
        {
            steps = inner;
            rows = (int)Math.Min(outer, budget / inner);
        }
        else
        {
            steps = (int)Math.Max(1, Math.Sqrt(budget));
            rows = (int)Math.Min(outer, Math.Max(1, budget / steps));
        }
        for (int o0 = 0; o0 < outer; o0 += rows)
        {
            int count = Math.Min(rows, outer - o0);
            if (!(fns.Batching && count >= 2 && FoldRowsBatched(fn, x, o0, count, inner, steps, output, emitEveryStep)))
                FoldRows(fn, x, o0, count, inner, steps, output, emitEveryStep);
        }
        return output;
    }

    /// <summary>Positions [i0, i0 + steps) of the inner fold of rows [o0, o0 + count): per component a tensor (count, steps, element...).</summary>
    private static Tensor[] ReadBlock(StreamData x, int o0, int count, int inner, int i0, int steps)
    {
        if (steps == inner)
            return [.. x.Read((long)o0 * inner, checked(count * inner)).Select(t => t.Reshape([count, inner, .. t.Shape[1..]]))];
        var block = new Tensor[x.Components.Length];
        for (int c = 0; c < block.Length; c++) block[c] = Tensor.Uninitialized([count, steps, .. x.ElementShape(c)]);
        for (int o = 0; o < count; o++)
            for (int c = 0; c < block.Length; c++)
            {
                long size = steps * x.ElementSizes[c];
                x.Components[c].Values.Read(((long)(o0 + o) * inner + i0) * x.ElementSizes[c], block[c].Data.AsSpan(checked((int)(o * size)), (int)size));
            }
        return block;
    }

    /// <summary>The fold of rows [o0, o0 + count) with all of them at once: one evaluation per inner step. False when the fn does not batch.</summary>
    private bool FoldRowsBatched(FnDecl fn, StreamData x, int o0, int count, int inner, int steps, Tensor[] output, bool emitEveryStep)
    {
        var state = fns.Init(fn).Select(t => t.Unsqueeze(0).BroadcastTo([count, .. t.Shape])).ToArray();
        for (int i0 = 0; i0 < inner; i0 += steps)
        {
            int size = Math.Min(steps, inner - i0);
            // A block's reads and evaluations are dead at its end but for the state, which is copied out of the scope
            // first: the next block reuses their storage.
            using var recycled = TensorArena.Open();
            var items = ReadBlock(x, o0, count, inner, i0, size);
            // Each component's step shape (count, element...), made once per block: shapes are never written.
            var stepShapes = new int[items.Length][];
            for (int c = 0; c < items.Length; c++) stepShapes[c] = [count, .. items[c].Shape.AsSpan(2)];
            for (int i = 0; i < size; i++)
            {
                var step = new Tensor[items.Length];
                for (int c = 0; c < step.Length; c++) step[c] = StepOf(items[c], i, stepShapes[c]);
                if (fns.CallBatched(fn, count, step, state) is not { } next) return false;
                state = next;
                if (emitEveryStep)
                    for (int c = 0; c < output.Length; c++)
                    {
                        int block = state[c].Count / count;
                        for (int o = 0; o < count; o++)
                            Array.Copy(state[c].Data, (long)o * block, output[c].Data, ((long)(o0 + o) * inner + i0 + i) * block, block);
                    }
            }
            using (TensorArena.Suspend()) state = [.. state.Select(t => t.Copy())];
        }
        if (!emitEveryStep)
            for (int c = 0; c < output.Length; c++) Array.Copy(state[c].Data, 0, output[c].Data, (long)o0 * (state[c].Count / count), state[c].Count);
        return true;
    }

    /// <summary>Step <paramref name="i"/> of every row of a block (count, steps, element...): a copy of the given shape (count, element...).</summary>
    private static Tensor StepOf(Tensor block, int i, int[] shape)
    {
        int count = block.Shape[0], steps = block.Shape[1];
        int element = (int)Tensor.Numel(block.Shape.AsSpan(2));
        var step = Tensor.Uninitialized(shape, block.Kind);
        float[] from = block.Data, to = step.Data;
        // Scalar elements (the common fold) one value at a time: a copy call per value would cost more than the value.
        if (element == 1)
            for (int o = 0, at = i; o < count; o++, at += steps) to[o] = from[at];
        else
            for (int o = 0; o < count; o++)
                from.AsSpan(checked((int)(((long)o * steps + i) * element)), element).CopyTo(to.AsSpan(o * element, element));
        return step;
    }

    /// <summary>The fold of rows [o0, o0 + count), one element at a time.</summary>
    private void FoldRows(FnDecl fn, StreamData x, int o0, int count, int inner, int steps, Tensor[] output, bool emitEveryStep)
    {
        for (int o = o0; o < o0 + count; o++)
        {
            var state = fns.Init(fn);
            for (int i0 = 0; i0 < inner; i0 += steps)
            {
                int size = Math.Min(steps, inner - i0);
                var items = x.Read((long)o * inner + i0, size);
                for (int i = 0; i < size; i++)
                {
                    state = fns.Call(fn, Element(items, i), state);
                    if (emitEveryStep) for (int c = 0; c < output.Length; c++) Write(output[c], (long)o * inner + i0 + i, state[c]);
                }
            }
            if (!emitEveryStep) for (int c = 0; c < output.Length; c++) Write(output[c], o, state[c]);
        }
    }

    private static List<StreamComponent[]> Partition(StreamData x, StreamData idx, int experts)
    {
        int idxAxes = idx.StreamAxes;
        long positions = idx.Positions;
        var flagTensor = idx.Materialize()[0];
        int width = flagTensor.Shape[^1];
        if (width != experts) throw new TensorException($"the multihot has {width} flags but Partition makes {experts} streams");
        if (!x.Components[0].Shape[..idxAxes].SequenceEqual(idx.StreamShape))
            throw new TensorException("the outer dims of x do not match the index stream");
        var rows = Enumerable.Range(0, experts).Select(_ => new List<long>()).ToList();
        var flags = flagTensor.Data;
        for (long p = 0; p < positions; p++)
            for (int e = 0; e < experts; e++)
                if (flags[p * width + e] != 0) rows[e].Add(p);
        return [.. rows.Select(r => x.Components.Select(c =>
        {
            var blockShape = c.Shape[idxAxes..];
            int block = checked((int)Tensor.Numel(blockShape));
            var result = Tensor.Uninitialized([r.Count, .. blockShape]);
            for (int k = 0; k < r.Count; k++) c.Values.Read(r[k] * block, result.Data.AsSpan(k * block, block));
            return StreamComponent.Of(result);
        }).ToArray())];
    }

    private Tensor[] Merge(FnDecl fn, List<StreamData> streams, StreamData idx, StreamType outType)
    {
        long idxPositions = idx.Positions;
        var flagTensor = idx.Materialize()[0];
        int width = flagTensor.Shape[^1];
        if (width != streams.Count) throw new TensorException($"the multihot has {width} flags but Merge has {streams.Count} streams");
        var flags = flagTensor.Data;
        // Every expert stream is [count, common..., element...]; the fold runs over each common position.
        var common = streams[0].Components[0].Shape[1..streams[0].StreamAxes];
        int commonPositions = common.Aggregate(1, (a, b) => checked(a * b));
        var output = Allocate([.. idx.StreamShape, .. common], outType.DType);
        if (fns.Batching && MergeBatched(fn, streams, flags, width, idxPositions, commonPositions, output)) return output;
        var next = new int[streams.Count];
        for (long p = 0; p < idxPositions; p++)
        {
            var chosen = Enumerable.Range(0, width).Where(e => flags[p * width + e] != 0).ToList();
            if (chosen.Count == 0) continue;
            foreach (var e in chosen)
                if (next[e] >= streams[e].Components[0].Shape[0])
                    throw new TensorException($"expert stream {e} has fewer elements than the multihot selects");
            for (int j = 0; j < commonPositions; j++)
            {
                var state = fns.Init(fn);
                foreach (var e in chosen)
                    state = fns.Call(fn, streams[e].ElementAt((long)next[e] * commonPositions + j), state);
                for (int c = 0; c < output.Length; c++) Write(output[c], p * commonPositions + j, state[c]);
            }
            foreach (var e in chosen) next[e]++;
        }
        return output;
    }

    /// <summary>
    /// Merge with many positions at once: fold step k evaluates, in one call, the k-th chosen element of every position
    /// that chose more than k experts. Positions are taken a chunk at a time, the deepest first, so that the positions
    /// still folding at a step are a prefix of the chunk. False, with nothing evaluated that the caller keeps, when the
    /// fn does not batch or the data is not as the per-element fold expects (which then reports it).
    /// </summary>
    private bool MergeBatched(FnDecl fn, List<StreamData> streams, float[] flags, int width, long idxPositions, int commonPositions, Tensor[] output)
    {
        int experts = streams.Count, components = streams[0].Components.Length;
        var elementSizes = streams[0].ElementSizes;
        foreach (var s in streams)
            if (!s.ElementSizes.AsSpan().SequenceEqual(elementSizes)) return false;
        // Which element of each expert's stream every position takes (-1: not chosen), and how many it takes.
        var element = new int[checked((int)idxPositions * experts)];
        var depth = new int[idxPositions];
        var taken = new int[experts];
        for (long p = 0; p < idxPositions; p++)
            for (int e = 0; e < experts; e++)
            {
                if (flags[p * width + e] == 0) { element[p * experts + e] = -1; continue; }
                if (taken[e] >= streams[e].Components[0].Shape[0]) return false;
                element[p * experts + e] = taken[e]++;
                depth[p]++;
            }
        // Positions that chose any expert, deepest first (stably): the ones still folding at step k are a prefix.
        var order = Enumerable.Range(0, (int)idxPositions).Where(p => depth[p] > 0).OrderByDescending(p => depth[p]).ToArray();
        if (order.Length == 0 || commonPositions == 0) return true;
        long perPosition = (long)commonPositions * Math.Max(1, Math.Max(elementSizes.Sum(), output.Sum(t => t.Count / Math.Max(1, (long)idxPositions * commonPositions))));
        int chunk = (int)Math.Clamp(ChunkValues / perPosition, 1, order.Length);
        var shapes = Enumerable.Range(0, components).Select(c => streams[0].ElementShape(c)).ToArray();
        for (int a = 0; a < order.Length; a += chunk)
        {
            int n = Math.Min(chunk, order.Length - a);
            // Everything a chunk allocates is dead once its states are copied out: the next chunk reuses its storage.
            using var recycled = TensorArena.Open();
            var state = fns.Init(fn).Select(t => t.Unsqueeze(0).BroadcastTo([n * commonPositions, .. t.Shape])).ToArray();
            int active = n;
            for (int k = 0; k < depth[order[a]]; k++)
            {
                int still = active;
                while (still > 0 && depth[order[a + still - 1]] <= k) still--;
                if (still < active)
                {
                    WriteMerged(state, order.AsSpan(a + still, active - still), still, commonPositions, output);
                    state = [.. state.Select(t => t.Index([new Tensor.Range(0, still * commonPositions, 1)]))];
                    active = still;
                }
                var input = new Tensor[components];
                for (int c = 0; c < components; c++)
                {
                    long size = elementSizes[c];
                    input[c] = Tensor.Uninitialized([active * commonPositions, .. shapes[c]]);
                    var into = input[c].Data.AsSpan();
                    for (int i = 0; i < active; i++)
                    {
                        int p = order[a + i], e = KthChosen(element.AsSpan(p * experts, experts), k);
                        long first = (long)element[p * experts + e] * commonPositions * size;
                        int values = checked((int)(commonPositions * size));
                        streams[e].Components[c].Values.Read(first, into.Slice(i * values, values));
                    }
                }
                if (fns.CallBatched(fn, active * commonPositions, input, state) is not { } next)
                {
                    foreach (var t in output) Array.Clear(t.Data);
                    return false;
                }
                state = next;
            }
            WriteMerged(state, order.AsSpan(a, active), 0, commonPositions, output);
        }
        return true;
    }

    /// <summary>The expert of the k-th chosen element of a position, given which element of each expert it takes.</summary>
    private static int KthChosen(ReadOnlySpan<int> elements, int k)
    {
        for (int e = 0; e < elements.Length; e++)
            if (elements[e] >= 0 && k-- == 0) return e;
        throw new InvalidOperationException("a position has fewer chosen experts than its depth");
    }

    /// <summary>Copies the final states of positions whose rows start at row <paramref name="firstRow"/> of the batched state into the output.</summary>
    private static void WriteMerged(Tensor[] state, ReadOnlySpan<int> positions, int firstRow, int commonPositions, Tensor[] output)
    {
        for (int c = 0; c < output.Length; c++)
        {
            int block = state[c].Count / state[c].Shape[0] * commonPositions;
            for (int i = 0; i < positions.Length; i++)
                Array.Copy(state[c].Data, (long)(firstRow + i) * block, output[c].Data, (long)positions[i] * block, block);
        }
    }
}
