using System.Text;

namespace StepForge.Reports;

/// <summary>
/// CSV as RFC 4180 writes it: records end with CRLF; a field holding a comma, a double quote, CR or LF is put in
/// double quotes, with its double quotes doubled; every other field is written as it is (null as empty).
/// </summary>
public sealed class CsvWriter
{
    private readonly StringBuilder _text = new();
    private readonly int _columns;

    public CsvWriter(IReadOnlyList<string> header)
    {
        _columns = header.Count;
        Record(header);
    }

    /// <exception cref="ArgumentException">when the record has another number of fields than the header.</exception>
    public CsvWriter Record(IReadOnlyList<string?> fields)
    {
        if (fields.Count != _columns) throw new ArgumentException($"a CSV record of {fields.Count} fields under a header of {_columns}", nameof(fields));
        for (int i = 0; i < fields.Count; i++)
        {
            if (i > 0) _text.Append(',');
            _text.Append(Field(fields[i]));
        }
        _text.Append("\r\n");
        return this;
    }

    public static string Field(string? value) =>
        value is null ? ""
        : value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
        : value;

    public override string ToString() => _text.ToString();
}
