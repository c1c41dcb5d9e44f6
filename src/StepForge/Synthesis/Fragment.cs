using StepForge.Simulation;
using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Synthesis;

/// <summary>Partition(N) → one Map per expert → Merge(fn): the search builds the three as one step.</summary>
public sealed record ExpertsOp(Dim N, ValueList<FnDecl> Experts, FnDecl Merge) : StepOp
{
    public override string Name => "Experts";
}

/// <summary>One op of a fragment. <paramref name="Inputs"/> index the fragment's arguments first, then its earlier ops' results.</summary>
public sealed record FragmentOp(StepOp Op, ValueList<int> Inputs);

/// <summary>
/// A short straight-line program over argument streams whose value is its last op's result: one step of the search
/// (a single op, a fused pattern such as Zip → Map, or a learned piece).
/// </summary>
public sealed record Fragment(int Arity, ValueList<FragmentOp> Ops)
{
    public static Fragment Of(int arity, params FragmentOp[] ops) => new(arity, new ValueList<FragmentOp>(ops));

    public static Fragment Unary(StepOp op) => Of(1, new FragmentOp(op, new ValueList<int>([0])));

    public static Fragment Binary(StepOp op) => Of(2, new FragmentOp(op, new ValueList<int>([0, 1])));

    /// <summary>Operators the fragment writes in a program (an Experts step is a Partition, a Map per expert and a Merge).</summary>
    public int OpCount => Ops.Sum(o => o.Op is ExpertsOp e ? e.Experts.Count + 2 : 1);

    /// <summary>
    /// The types of the arguments followed by the type of every op's result, or null when some op's typing rule fails.
    /// </summary>
    public StreamType[]? Types(IReadOnlyList<StreamType> args, IReadOnlyDictionary<string, long> sizes)
    {
        var types = new StreamType[Arity + Ops.Count];
        for (int i = 0; i < Arity; i++) types[i] = args[i];
        for (int o = 0; o < Ops.Count; o++)
        {
            var op = Ops[o];
            var inputs = new StreamType[op.Inputs.Count];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = types[op.Inputs[i]];
            // A rejected candidate is an answer, not an exception: the search asks this millions of times.
            var type = op.Op is ExpertsOp experts ? ExpertsType(experts, inputs, sizes) : SingleOutput(TypeRules.Apply(op.Op, inputs, sizes, "c"));
            if (type is null) return null;
            types[Arity + o] = type;
        }
        return types;
    }

    /// <summary>Runs the fragment on the arguments' data (types from <see cref="Types"/>); returns the last op's components.</summary>
    public Tensor[] Evaluate(Simulator simulator, StreamType[] types, IReadOnlyList<Tensor[]> args, IReadOnlyDictionary<string, long> sizes)
    {
        var data = new Tensor[types.Length][];
        for (int i = 0; i < Arity; i++) data[i] = args[i];
        for (int o = 0; o < Ops.Count; o++)
        {
            var op = Ops[o];
            var inTypes = op.Inputs.Select(i => types[i]).ToArray();
            var inData = op.Inputs.Select(i => data[i]).ToArray();
            data[Arity + o] = op.Op is ExpertsOp experts
                ? RunExperts(simulator, experts, inTypes, inData, types[Arity + o], sizes)
                : simulator.Apply(op.Op, inTypes, inData, [types[Arity + o]])[0];
        }
        return data[^1];
    }

    /// <summary>The one stream a step makes, or null when the op is ill typed here or makes several (Copy, Partition).</summary>
    private static StreamType? SingleOutput(TypeResult result) =>
        result.Error is null && result.Outputs.Count == 1 ? result.Outputs[0] : null;

    /// <summary>Partition, one Map per expert, then Merge: null when any of them is ill typed or the fns are not one per part.</summary>
    private static StreamType? ExpertsType(ExpertsOp e, StreamType[] inputs, IReadOnlyDictionary<string, long> sizes)
    {
        var parts = TypeRules.Apply(new PartitionOp(e.N), inputs, sizes, "c");
        if (parts.IsError || parts.Outputs.Count != e.Experts.Count) return null;
        var mapped = new StreamType[parts.Outputs.Count + 1];
        for (int i = 0; i < parts.Outputs.Count; i++)
        {
            var map = TypeRules.Apply(new MapOp(e.Experts[i]), [parts.Outputs[i]], sizes, "c");
            if (map.IsError) return null;
            mapped[i] = map.Outputs[0];
        }
        mapped[^1] = inputs[1];
        return SingleOutput(TypeRules.Apply(new MergeOp(e.Merge), mapped, sizes, "c"));
    }

    private static Tensor[] RunExperts(Simulator simulator, ExpertsOp e, StreamType[] inTypes, Tensor[][] inData, StreamType outType, IReadOnlyDictionary<string, long> sizes)
    {
        // Typed already by Types, so Outputs cannot fail here.
        var parts = TypeRules.Apply(new PartitionOp(e.N), inTypes, sizes, "c").Outputs;
        var split = simulator.Apply(new PartitionOp(e.N), inTypes, inData, parts);
        var mappedTypes = parts.Select((p, i) => TypeRules.Apply(new MapOp(e.Experts[i]), [p], sizes, "c").Outputs[0]).ToList();
        var mapped = split.Select((p, i) => simulator.Apply(new MapOp(e.Experts[i]), [parts[i]], [p], [mappedTypes[i]])[0]).ToList();
        return simulator.Apply(new MergeOp(e.Merge), [.. mappedTypes, inTypes[1]], [.. mapped, inData[1]], [outType])[0];
    }
}
