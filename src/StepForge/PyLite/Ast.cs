using System.Collections.Immutable;
using System.Numerics;

namespace StepForge.PyLite;

// The syntax tree of the Python subset. Nodes are immutable and carry the span they were parsed from.

public abstract record Node(SourceSpan Span);

public abstract record Expr(SourceSpan Span) : Node(Span);

public sealed record NameExpr(string Name, SourceSpan Span) : Expr(Span);

public sealed record IntLiteral(BigInteger Value, SourceSpan Span) : Expr(Span)
{
    /// <summary>The value as the interpreter gives it, boxed once (boxes never change); null when it does not fit a long.</summary>
    internal object? Boxed { get; } = BigInteger.Abs(Value) <= long.MaxValue ? (long)Value : null;
}

public sealed record FloatLiteral(double Value, SourceSpan Span) : Expr(Span)
{
    /// <summary>The value as the interpreter gives it, boxed once.</summary>
    internal object Boxed { get; } = Value;
}

public sealed record StringLiteral(string Value, SourceSpan Span) : Expr(Span);

/// <summary>An f-string: literal text and expressions, in order.</summary>
public sealed record FStringExpr(ImmutableArray<Expr> Parts, SourceSpan Span) : Expr(Span);

public sealed record BoolLiteral(bool Value, SourceSpan Span) : Expr(Span);

public sealed record NoneLiteral(SourceSpan Span) : Expr(Span);

public sealed record EllipsisLiteral(SourceSpan Span) : Expr(Span);

public enum BinaryOp { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, MatMul, BitAnd, BitOr, BitXor }

public enum UnaryOp { Neg, Pos, Not, Invert }

public enum CompareOp { Lt, Gt, Le, Ge, Eq, Ne, In, NotIn, Is, IsNot }

public sealed record BinaryExpr(BinaryOp Op, Expr Left, Expr Right, SourceSpan Span) : Expr(Span);

public sealed record UnaryExpr(UnaryOp Op, Expr Operand, SourceSpan Span) : Expr(Span);

public sealed record BoolOpExpr(bool IsAnd, Expr Left, Expr Right, SourceSpan Span) : Expr(Span);

public sealed record CompareExpr(Expr Left, ImmutableArray<CompareOp> Ops, ImmutableArray<Expr> Comparators, SourceSpan Span) : Expr(Span);

public sealed record ConditionalExpr(Expr Test, Expr Body, Expr OrElse, SourceSpan Span) : Expr(Span);

public sealed record KeywordArg(string Name, Expr Value, SourceSpan Span);

public sealed record CallExpr(Expr Callee, ImmutableArray<Expr> Args, ImmutableArray<KeywordArg> Keywords, SourceSpan Span) : Expr(Span);

public sealed record AttributeExpr(Expr Target, string Name, SourceSpan Span) : Expr(Span);

/// <summary><c>a[i]</c>; a multi-part index such as <c>a[..., ::2]</c> is a <see cref="TupleExpr"/>.</summary>
public sealed record SubscriptExpr(Expr Target, Expr Index, SourceSpan Span) : Expr(Span);

public sealed record SliceExpr(Expr? Lower, Expr? Upper, Expr? Step, SourceSpan Span) : Expr(Span);

public sealed record TupleExpr(ImmutableArray<Expr> Items, SourceSpan Span) : Expr(Span);

public sealed record ListExpr(ImmutableArray<Expr> Items, SourceSpan Span) : Expr(Span);

public sealed record DictExpr(ImmutableArray<Expr> Keys, ImmutableArray<Expr> Values, SourceSpan Span) : Expr(Span);

public sealed record ComprehensionClause(Expr Target, Expr Iterable, ImmutableArray<Expr> Conditions);

public sealed record ListCompExpr(Expr Element, ImmutableArray<ComprehensionClause> Clauses, SourceSpan Span) : Expr(Span);

public abstract record Stmt(SourceSpan Span) : Node(Span);

/// <summary><c>a = b = value</c>: every target receives the value.</summary>
public sealed record AssignStmt(ImmutableArray<Expr> Targets, Expr Value, SourceSpan Span) : Stmt(Span);

public sealed record AugAssignStmt(Expr Target, BinaryOp Op, Expr Value, SourceSpan Span) : Stmt(Span);

public sealed record ExprStmt(Expr Value, SourceSpan Span) : Stmt(Span);

public sealed record ReturnStmt(Expr? Value, SourceSpan Span) : Stmt(Span);

public sealed record PassStmt(SourceSpan Span) : Stmt(Span);

public sealed record Module(ImmutableArray<Stmt> Body, string Source);
