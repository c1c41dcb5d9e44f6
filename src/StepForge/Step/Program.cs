using StepForge.PyLite;

namespace StepForge.Step;

/// <summary>One operator application in a program: which op, which streams it reads and writes, and where.</summary>
/// <param name="Inputs">Stream ids in the op's input order (see <see cref="TypeRules"/>).</param>
public sealed record OpNode(StepOp Op, ValueList<int> Inputs, ValueList<int> Outputs, SourceSpan Span);

/// <summary>
/// A typed STeP program as a dataflow graph: streams by id with their types, the ops in program order,
/// and the returned streams. Built by <see cref="ProgramBinder"/>; ready for simulation.
/// </summary>
public sealed record StepProgram(
    IReadOnlyList<StreamType> Streams,
    IReadOnlyList<string> StreamNames,
    IReadOnlyList<int> InputStreams,
    IReadOnlyList<OpNode> Ops,
    IReadOnlyList<int> Returns);

/// <summary>How a stream handle was used at one place.</summary>
public enum UseKind
{
    /// <summary>An argument of an op's apply, written as a plain name or a subscript that can be rewritten.</summary>
    Argument,

    /// <summary>An argument that cannot be rewritten on its own (a list passed whole, a loop variable).</summary>
    FixedArgument,

    /// <summary>Iterated over by a comprehension.</summary>
    Iteration,

    /// <summary>Returned from the program (counted only in strict mode).</summary>
    Return,
}

/// <summary>A name by which the program holds a stream: consuming it twice is an affine error.</summary>
/// <param name="InsertAt">Offset in the source after which a Copy of this handle may be inserted (-1: program start).</param>
/// <param name="Reference">Source text that denotes the handle right after its definition, for the inserted Copy.</param>
public sealed record StreamHandle(int Id, int Stream, string Name, int DefinedLine, int InsertAt, string? Reference);

public sealed record StreamUse(int Handle, UseKind Kind, SourceSpan Span, string Op);

/// <summary>The result of binding: the program and every stream use, for the affine check and repair.</summary>
public sealed record BoundProgram(StepProgram Program, IReadOnlyList<StreamHandle> Handles, IReadOnlyList<StreamUse> Uses, Module Syntax);
