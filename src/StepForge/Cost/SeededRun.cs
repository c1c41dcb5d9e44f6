using StepForge.Simulation;
using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Cost;

/// <summary>What the cost model needs to know about one stream from the seeded run.</summary>
/// <param name="Dims">The stream's sizes, innermost first (dynamic dims as the data made them).</param>
/// <param name="ElementValues">fp32 values in one element, over all tuple components.</param>
/// <param name="Flags">For a stream Partition or Merge routes by: the multihot flags, <see cref="Count"/> rows of <see cref="Width"/>.</param>
public sealed record StreamFacts(long Count, IReadOnlyList<int> Dims, long ElementValues, float[]? Flags, int Width)
{
    public long ElementBytes => 4 * ElementValues;

    /// <summary>Whether flag <paramref name="expert"/> is set at position <paramref name="position"/>.</summary>
    public bool Flag(long position, int expert) => Flags![position * Width + expert] != 0;
}

/// <summary>
/// Runs a typed program op by op on the seeded data (the simulator's own <see cref="Simulator.Apply"/>), keeping
/// what the timed run needs: every stream's sizes, the routing flags of Partition and Merge, and one element of each
/// fn's input (to count its flops on real shapes). Data is dropped after its last reader, as the simulator does.
/// </summary>
public static class SeededRun
{
    public sealed record Result(IReadOnlyList<StreamFacts> Streams, IReadOnlyDictionary<int, Tensor[]> FnSamples);

    /// <exception cref="SimulationException">when an op fails on the data.</exception>
    public static Result Run(StepProgram program, Simulator simulator, IReadOnlyList<Tensor[]> inputs)
    {
        var data = new Tensor[]?[program.Streams.Count];
        var facts = new StreamFacts?[program.Streams.Count];
        var lastReader = new int[program.Streams.Count];
        Array.Fill(lastReader, -1);
        var routing = new HashSet<int>();
        for (int o = 0; o < program.Ops.Count; o++)
        {
            var op = program.Ops[o];
            foreach (var id in op.Inputs) lastReader[id] = o;
            if (op.Op is PartitionOp) routing.Add(op.Inputs[1]);
            if (op.Op is MergeOp) routing.Add(op.Inputs[^1]);
        }

        void Keep(int id, Tensor[] tensors)
        {
            facts[id] = Facts(program.Streams[id], tensors, routing.Contains(id));
            data[id] = tensors;
        }

        for (int i = 0; i < program.InputStreams.Count; i++) Keep(program.InputStreams[i], inputs[i]);
        var samples = new Dictionary<int, Tensor[]>();
        for (int o = 0; o < program.Ops.Count; o++)
        {
            var op = program.Ops[o];
            var args = op.Inputs.Select(id => data[id] ?? throw new SimulationException($"stream {program.StreamNames[id]} has no data", op)).ToList();
            if (op.Op is MapOp or AccumOp or ScanOp or MergeOp) samples[o] = FirstElement(op, args, program);
            IReadOnlyList<Tensor[]> outputs;
            try
            {
                outputs = simulator.Apply(op.Op, [.. op.Inputs.Select(id => program.Streams[id])], args, [.. op.Outputs.Select(id => program.Streams[id])]);
            }
            catch (Exception e) when (e is TensorException or FnFailedException or LimitExceededException)
            {
                throw new SimulationException($"{op.Op.Name}: {e.Message}", op, e);
            }
            foreach (var id in op.Inputs)
                if (lastReader[id] == o) data[id] = null;
            for (int i = 0; i < op.Outputs.Count; i++) Keep(op.Outputs[i], outputs[i]);
        }
        return new Result([.. facts.Select((f, id) => f ?? new StreamFacts(0, [], 0, null, 0))], samples);
    }

    /// <summary>How many leading tensor axes are the stream's (the rest are the element's).</summary>
    private static int StreamAxes(StreamType type, Tensor first) => first.Rank - StreamType.ElementRank(type.DType.Components[0]);

    private static StreamFacts Facts(StreamType type, Tensor[] tensors, bool keepFlags)
    {
        int axes = StreamAxes(type, tensors[0]);
        var dims = tensors[0].Shape[..axes].Reverse().ToArray();
        long count = dims.Aggregate(1L, (a, b) => a * b);
        long values = count == 0 ? tensors.Sum(t => ElementCount(t, axes)) : tensors.Sum(t => t.Count) / count;
        return new StreamFacts(count, dims, values, keepFlags ? tensors[0].Data : null, keepFlags ? tensors[0].Shape[^1] : 0);
    }

    private static long ElementCount(Tensor t, int axes) => t.Shape[axes..].Aggregate(1L, (a, b) => a * b);

    /// <summary>The first element an fn op hands its fn: one slice per component of its (zipped) inputs.</summary>
    private static Tensor[] FirstElement(OpNode op, List<Tensor[]> args, StepProgram program)
    {
        // Merge folds elements of its expert streams (all but the last input); the first non-empty one is typical.
        var sources = op.Op is MergeOp
            ? [.. Enumerable.Range(0, op.Inputs.Count - 1).Where(i => args[i][0].Rank > 0 && args[i][0].Shape[0] > 0).Take(1)]
            : Enumerable.Range(0, op.Inputs.Count).ToList();
        var slices = new List<Tensor>();
        foreach (var i in sources)
        {
            var components = program.Streams[op.Inputs[i]].DType.Components;
            for (int c = 0; c < args[i].Length; c++)
            {
                var t = args[i][c];
                var shape = t.Shape[(t.Rank - StreamType.ElementRank(components[c]))..];
                var slice = Tensor.Allocate(shape);
                if (t.Count > 0) Array.Copy(t.Data, 0, slice.Data, 0, slice.Count);
                slices.Add(slice);
            }
        }
        return [.. slices];
    }
}
