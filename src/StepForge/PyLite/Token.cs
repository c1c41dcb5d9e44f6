namespace StepForge.PyLite;

public enum TokenKind
{
    Name,
    Int,
    Float,
    String,
    FString,
    Operator,
    Newline,
    EndOfFile,
}

/// <summary>One lexical token. <see cref="Text"/> is the decoded value for strings, the spelling otherwise.</summary>
public sealed record Token(TokenKind Kind, string Text, SourceSpan Span)
{
    public bool Is(string op) => Kind == TokenKind.Operator && Text == op;

    public override string ToString() => Kind switch
    {
        TokenKind.Newline => "end of line",
        TokenKind.EndOfFile => "end of input",
        TokenKind.String or TokenKind.FString => $"string '{Text}'",
        _ => $"'{Text}'",
    };
}
