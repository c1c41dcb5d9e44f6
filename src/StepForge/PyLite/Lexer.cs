using System.Globalization;
using System.Text;

namespace StepForge.PyLite;

/// <summary>
/// Turns PyLite source into tokens. Lines are joined inside brackets and after a backslash, as in Python.
/// Only flat code is accepted: an indented line outside brackets is an error, since the subset has no blocks.
/// </summary>
public sealed class Lexer
{
    private static readonly string[] Operators =
    [
        "**=", "//=", "...", "->",
        "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "@=", "%=",
        "+", "-", "*", "/", "%", "@", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "~", "&", "|", "^",
    ];

    /// <summary>Stands where a line is indented outside brackets; the subset has no blocks, so the parser rejects it.</summary>
    public const string IndentMarker = "<indent>";

    private readonly string _src;
    private int _pos;
    private int _line = 1;
    private int _lineStart;
    private int _depth;
    private readonly List<Token> _tokens = [];

    private Lexer(string source) => _src = source;

    public static IReadOnlyList<Token> Tokenize(string source) => new Lexer(source).Run();

    private List<Token> Run()
    {
        bool atLineStart = true;
        while (_pos < _src.Length)
        {
            char c = _src[_pos];
            if (atLineStart && _depth == 0)
            {
                atLineStart = false;
                int indentStart = _pos;
                while (_pos < _src.Length && (_src[_pos] == ' ' || _src[_pos] == '\t')) _pos++;
                // Reported by the parser when it reaches this line, so that an earlier 'if x:' gets the better message.
                if (_pos < _src.Length && _src[_pos] != '\n' && _src[_pos] != '\r' && _src[_pos] != '#' && _pos > indentStart)
                    _tokens.Add(new Token(TokenKind.Operator, IndentMarker, new SourceSpan(_line, 1, indentStart, _pos)));
                continue;
            }
            switch (c)
            {
                case ' ' or '\t' or '\f':
                    _pos++;
                    break;
                case '#':
                    while (_pos < _src.Length && _src[_pos] != '\n') _pos++;
                    break;
                case '\r':
                    _pos++;
                    break;
                case '\n':
                    if (_depth == 0 && _tokens.Count > 0 && _tokens[^1].Kind != TokenKind.Newline)
                        _tokens.Add(new Token(TokenKind.Newline, "\n", Here(1)));
                    NewLine();
                    atLineStart = true;
                    break;
                case '\\':
                    if (_pos + 1 < _src.Length && (_src[_pos + 1] == '\n' || (_src[_pos + 1] == '\r' && _pos + 2 < _src.Length && _src[_pos + 2] == '\n')))
                    {
                        _pos += _src[_pos + 1] == '\r' ? 2 : 1;
                        NewLine();
                        break;
                    }
                    throw Error("unexpected '\\' (a line continuation must end the line)", _line, Col());
                default:
                    LexToken(c);
                    break;
            }
        }
        if (_depth > 0)
            throw Error("unexpected end of input: a bracket is not closed", _line, Col());
        if (_tokens.Count > 0 && _tokens[^1].Kind != TokenKind.Newline)
            _tokens.Add(new Token(TokenKind.Newline, "\n", Here(0)));
        _tokens.Add(new Token(TokenKind.EndOfFile, "", Here(0)));
        return _tokens;
    }

    private void NewLine()
    {
        _pos++;
        _line++;
        _lineStart = _pos;
    }

    private int Col() => _pos - _lineStart + 1;

    private SourceSpan Here(int length) => new(_line, Col(), _pos, _pos + length);

    private static PyLiteSyntaxException Error(string message, int line, int column) => new(message, line, column);

