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
public sealed class Simulator(FnRunner fns)
{
    private sealed record StreamData(StreamType Type, Tensor[] Components)
    {
        /// <summary>How many leading tensor axes belong to the stream (the rest are the element's).</summary>
        public int StreamAxes => Components[0].Rank - StreamType.ElementDims(Type.DType.Components[0]).Count();

        public int[] StreamShape => Components[0].Shape[..StreamAxes];

        public int Positions => Components[0].Shape[..StreamAxes].Aggregate(1, (a, b) => a * b);
    }

    /// <summary>Runs the program; returns the returned streams' component tensors, in return order.</summary>
    public IReadOnlyList<Tensor[]> Run(StepProgram program, IReadOnlyList<Tensor[]> inputs)
    {
        if (program.Ops.Count > fns.Interpreter.Budget.MaxOps)
            throw new LimitExceededException(ExecutionBudget.OpsRule, $"the program has {program.Ops.Count} operators; at most {fns.Interpreter.Budget.MaxOps} are simulated");
        var streams = new StreamData?[program.Streams.Count];
        for (int i = 0; i < program.InputStreams.Count; i++)
            streams[program.InputStreams[i]] = new StreamData(program.Streams[program.InputStreams[i]], inputs[i]);

        // A stream's data is dropped after its last reader, so a long program holds only the streams still to be read
        // (at large sizes each can be hundreds of megabytes).
        var lastReader = new int[program.Streams.Count];
        Array.Fill(lastReader, -1);
        for (int o = 0; o < program.Ops.Count; o++)
            foreach (var id in program.Ops[o].Inputs) lastReader[id] = o;
        foreach (var id in program.Returns) lastReader[id] = int.MaxValue;

        for (int o = 0; o < program.Ops.Count; o++)
        {
            var op = program.Ops[o];
            var args = op.Inputs.Select(id => streams[id] ?? throw new SimulationException($"stream {program.StreamNames[id]} has no data", op)).ToList();
            using var site = FoldLengths.Active ? FoldLengths.At($"op {o} {op.Op.Name}") : default;
            IReadOnlyList<Tensor[]> outputs;
            try
            {
                outputs = Execute(op.Op, args, [.. op.Outputs.Select(o => program.Streams[o])]);
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
                throw new SimulationException($"{op.Op.Name}: a size overflows", op, new LimitExceededException("limit.integer", $"{op.Op.Name}: a size overflows: {e.Message}"));
            }
            foreach (var id in op.Inputs)
                if (lastReader[id] == o) streams[id] = null;
            for (int i = 0; i < op.Outputs.Count; i++)
                streams[op.Outputs[i]] = new StreamData(program.Streams[op.Outputs[i]], outputs[i]);
            fns.Interpreter.Budget.CheckTime();
        }
        return [.. program.Returns.Select(id => streams[id]!.Components)];
    }

    /// <summary>
    /// Runs one op on streams given as types and component tensors (a search evaluates candidates op by op).
    /// Failures are <see cref="TensorException"/>, <see cref="FnFailedException"/> or <see cref="LimitExceededException"/>.
    /// </summary>
    public IReadOnlyList<Tensor[]> Apply(StepOp op, IReadOnlyList<StreamType> inputTypes, IReadOnlyList<Tensor[]> inputs, IReadOnlyList<StreamType> outTypes) =>
        Execute(op, [.. inputTypes.Select((t, i) => new StreamData(t, inputs[i]))], outTypes);

    private IReadOnlyList<Tensor[]> Execute(StepOp op, List<StreamData> args, IReadOnlyList<StreamType> outTypes)
    {
        switch (op)
        {
            case MapOp map:
                return [Map(map.Fn, Zip(args), outTypes[0])];
            case ZipOp:
                return [Zip(args).Components];
            case AccumOp accum:
                return [Fold(accum.Fn, accum.B, args[0], outTypes[0], emitEveryStep: false)];
            case ScanOp scan:
                return [Fold(scan.Fn, scan.B, args[0], outTypes[0], emitEveryStep: true)];
            case BufferizeOp or StreamifyOp:
                return [args[0].Components];
            case PromoteOp promote:
                return [Reshaped(args[0], full => full.Insert(ElementCount(args[0]) + promote.B, 1))];
            case FlattenOp flatten:
                return [Reshaped(args[0], full =>
                {
                    int e = ElementCount(args[0]), first = e + flatten.L[0] - 1, last = e + flatten.L[^1];
                    int product = 1;
                    for (int i = first; i <= last; i++) product *= full[i];
                    full.RemoveRange(first, last - first + 1);
                    full.Insert(first, product);
                })];
            case ReshapeOp reshape:
                return [Reshaped(args[0], full =>
                {
                    int e = ElementCount(args[0]);
                    int s = fns.Size(reshape.S);
                    foreach (var index in reshape.L.OrderDescending())
                    {
                        int size = full[e + index];
                        if (size % s != 0) throw new TensorException($"dim {index} of size {size} is not divisible by {s}");
                        full[e + index] = size / s;
                        full.Insert(e + index, s);
                    }
                })];
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
                return [Merge(merge.Fn, args.Take(args.Count - 1).ToList(), args[^1], outTypes[0])];
            default:
                throw new TensorException($"op {op.Name} cannot be simulated");
        }
    }

