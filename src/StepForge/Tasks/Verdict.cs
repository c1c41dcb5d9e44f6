using System.Text.Json;
using System.Text.Json.Serialization;
using StepForge.Cost;
using StepForge.Diagnostics;
using StepForge.Step;

namespace StepForge.Tasks;

/// <summary>
/// The result of checking one candidate for one task, as data: the kind (correct or the failing stage), where,
/// the rule, the expected and actual things and a message. <see cref="ToJson"/> is the line an agent or script reads.
/// A correct program verified with <see cref="VerifyOptions.Cost"/> also carries its cost at the task's own sizes.
/// </summary>
public sealed record Verdict(
    VerdictKind Kind,
    string Task,
    string? Name,
    string Message,
    int? Line = null,
    int? Column = null,
    string? Op = null,
    string? Rule = null,
    string? Expected = null,
    string? Actual = null,
    string? RepairedImpl = null,
    int CopiesInserted = 0,
    IReadOnlyList<OutputCheck>? Outputs = null,
    double Seconds = 0,
    string? File = null,
    ProgramCost? Cost = null)
{
    /// <summary>The file <see cref="Line"/> points into: <see cref="File"/> (an <c>--impl</c> file) or else the task file.</summary>
    public string Where => File ?? Task;

    /// <summary>The verdict with its line moved into the file that holds the program.</summary>
    public Verdict InFile(string? file, int lineOffset) =>
        this with { File = file, Line = Line is int line ? line + lineOffset : null };

    public bool IsCorrect => Kind == VerdictKind.Correct;

    /// <summary>
    /// Stopped by the wall-clock safety net: says nothing about the candidate, so it is retried, never stored as its verdict.
    /// </summary>
    public bool IsRetryable => Kind == VerdictKind.Limit && Rule == Rules.LimitTime.Id;

    public static Verdict FromDiagnostic(Diagnostic d, string task, string? name) =>
        new(d.Kind, task, name, d.Message, d.Line, d.Column, d.Op, d.Rule, d.Expected, d.Actual);

    public static Verdict Invalid(string task, string message) => new(VerdictKind.Invalid, task, null, message, Rule: Rules.TaskFile.Id);

    public static string KindName(VerdictKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>The verdict as the one JSON line an agent or script reads.</summary>
    public string ToJson() => JsonSerializer.Serialize(Json(), TasksJson.Style.VerdictJson);

    public VerdictJson Json() => new(
        KindName(Kind), Task, Name, File, Line, Column, Op, Rule, Message, Expected, Actual,
        Outputs?.Select(o => new OutputJson(o.Name, o.Component, double.IsFinite(o.MaxAbsError) ? o.MaxAbsError : null, o.Close)).ToList(),
        RepairedImpl is null ? null : CopiesInserted, RepairedImpl, Cost?.Json(details: false));
}

/// <summary>A verdict as JSON: keys that may be null are written as null, the optional parts are left out when absent.</summary>
/// <param name="File">The <c>--impl</c> file the line points into; left out for the task file.</param>
/// <param name="Outputs">One entry per output component when the program ran.</param>
/// <param name="CopiesInserted">With <see cref="RepairedImpl"/>: how many Copy ops affine repair inserted.</param>
public sealed record VerdictJson(
    string Verdict,
    string Task,
    string? Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? File,
    int? Line,
    int? Column,
    string? Op,
    string? Rule,
    string Message,
    string? Expected,
    string? Actual,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<OutputJson>? Outputs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? CopiesInserted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RepairedImpl,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] CostJson? Cost);

/// <summary>One output component's comparison: the largest absolute error (null when not finite) and whether it was close enough.</summary>
public sealed record OutputJson(string Name, int Component, double? MaxAbsError, bool Close);
