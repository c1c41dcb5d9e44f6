using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;

namespace StepForge.PyLite;

/// <summary>
/// Recursive-descent parser for the Python subset: simple statements only (assignment, augmented assignment,
/// expression, return, pass) and Python's expression grammar without lambdas, starred targets or generators.
/// Nesting is bounded so that hostile input ends in a syntax error rather than a stack overflow.
/// </summary>
public sealed class Parser
{
    public const int MaxNesting = 100;

    /// <summary>The deepest syntax tree accepted: every later stage may recurse this deep without risk.</summary>
    public const int MaxTreeDepth = 200;

    private static readonly FrozenKeywords Keywords = new();

    private readonly IReadOnlyList<Token> _tokens;
    private readonly string _source;
    private int _pos;
    private int _nesting;

    private Parser(string source)
    {
        _source = source;
        _tokens = Lexer.Tokenize(source);
    }

    /// <summary>Parses a whole snippet. Throws <see cref="PyLiteSyntaxException"/> with line and column on bad input.</summary>
    public static Module ParseModule(string source)
    {
        var parser = new Parser(source);
        var body = ImmutableArray.CreateBuilder<Stmt>();
        while (parser.Current.Kind != TokenKind.EndOfFile)
        {
            if (parser.Current.Kind == TokenKind.Newline) { parser._pos++; continue; }
            body.Add(parser.ParseBoundedStatement());
            while (parser.Current.Is(";"))
            {
                parser._pos++;
                if (parser.Current.Kind is TokenKind.Newline or TokenKind.EndOfFile) break;
                body.Add(parser.ParseBoundedStatement());
            }
            if (parser.Current.Kind != TokenKind.EndOfFile)
                parser.Expect(TokenKind.Newline, "end of line");
        }
        return new Module(body.ToImmutable(), source);
    }

    /// <summary>Parses one expression (for example a data transform written on one line).</summary>
    public static Expr ParseExpression(string source)
    {
        var parser = new Parser(source);
        while (parser.Current.Kind == TokenKind.Newline) parser._pos++;
        var expr = parser.ParseTestList();
        while (parser.Current.Kind == TokenKind.Newline) parser._pos++;
        if (parser.Current.Kind != TokenKind.EndOfFile) throw parser.Unexpected("end of expression");
        CheckDepth(expr);
        return expr;
    }

    private Token Current => _tokens[_pos];