    private static int ElementCount(StreamData s) => s.Components[0].Rank - s.StreamAxes;

    private static StreamData Zip(List<StreamData> args)
    {
        if (args.Count == 1) return args[0];
        var shape = args[0].StreamShape;
        foreach (var a in args.Skip(1))
            if (!a.StreamShape.SequenceEqual(shape))
                throw new TensorException($"zipped streams have different sizes: ({string.Join(", ", shape)}) and ({string.Join(", ", a.StreamShape)})");
        return new StreamData(new StreamType(DType.Tuple(args.Select(a => a.Type.DType)), args[0].Type.Shape), [.. args.SelectMany(a => a.Components)]);
    }

    /// <summary>Reinterprets the data with a new dims list; <paramref name="edit"/> changes the innermost-first list of the first component.</summary>
    private static Tensor[] Reshaped(StreamData s, Action<List<int>> edit)
    {
        int streamAxes = s.StreamAxes;
        return [.. s.Components.Select(c =>
        {
            var full = c.Shape.Reverse().ToList();
            int elementCount = c.Rank - streamAxes;
            var streamPart = full.Skip(elementCount).ToList();
            var probe = Enumerable.Repeat(0, ElementCount(s)).Concat(streamPart).ToList();
            edit(probe);
            var newShape = full.Take(elementCount).Concat(probe.Skip(ElementCount(s))).Reverse().ToArray();
            return c.Reshape(newShape);
        })];
    }

    private static Tensor[] Repeat(StreamData s, int n)
    {
        int axes = s.StreamAxes;
        return [.. s.Components.Select(c =>
        {
            var expanded = c.Unsqueeze(axes);
            var shape = expanded.Shape.ToArray();
            shape[axes] = n;
            return expanded.BroadcastTo(shape);
        })];
    }

    private static Tensor Slice(Tensor t, int position, int[] elementShape)
    {
        var slice = Tensor.Allocate(elementShape);
        Array.Copy(t.Data, position * slice.Count, slice.Data, 0, slice.Count);
        return slice;
    }

    private static void Write(Tensor target, int position, Tensor value)
    {
        Array.Copy(value.Data, 0, target.Data, position * value.Count, value.Count);
    }

    private Tensor[] Allocate(int[] streamShape, DType dtype) =>
        [.. dtype.Components.Select(c => Tensor.Allocate([.. streamShape, .. fns.ElementShape(c)]))];

    private Tensor[] Elements(StreamData s, int position) =>
        [.. s.Components.Select((c, i) => Slice(c, position, c.Shape[s.StreamAxes..]))];

    /// <summary>Every position's element of each component, stacked along one leading axis.</summary>
    private static Tensor[] Stacked(StreamData s) =>
        [.. s.Components.Select(c => c.Reshape([s.Positions, .. c.Shape[s.StreamAxes..]]))];

    private Tensor[] Map(FnDecl fn, StreamData x, StreamType outType)
    {
        if (fns.CallBatched(fn, x.Positions, Stacked(x), null) is { } batched)
            return [.. batched.Select(t => t.Reshape([.. x.StreamShape, .. t.Shape[1..]]))];
        var output = Allocate(x.StreamShape, outType.DType);
        for (int p = 0; p < x.Positions; p++)
        {
            var result = fns.Call(fn, Elements(x, p), null);
            for (int c = 0; c < output.Length; c++) Write(output[c], p, result[c]);
        }
        return output;
    }