    private void LexToken(char c)
    {
        if (char.IsAsciiLetter(c) || c == '_')
        {
            int start = _pos;
            while (_pos < _src.Length && (char.IsAsciiLetterOrDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
            string word = _src[start.._pos];
            if ((word is "f" or "F" or "r" or "R" or "rf" or "fr" or "Rf" or "fR" or "RF" or "FR" or "b" or "B")
                && _pos < _src.Length && (_src[_pos] == '\'' || _src[_pos] == '"'))
            {
                if (word.Contains('b', StringComparison.OrdinalIgnoreCase))
                    throw Error("byte strings are not supported", _line, start - _lineStart + 1);
                LexString(start, word.Contains('f', StringComparison.OrdinalIgnoreCase), word.Contains('r', StringComparison.OrdinalIgnoreCase));
                return;
            }
            _tokens.Add(new Token(TokenKind.Name, word, new SourceSpan(_line, start - _lineStart + 1, start, _pos)));
            return;
        }
        if (char.IsAsciiDigit(c) || (c == '.' && _pos + 1 < _src.Length && char.IsAsciiDigit(_src[_pos + 1])))
        {
            LexNumber();
            return;
        }
        if (c == '\'' || c == '"')
        {
            LexString(_pos, isFormat: false, isRaw: false);
            return;
        }
        foreach (string op in Operators)
        {
            if (string.CompareOrdinal(_src, _pos, op, 0, op.Length) != 0) continue;
            if (op is "(" or "[" or "{") _depth++;
            if (op is ")" or "]" or "}")
            {
                if (_depth == 0) throw Error($"unmatched '{op}'", _line, Col());
                _depth--;
            }
            _tokens.Add(new Token(TokenKind.Operator, op, Here(op.Length)));
            _pos += op.Length;
            return;
        }
        throw Error($"unexpected character '{c}'", _line, Col());
    }

    private void LexNumber()
    {
        int start = _pos;
        bool isFloat = false;
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
        if (_pos < _src.Length && _src[_pos] == '.' && !(_pos + 2 < _src.Length && _src[_pos + 1] == '.' && _src[_pos + 2] == '.'))
        {
            isFloat = true;
            _pos++;
            while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
        }
        if (_pos < _src.Length && (_src[_pos] == 'e' || _src[_pos] == 'E'))
        {
            int save = _pos;
            _pos++;
            if (_pos < _src.Length && (_src[_pos] == '+' || _src[_pos] == '-')) _pos++;
            if (_pos < _src.Length && char.IsAsciiDigit(_src[_pos]))
            {
                isFloat = true;
                while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) _pos++;
            }
            else _pos = save;
        }
        if (_pos < _src.Length && (char.IsAsciiLetter(_src[_pos]) || _src[_pos] == '_'))
            throw Error($"invalid number literal '{_src[start..(_pos + 1)]}'", _line, start - _lineStart + 1);
        string text = _src[start.._pos].Replace("_", "", StringComparison.Ordinal);
        _tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Int, text, new SourceSpan(_line, start - _lineStart + 1, start, _pos)));
    }

    private void LexString(int start, bool isFormat, bool isRaw)
    {
        int startCol = start - _lineStart + 1;
        int startLine = _line;
        char quote = _src[_pos];
        bool triple = _pos + 2 < _src.Length && _src[_pos + 1] == quote && _src[_pos + 2] == quote;
        _pos += triple ? 3 : 1;
        var text = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length)
                throw Error("unterminated string literal", _line, startCol);
            char c = _src[_pos];
            if (!triple && c == '\n')
                throw Error("unterminated string literal", _line, startCol);
            if (c == quote && (!triple || (_pos + 2 < _src.Length && _src[_pos + 1] == quote && _src[_pos + 2] == quote)))
            {
                _pos += triple ? 3 : 1;
                break;
            }
            if (c == '\\' && !isRaw && _pos + 1 < _src.Length)
            {
                char e = _src[_pos + 1];
                _pos += 2;
                text.Append(e switch
                {
                    'n' => "\n",
                    't' => "\t",
                    'r' => "\r",
                    '0' => "\0",
                    '\\' => "\\",
                    '\'' => "'",
                    '"' => "\"",
                    '\n' => "",
                    _ => "\\" + e,
                });
                if (e == '\n') { _line++; _lineStart = _pos; }
                continue;
            }
            if (c == '\n') { _line++; _lineStart = _pos + 1; }
            text.Append(c);
            _pos++;
        }
        _tokens.Add(new Token(isFormat ? TokenKind.FString : TokenKind.String, text.ToString(),
            new SourceSpan(startLine, startCol, start, _pos)));
    }

    internal static double ParseFloat(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}
