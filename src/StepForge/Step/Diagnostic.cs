namespace StepForge.Step;

/// <summary>What stage rejected a candidate (or <see cref="Correct"/> when none did).</summary>
public enum VerdictKind
{
    Correct,
    Parse,
    Type,
    Affine,
    Wrong,
    Runtime,
    Limit,
    Invalid,

    /// <summary>The proposer looked for a program and found none (the search's "not found"); an answer without a program is <see cref="Parse"/>.</summary>
    Unsolved,
}

/// <summary>
/// A finding about a program, as data: the stage, the rule broken, where, and the expected and actual things.
/// Rendered for people by the CLI and serialized for agents.
/// </summary>
public sealed record Diagnostic(
    VerdictKind Kind,
    string Rule,
    string Message,
    int? Line = null,
    int? Column = null,
    string? Op = null,
    string? Expected = null,
    string? Actual = null);
