using StepForge.Step;

namespace StepForge.Tasks;

/// <summary>A task input or parameter: a named tensor stream and how its data is generated.</summary>
/// <param name="DataGen">torch.rand, torch.randn, torch.ones or binary; null for a Multihot (which uses Min and Max).</param>
public sealed record InputSpec(string Name, StreamType Type, string? DataGen, int? MinOnes, int? MaxOnes);

/// <summary>
/// An expected output: its type and the PyTorch reference that computes it, one snippet per component (entry i computes
/// component i, as upstream's generator reads <c>data_transform</c>).
/// </summary>
public sealed record OutputSpec(string Name, StreamType Type, ValueList<string> DataTransforms)
{
    public OutputSpec(string name, StreamType type, string dataTransform) : this(name, type, new ValueList<string>([dataTransform]))
    {
    }

    /// <summary>The entries as one text (what a golden file fingerprints and a prompt shows for a one-component output).</summary>
    public string DataTransform => string.Join("\n", DataTransforms);
}

/// <summary>
/// One operator to implement: inputs, parameters, functions, outputs with PyTorch references, and optionally a
/// reference STeP program. Read from the upstream task files as they are, or from the project's own files,
/// which add a group, the upstream task they restate, a description and default sizes. <see cref="Constraints"/> is a hint for the agent.
/// </summary>
public sealed record TaskSpec(
    string Name,
    string SourcePath,
    string? Group,
    string? Upstream,
    string? Description,
    string? Constraints,
    IReadOnlyDictionary<string, long> Sizes,
    string? Global,
    IReadOnlyDictionary<string, long> GlobalInts,
    IReadOnlySet<string> GlobalNames,
    IReadOnlyList<InputSpec> Inputs,
    IReadOnlyList<InputSpec> Parameters,
    IReadOnlyList<FnDecl> Fns,
    IReadOnlyList<OutputSpec> Outputs,
    string? Impl)
{
    /// <summary>Add to a line of <see cref="Impl"/> to get its line in the task file.</summary>
    public int ImplLineOffset { get; init; }

    /// <summary>NaN in an output equals NaN in its reference (the task's <c>equal_nan: true</c>, as assert_close's equal_nan).</summary>
    public bool EqualNan { get; init; }

    /// <summary>The upstream harness's sizes, used when a task does not set its own.</summary>
    public static readonly IReadOnlyDictionary<string, long> DefaultSizes = new Dictionary<string, long>
    {
        ["M"] = 5,
        ["N"] = 7,
        ["K"] = 9,
        ["D"] = 16,
    };

    /// <summary>Whether the global block sets this dimension itself (<c>ctx[E] = ...</c>), so the size belongs to the task's code.</summary>
    public bool SizeSetByGlobal(string symbol) => Global is { } g && g.Contains($"ctx[{symbol}]", StringComparison.Ordinal);

    /// <summary>The dimension symbols the task's streams and fns are declared with.</summary>
    public IReadOnlySet<string> DimensionSymbols() =>
        Inputs.Concat(Parameters).Select(i => i.Type).Concat(Outputs.Select(o => o.Type))
            .SelectMany(t => t.Shape.Concat(t.DType.AllDims))
            .Concat(Fns.SelectMany(f => f.Input.AllDims.Concat(f.Output.AllDims)))
            .SelectMany(d => d.Symbols)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>What a program for this task can see, at the task's sizes or with some overridden.</summary>
    public ProgramEnvironment Environment(IReadOnlyDictionary<string, long>? sizeOverrides = null)
    {
        var sizes = new Dictionary<string, long>(Sizes);
        if (sizeOverrides is not null)
            foreach (var (k, v) in sizeOverrides) sizes[k] = v;
        return new ProgramEnvironment(
            [.. Inputs.Select(i => new StreamDecl(i.Name, i.Type))],
            Fns,
            [.. Outputs.Select(o => new StreamDecl(o.Name, o.Type))],
            sizes,
            GlobalInts,
            GlobalNames);
    }
}
