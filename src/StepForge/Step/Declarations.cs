using System.Collections.Frozen;

namespace StepForge.Step;

/// <summary>A function a program may pass to Map, Accum, Scan or Merge.</summary>
/// <param name="Init">One initial state value per output component, or null for a stateless function.</param>
public sealed record FnDecl(string Name, string FuncName, DType Input, DType Output, string Apply, ValueList<double>? Init)
{
    public bool HasInit => Init is not null;
}

/// <summary>A named stream with its static type: a task input or an expected output.</summary>
public sealed record StreamDecl(string Name, StreamType Type);

/// <summary>Everything a program can see: its inputs, the task's functions, the sizes and the global names.</summary>
public sealed record ProgramEnvironment(
    IReadOnlyList<StreamDecl> Inputs,
    IReadOnlyList<FnDecl> Fns,
    IReadOnlyList<StreamDecl> Outputs,
    IReadOnlyDictionary<string, long> Sizes,
    IReadOnlyDictionary<string, long> GlobalInts,
    IReadOnlySet<string> GlobalNames)
{
    /// <summary>Dimension symbols of the task; <c>X_value</c> names stand for them in programs.</summary>
    public FrozenSet<string> DimSymbols { get; } = Sizes.Keys.ToFrozenSet();
}