    private Tensor[] Fold(FnDecl fn, int b, StreamData x, StreamType outType, bool emitEveryStep)
    {
        var shape = x.StreamShape;
        int outerAxes = shape.Length - b;
        int outer = shape[..outerAxes].Aggregate(1, (a, c) => a * c);
        int inner = shape[outerAxes..].Aggregate(1, (a, c) => a * c);
        var output = Allocate(emitEveryStep ? shape : shape[..outerAxes], outType.DType);
        FoldLengths.Report(inner);
        if (FoldBatched(fn, x, outer, inner, output, emitEveryStep)) return output;
        for (int o = 0; o < outer; o++)
        {
            var state = fns.Init(fn);
            for (int i = 0; i < inner; i++)
            {
                state = fns.Call(fn, Elements(x, o * inner + i), state);
                if (emitEveryStep) for (int c = 0; c < output.Length; c++) Write(output[c], o * inner + i, state[c]);
            }
            if (!emitEveryStep) for (int c = 0; c < output.Length; c++) Write(output[c], o, state[c]);
        }
        return output;
    }

    /// <summary>The fold with every outer position at once: one evaluation per inner step.</summary>
    private bool FoldBatched(FnDecl fn, StreamData x, int outer, int inner, Tensor[] output, bool emitEveryStep)
    {
        if (!fns.Batching || outer < 2) return false;
        var init = fns.Init(fn);
        var state = init.Select(t => t.Unsqueeze(0).BroadcastTo([outer, .. t.Shape])).ToArray();
        var items = x.Components.Select(c => c.Reshape([outer, inner, .. c.Shape[x.StreamAxes..]])).ToArray();
        for (int i = 0; i < inner; i++)
        {
            var step = items.Select(t => t.Index([new Tensor.Range(null, null, null), new Tensor.At(i)])).ToArray();
            if (fns.CallBatched(fn, outer, step, state) is not { } next) return false;
            state = next;
            if (emitEveryStep)
                for (int c = 0; c < output.Length; c++)
                {
                    int block = state[c].Count / outer;
                    for (int o = 0; o < outer; o++) Array.Copy(state[c].Data, o * block, output[c].Data, (o * inner + i) * block, block);
                }
        }
        if (!emitEveryStep)
            for (int c = 0; c < output.Length; c++) Array.Copy(state[c].Data, output[c].Data, output[c].Count);
        return true;
    }

    private static List<Tensor[]> Partition(StreamData x, StreamData idx, int experts)
    {
        int idxAxes = idx.StreamAxes;
        int positions = idx.Positions;
        int width = idx.Components[0].Shape[^1];
        if (width != experts) throw new TensorException($"the multihot has {width} flags but Partition makes {experts} streams");
        if (!x.Components[0].Shape[..idxAxes].SequenceEqual(idx.StreamShape))
            throw new TensorException("the outer dims of x do not match the index stream");
        var rows = Enumerable.Range(0, experts).Select(_ => new List<int>()).ToList();
        var flags = idx.Components[0].Data;
        for (int p = 0; p < positions; p++)
            for (int e = 0; e < experts; e++)
                if (flags[p * width + e] != 0) rows[e].Add(p);
        return [.. rows.Select(r => x.Components.Select(c =>
        {
            var blockShape = c.Shape[idxAxes..];
            int block = blockShape.Aggregate(1, (a, b) => a * b);
            var result = Tensor.Allocate([r.Count, .. blockShape]);
            for (int k = 0; k < r.Count; k++) Array.Copy(c.Data, r[k] * block, result.Data, k * block, block);
            return result;
        }).ToArray())];
    }

    private Tensor[] Merge(FnDecl fn, List<StreamData> streams, StreamData idx, StreamType outType)
    {
        int idxPositions = idx.Positions;
        int width = idx.Components[0].Shape[^1];
        if (width != streams.Count) throw new TensorException($"the multihot has {width} flags but Merge has {streams.Count} streams");
        var flags = idx.Components[0].Data;
        // Every expert stream is [count, common..., element...]; the fold runs over each common position.
        var common = streams[0].Components[0].Shape[1..streams[0].StreamAxes];
        int commonPositions = common.Aggregate(1, (a, b) => a * b);
        var output = Allocate([.. idx.StreamShape, .. common], outType.DType);
        var next = new int[streams.Count];
        for (int p = 0; p < idxPositions; p++)
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
                    state = fns.Call(fn, Elements(streams[e], next[e] * commonPositions + j), state);
                for (int c = 0; c < output.Length; c++) Write(output[c], p * commonPositions + j, state[c]);
            }
            foreach (var e in chosen) next[e]++;
        }
        return output;
    }
}
