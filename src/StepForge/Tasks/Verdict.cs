using System.Text.Encodings.Web;
using System.Text.Json;
using StepForge.Cost;
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
    public bool IsRetryable => Kind == VerdictKind.Limit && Rule == Tensors.ExecutionBudget.TimeRule;

    public static Verdict FromDiagnostic(Diagnostic d, string task, string? name) =>
        new(d.Kind, task, name, d.Message, d.Line, d.Column, d.Op, d.Rule, d.Expected, d.Actual);

    public static Verdict Invalid(string task, string message) => new(VerdictKind.Invalid, task, null, message, Rule: "task-file");

    public static string KindName(VerdictKind kind) => kind.ToString().ToLowerInvariant();

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("verdict", KindName(Kind));
            w.WriteString("task", Task);
            WriteOrNull(w, "name", Name);
            if (File is not null) w.WriteString("file", File);
            if (Line is int line) w.WriteNumber("line", line); else w.WriteNull("line");
            if (Column is int column) w.WriteNumber("column", column); else w.WriteNull("column");
            WriteOrNull(w, "op", Op);
            WriteOrNull(w, "rule", Rule);
            w.WriteString("message", Message);
            WriteOrNull(w, "expected", Expected);
            WriteOrNull(w, "actual", Actual);
            if (Outputs is not null)
            {
                w.WriteStartArray("outputs");
                foreach (var o in Outputs)
                {
                    w.WriteStartObject();
                    w.WriteString("name", o.Name);
                    w.WriteNumber("component", o.Component);
                    if (double.IsFinite(o.MaxAbsError)) w.WriteNumber("max_abs_error", o.MaxAbsError); else w.WriteNull("max_abs_error");
                    w.WriteBoolean("close", o.Close);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            if (RepairedImpl is not null)
            {
                w.WriteNumber("copies_inserted", CopiesInserted);
                w.WriteString("repaired_impl", RepairedImpl);
            }
            if (Cost is not null)
            {
                w.WritePropertyName("cost");
                Cost.WriteJson(w, details: false);
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteOrNull(Utf8JsonWriter w, string key, string? value)
    {
        if (value is null) w.WriteNull(key);
        else w.WriteString(key, value);
    }
}
