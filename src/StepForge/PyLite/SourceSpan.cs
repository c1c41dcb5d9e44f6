namespace StepForge.PyLite;

/// <summary>A region of source text: 1-based line and column of its start, and character offsets for rewriting.</summary>
public readonly record struct SourceSpan(int Line, int Column, int Start, int End)
{
    public int Length => End - Start;

    public static SourceSpan Cover(SourceSpan first, SourceSpan last) =>
        new(first.Line, first.Column, first.Start, Math.Max(first.End, last.End));

    public override string ToString() => $"{Line}:{Column}";
}

/// <summary>Bad PyLite source: what is wrong and where.</summary>
public sealed class PyLiteSyntaxException(string message, int line, int column) : Exception(message)
{
    public int Line { get; } = line;
    public int Column { get; } = column;
}