    private Token Peek(int ahead = 1) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];

    private Token Advance() => _tokens[_pos++];

    private bool IsKeyword(string word) => Current.Kind == TokenKind.Name && Current.Text == word;

    private bool Accept(string op)
    {
        if (!Current.Is(op)) return false;
        _pos++;
        return true;
    }

    private Token Expect(string op)
    {
        if (!Current.Is(op)) throw Unexpected($"'{op}'");
        return Advance();
    }

    private Token Expect(TokenKind kind, string what)
    {
        if (Current.Kind != kind) throw Unexpected(what);
        return Advance();
    }

    private PyLiteSyntaxException Unexpected(string expected) =>
        new($"expected {expected}, found {Current}", Current.Span.Line, Current.Span.Column);

    private PyLiteSyntaxException ErrorAt(Token token, string message) => new(message, token.Span.Line, token.Span.Column);

    private SourceSpan SpanFrom(SourceSpan start) => SourceSpan.Cover(start, _tokens[Math.Max(_pos - 1, 0)].Span);

    private NestingScope Nest()
    {
        if (++_nesting > MaxNesting)
            throw new PyLiteSyntaxException($"expression nested more than {MaxNesting} levels deep", Current.Span.Line, Current.Span.Column);
        return new NestingScope(this);
    }

    private readonly struct NestingScope(Parser parser) : IDisposable
    {
        public void Dispose() => parser._nesting--;
    }

    // ---- statements ----

    private Stmt ParseBoundedStatement()
    {
        var stmt = ParseStatement();
        CheckDepth(stmt);
        return stmt;
    }

    /// <summary>Long operator chains such as 1+1+...+1 are shallow to parse but deep as trees.</summary>
    private static void CheckDepth(Node node)
    {
        if (SyntaxWalker.DeeperThan(node, MaxTreeDepth))
            throw new PyLiteSyntaxException($"expression too deeply nested or too long a chain of operators (more than {MaxTreeDepth} levels)",
                node.Span.Line, node.Span.Column);
    }

    private Stmt ParseStatement()
    {
        if (Current.Is(Lexer.IndentMarker))
            throw ErrorAt(Current, "unexpected indent: this Python subset has no indented blocks");
        var start = Current.Span;
        if (Current.Kind == TokenKind.Name && Keywords.IsStatementKeyword(Current.Text))
        {
            switch (Current.Text)
            {
                case "return":
                    _pos++;
                    Expr? value = Current.Kind is TokenKind.Newline or TokenKind.EndOfFile || Current.Is(";") ? null : ParseTestList();
                    return new ReturnStmt(value, SpanFrom(start));
                case "pass":
                    _pos++;
                    return new PassStmt(start);
                default:
                    throw ErrorAt(Current, $"'{Current.Text}' statements are not supported in this Python subset");
            }
        }

        var first = ParseTestList();
        if (Current.Kind == TokenKind.Operator && Current.Text.Length >= 2 && Current.Text[^1] == '=' && Current.Text is not ("==" or "!=" or "<=" or ">="))
        {
            var opToken = Advance();
            CheckTarget(first, allowTuple: false);
            var op = opToken.Text[..^1] switch
            {
                "+" => BinaryOp.Add,
                "-" => BinaryOp.Sub,
                "*" => BinaryOp.Mul,
                "/" => BinaryOp.Div,
                "//" => BinaryOp.FloorDiv,
                "%" => BinaryOp.Mod,
                "**" => BinaryOp.Pow,
                "@" => BinaryOp.MatMul,
                _ => throw ErrorAt(opToken, $"unsupported operator '{opToken.Text}'"),
            };
            var rhs = ParseTestList();
            return new AugAssignStmt(first, op, rhs, SpanFrom(start));
        }
        if (!Current.Is("="))
            return new ExprStmt(first, SpanFrom(start));

        var targets = ImmutableArray.CreateBuilder<Expr>();
        var value2 = first;
        while (Accept("="))
        {
            CheckTarget(value2, allowTuple: true);
            targets.Add(value2);
            value2 = ParseTestList();
        }
        return new AssignStmt(targets.ToImmutable(), value2, SpanFrom(start));
    }

    private void CheckTarget(Expr target, bool allowTuple)
    {
        switch (target)
        {
            case NameExpr name when Keywords.IsLiteralName(name.Name):
                throw new PyLiteSyntaxException($"cannot assign to {name.Name}", target.Span.Line, target.Span.Column);
            case NameExpr or SubscriptExpr or AttributeExpr:
                return;
            case TupleExpr tuple when allowTuple:
                foreach (var item in tuple.Items) CheckTarget(item, allowTuple: true);
                return;
            case ListExpr list when allowTuple:
                foreach (var item in list.Items) CheckTarget(item, allowTuple: true);
                return;
            default:
                throw new PyLiteSyntaxException("cannot assign to this expression", target.Span.Line, target.Span.Column);
        }
    }

    // ---- expressions ----

    private Expr ParseTestList()
    {
        var start = Current.Span;
        var first = ParseTest();
        if (!Current.Is(",")) return first;
        var items = ImmutableArray.CreateBuilder<Expr>();
        items.Add(first);
        while (Accept(","))
        {
            if (!StartsExpression()) break;
            items.Add(ParseTest());
        }
        return new TupleExpr(items.ToImmutable(), SpanFrom(start));
    }

    private bool StartsExpression()
    {
        var t = Current;
        return t.Kind switch
        {
            TokenKind.Name => !Keywords.IsStatementKeyword(t.Text) && t.Text is not ("for" or "in" or "if" or "else" or "and" or "or" or "is")
                || t.Text == "not",
            TokenKind.Int or TokenKind.Float or TokenKind.String or TokenKind.FString => true,
            TokenKind.Operator => t.Text is "(" or "[" or "{" or "-" or "+" or "~" or "...",
            _ => false,
        };
    }

    private Expr ParseTest()
    {
        using var _ = Nest();
        var start = Current.Span;
        var body = ParseOrTest();
        if (!IsKeyword("if")) return body;
        _pos++;
        var test = ParseOrTest();
        if (!IsKeyword("else")) throw Unexpected("'else' in conditional expression");
        _pos++;
        var orElse = ParseTest();
        return new ConditionalExpr(test, body, orElse, SpanFrom(start));
    }

    private Expr ParseOrTest()
    {
        var start = Current.Span;
        var left = ParseAndTest();
        while (IsKeyword("or"))
        {
            _pos++;
            left = new BoolOpExpr(false, left, ParseAndTest(), SpanFrom(start));
        }
        return left;
    }

    private Expr ParseAndTest()
    {
        var start = Current.Span;
        var left = ParseNotTest();
        while (IsKeyword("and"))
        {
            _pos++;
            left = new BoolOpExpr(true, left, ParseNotTest(), SpanFrom(start));
        }
        return left;
    }

    private Expr ParseNotTest()
    {
        if (!IsKeyword("not")) return ParseComparison();
        using var _ = Nest();
        var start = Advance().Span;
        return new UnaryExpr(UnaryOp.Not, ParseNotTest(), SpanFrom(start));
    }

    private Expr ParseComparison()
    {
        var start = Current.Span;
        var left = ParseBitOr();
        var ops = ImmutableArray.CreateBuilder<CompareOp>();
        var rights = ImmutableArray.CreateBuilder<Expr>();
        while (true)
        {
            CompareOp? op = null;
            if (Current.Kind == TokenKind.Operator)
            {
                op = Current.Text switch
                {
                    "<" => CompareOp.Lt,
                    ">" => CompareOp.Gt,
                    "<=" => CompareOp.Le,
                    ">=" => CompareOp.Ge,
                    "==" => CompareOp.Eq,
                    "!=" => CompareOp.Ne,
                    _ => null,
                };
                if (op is not null) _pos++;
            }
            else if (IsKeyword("in")) { _pos++; op = CompareOp.In; }
            else if (IsKeyword("not") && Peek().Kind == TokenKind.Name && Peek().Text == "in") { _pos += 2; op = CompareOp.NotIn; }
            else if (IsKeyword("is"))
            {
                _pos++;
                if (IsKeyword("not")) { _pos++; op = CompareOp.IsNot; }
                else op = CompareOp.Is;
            }
            if (op is null) break;
            ops.Add(op.Value);
            rights.Add(ParseBitOr());
        }
        return ops.Count == 0 ? left : new CompareExpr(left, ops.ToImmutable(), rights.ToImmutable(), SpanFrom(start));
    }

    private Expr ParseBitOr() => ParseBinaryLevel(0);

    private static readonly (string Op, BinaryOp Kind)[][] BinaryLevels =
    [
        [("|", BinaryOp.BitOr)],
        [("^", BinaryOp.BitXor)],
        [("&", BinaryOp.BitAnd)],
        [("+", BinaryOp.Add), ("-", BinaryOp.Sub)],
        [("*", BinaryOp.Mul), ("/", BinaryOp.Div), ("//", BinaryOp.FloorDiv), ("%", BinaryOp.Mod), ("@", BinaryOp.MatMul)],
    ];

    private Expr ParseBinaryLevel(int level)
    {
        if (level == BinaryLevels.Length) return ParseFactor();
        var start = Current.Span;
        var left = ParseBinaryLevel(level + 1);
        while (Current.Kind == TokenKind.Operator && FindOperator(BinaryLevels[level], Current.Text) is BinaryOp op)
        {
            _pos++;
            left = new BinaryExpr(op, left, ParseBinaryLevel(level + 1), SpanFrom(start));
        }
        return left;
    }

    private static BinaryOp? FindOperator((string Op, BinaryOp Kind)[] level, string text)
    {
        foreach (var (op, kind) in level)
            if (op == text) return kind;
        return null;
    }

    private Expr ParseFactor()
    {
        if (Current.Kind == TokenKind.Operator && Current.Text is "-" or "+" or "~")
        {
            using var _ = Nest();
            var token = Advance();
            var op = token.Text switch { "-" => UnaryOp.Neg, "+" => UnaryOp.Pos, _ => UnaryOp.Invert };
            return new UnaryExpr(op, ParseFactor(), SpanFrom(token.Span));
        }
        return ParsePower();
    }

    private Expr ParsePower()
    {
        var start = Current.Span;
        var primary = ParsePrimary();
        if (!Accept("**")) return primary;
        using var _ = Nest();
        return new BinaryExpr(BinaryOp.Pow, primary, ParseFactor(), SpanFrom(start));
    }

    private Expr ParsePrimary()
    {
        var start = Current.Span;
        var expr = ParseAtom();
        int trailers = 0;
        while (true)
        {
            if (++trailers > MaxNesting * 10)
                throw new PyLiteSyntaxException("too many trailers on one expression", Current.Span.Line, Current.Span.Column);
            if (Accept("."))
            {
                var name = Expect(TokenKind.Name, "an attribute name");
                expr = new AttributeExpr(expr, name.Text, SpanFrom(start));
            }
            else if (Current.Is("("))
            {
                using var _ = Nest();
                _pos++;
                expr = ParseCallRest(expr, start);
            }
            else if (Current.Is("["))
            {
                using var _ = Nest();
                _pos++;
                var index = ParseSubscriptList();
                Expect("]");
                expr = new SubscriptExpr(expr, index, SpanFrom(start));
            }
            else return expr;
        }
    }

    private Expr ParseCallRest(Expr callee, SourceSpan start)
    {
        var args = ImmutableArray.CreateBuilder<Expr>();
        var keywords = ImmutableArray.CreateBuilder<KeywordArg>();
        while (!Current.Is(")"))
        {
            if (Current.Is("*") || Current.Is("**"))
                throw ErrorAt(Current, "starred arguments are not supported");
            if (Current.Kind == TokenKind.Name && Peek().Is("="))
            {
                var name = Advance();
                _pos++;
                if (keywords.Any(k => k.Name == name.Text))
                    throw ErrorAt(name, $"keyword argument '{name.Text}' repeated");
                var value = ParseTest();
                keywords.Add(new KeywordArg(name.Text, value, SourceSpan.Cover(name.Span, value.Span)));
            }
            else
            {
                if (keywords.Count > 0)
                    throw ErrorAt(Current, "positional argument follows keyword argument");
                var argStart = Current.Span;
                var arg = ParseTest();
                if (IsKeyword("for"))
                    arg = new ListCompExpr(arg, ParseComprehensionClauses(), SpanFrom(argStart));
                args.Add(arg);
            }
            if (!Accept(",")) break;
        }
        Expect(")");
        return new CallExpr(callee, args.ToImmutable(), keywords.ToImmutable(), SpanFrom(start));
    }

    private Expr ParseSubscriptList()
    {
        var start = Current.Span;
        var items = ImmutableArray.CreateBuilder<Expr>();
        bool trailingComma = false;
        while (true)
        {
            items.Add(ParseSubscript());
            if (!Accept(",")) break;
            trailingComma = true;
            if (Current.Is("]")) break;
            trailingComma = false;
        }
        return items.Count == 1 && !trailingComma ? items[0] : new TupleExpr(items.ToImmutable(), SpanFrom(start));
    }

    private Expr ParseSubscript()
    {
        var start = Current.Span;
        Expr? lower = null;
        if (!Current.Is(":"))
        {
            lower = ParseTest();
            if (!Current.Is(":")) return lower;
        }
        _pos++;
        Expr? upper = Current.Is(":") || Current.Is(",") || Current.Is("]") ? null : ParseTest();
        Expr? step = null;
        if (Accept(":") && !(Current.Is(",") || Current.Is("]")))
            step = ParseTest();
        return new SliceExpr(lower, upper, step, SpanFrom(start));
    }

    private ImmutableArray<ComprehensionClause> ParseComprehensionClauses()
    {
        var clauses = ImmutableArray.CreateBuilder<ComprehensionClause>();
        while (IsKeyword("for"))
        {
            _pos++;
            var targetStart = Current.Span;
            var targets = ImmutableArray.CreateBuilder<Expr>();
            do
            {
                if (IsKeyword("in")) break;
                targets.Add(ParseBitOr());
            } while (Accept(","));
            if (targets.Count == 0) throw Unexpected("a loop variable");
            Expr target = targets.Count == 1 ? targets[0] : new TupleExpr(targets.ToImmutable(), SpanFrom(targetStart));
            CheckTarget(target, allowTuple: true);
            if (!IsKeyword("in")) throw Unexpected("'in'");
            _pos++;
            var iterable = ParseOrTest();
            var conditions = ImmutableArray.CreateBuilder<Expr>();
            while (IsKeyword("if"))
            {
                _pos++;
                conditions.Add(ParseOrTest());
            }
            clauses.Add(new ComprehensionClause(target, iterable, conditions.ToImmutable()));
        }
        return clauses.ToImmutable();
    }

    private Expr ParseAtom()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Name:
                _pos++;
                return token.Text switch
                {
                    "None" => new NoneLiteral(token.Span),
                    "True" => new BoolLiteral(true, token.Span),
                    "False" => new BoolLiteral(false, token.Span),
                    "lambda" => throw ErrorAt(token, "lambda expressions are not supported"),
                    "yield" or "await" => throw ErrorAt(token, $"'{token.Text}' is not supported"),
                    _ when Keywords.IsReserved(token.Text) => throw ErrorAt(token, $"unexpected keyword '{token.Text}'"),
                    _ => new NameExpr(token.Text, token.Span),
                };
            case TokenKind.Int:
                _pos++;
                if (token.Text.Length > 1 && token.Text[0] == '0' && token.Text.Any(c => c != '0'))
                    throw ErrorAt(token, $"leading zeros in integer literal '{token.Text}'");
                if (token.Text.Length > 4000)
                    throw ErrorAt(token, "integer literal too long");
                return new IntLiteral(BigInteger.Parse(token.Text, CultureInfo.InvariantCulture), token.Span);
            case TokenKind.Float:
                _pos++;
                return new FloatLiteral(Lexer.ParseFloat(token.Text), token.Span);
            case TokenKind.String or TokenKind.FString:
                return ParseStrings();
            case TokenKind.Operator:
                switch (token.Text)
                {
                    case "...":
                        _pos++;
                        return new EllipsisLiteral(token.Span);
                    case "(":
                        return ParseParenthesized();
                    case "[":
                        return ParseListDisplay();
                    case "{":
                        return ParseDict();
                }
                break;
        }
        throw Unexpected("an expression");
    }

    private Expr ParseParenthesized()
    {
        using var _ = Nest();
        var start = Advance().Span;
        if (Accept(")")) return new TupleExpr([], SpanFrom(start));
        var first = ParseTest();
        if (!IsKeyword("for") && Accept(")")) return first;
        return ParseDisplayRest(first, ")", start, items => new TupleExpr(items, SpanFrom(start)));
    }

    private Expr ParseListDisplay()
    {
        using var _ = Nest();
        var start = Advance().Span;
        if (Accept("]")) return new ListExpr([], SpanFrom(start));
        return ParseDisplayRest(ParseTest(), "]", start, items => new ListExpr(items, SpanFrom(start)));
    }

    /// <summary>After the first item of a (...) or [...] display: a comprehension, or more items up to the closer.</summary>
    private Expr ParseDisplayRest(Expr first, string close, SourceSpan start, Func<ImmutableArray<Expr>, Expr> build)
    {
        if (IsKeyword("for"))
        {
            var clauses = ParseComprehensionClauses();
            Expect(close);
            return new ListCompExpr(first, clauses, SpanFrom(start));
        }
        var items = ImmutableArray.CreateBuilder<Expr>();
        items.Add(first);
        while (Accept(","))
        {
            if (Current.Is(close)) break;
            items.Add(ParseTest());
        }
        Expect(close);
        return build(items.ToImmutable());
    }

    private Expr ParseDict()
    {
        using var _ = Nest();
        var start = Advance().Span;
        var keys = ImmutableArray.CreateBuilder<Expr>();
        var values = ImmutableArray.CreateBuilder<Expr>();
        while (!Current.Is("}"))
        {
            keys.Add(ParseTest());
            Expect(":");
            values.Add(ParseTest());
            if (!Accept(",")) break;
        }
        Expect("}");
        return new DictExpr(keys.ToImmutable(), values.ToImmutable(), SpanFrom(start));
    }

    private Expr ParseStrings()
    {
        var start = Current.Span;
        var parts = ImmutableArray.CreateBuilder<Expr>();
        bool anyFormat = false;
        while (Current.Kind is TokenKind.String or TokenKind.FString)
        {
            var token = Advance();
            if (token.Kind == TokenKind.String) parts.Add(new StringLiteral(token.Text, token.Span));
            else
            {
                anyFormat = true;
                parts.AddRange(ParseFormatParts(token));
            }
        }
        var span = SpanFrom(start);
        if (!anyFormat)
            return new StringLiteral(string.Concat(parts.Select(p => ((StringLiteral)p).Value)), span);
        return new FStringExpr(parts.ToImmutable(), span);
    }

    private List<Expr> ParseFormatParts(Token token)
    {
        var parts = new List<Expr>();
        string text = token.Text;
        var literal = new System.Text.StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '{' && i + 1 < text.Length && text[i + 1] == '{') { literal.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < text.Length && text[i + 1] == '}') { literal.Append('}'); i++; continue; }
            if (c == '}') throw ErrorAt(token, "single '}' is not allowed in an f-string");
            if (c != '{') { literal.Append(c); continue; }
            int close = text.IndexOf('}', i + 1);
            if (close < 0) throw ErrorAt(token, "f-string: expecting '}'");
            string inner = text[(i + 1)..close];
            if (inner.Contains(':', StringComparison.Ordinal) || inner.Contains('!', StringComparison.Ordinal))
                throw ErrorAt(token, "f-string format specifications and conversions are not supported");
            if (literal.Length > 0) { parts.Add(new StringLiteral(literal.ToString(), token.Span)); literal.Clear(); }
            Expr inside;
            try { inside = ParseExpression(inner); }
            catch (PyLiteSyntaxException e) { throw ErrorAt(token, $"in f-string expression: {e.Message}"); }
            parts.Add(inside with { });
            i = close;
        }
        if (literal.Length > 0) parts.Add(new StringLiteral(literal.ToString(), token.Span));
        return parts;
    }

    private sealed class FrozenKeywords
    {
        private readonly HashSet<string> _reserved =
        [
            "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
            "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
            "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
        ];

        private readonly HashSet<string> _statements =
        [
            "assert", "async", "break", "class", "continue", "def", "del", "elif", "else", "except", "finally", "for",
            "from", "global", "if", "import", "nonlocal", "pass", "raise", "return", "try", "while", "with",
        ];

        public bool IsReserved(string word) => _reserved.Contains(word);

        public bool IsStatementKeyword(string word) => _statements.Contains(word);

        public bool IsLiteralName(string word) => word is "None" or "True" or "False";
    }

    public override string ToString() => _source;
}
