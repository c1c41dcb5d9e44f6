using StepForge.PyLite;

namespace StepForge.Step;

/// <summary>
/// Reads element types and dimensions as the task files write them: <c>fp32</c>, <c>Buffer(fp32, [D, N])</c>,
/// <c>Multihot(fp32, E)</c>, tuples <c>[fp32, Buffer(fp32, [D])]</c>, dims <c>M</c>, <c>16</c>, <c>M*N</c>.
/// </summary>
public static class DTypeSyntax
{
    public static DType ParseDType(string text)
    {
        Expr expr;
        try { expr = Parser.ParseExpression(text); }
        catch (PyLiteSyntaxException e) { throw new FormatException($"'{text}' is not a dtype: {e.Message}"); }
        return ToDType(expr, text);
    }

    public static Dim ParseDim(string text)
    {
        Expr expr;
        try { expr = Parser.ParseExpression(text); }
        catch (PyLiteSyntaxException e) { throw new FormatException($"'{text}' is not a dimension: {e.Message}"); }
        return ToDim(expr, text);
    }

    private static DType ToDType(Expr expr, string text)
    {
        switch (expr)
        {
            case NameExpr { Name: "fp32" or "float" or "float32" }:
                return DType.Fp32;
            case StringLiteral s:
                return ParseDType(s.Value);
            case ListExpr list:
                if (list.Items.Length == 0) throw new FormatException($"'{text}': an empty tuple is not a dtype");
                return DType.Tuple(list.Items.Select(i => ToDType(i, text)));
            case TupleExpr tuple:
                if (tuple.Items.Length == 0) throw new FormatException($"'{text}': an empty tuple is not a dtype");
                return DType.Tuple(tuple.Items.Select(i => ToDType(i, text)));
            case CallExpr { Callee: NameExpr { Name: "Buffer" } } call when call.Keywords.Length == 0:
                if (call.Args.Length != 2)
                    throw new FormatException($"'{text}': Buffer takes an element type and a shape list, as in Buffer(fp32, [D])");
                var element = ToDType(call.Args[0], text);
                if (element is TupleType)
                    throw new FormatException($"'{text}': a Buffer holds scalars or Multihots, not a tuple");
                var shapeItems = call.Args[1] switch
                {
                    ListExpr l => l.Items,
                    TupleExpr t => t.Items,
                    _ => throw new FormatException($"'{text}': the Buffer shape must be a list such as [D, N]"),
                };
                if (shapeItems.Length == 0) throw new FormatException($"'{text}': a Buffer shape needs at least one dimension");
                return new BufferType(element, new ValueList<Dim>(shapeItems.Select(i => ToDim(i, text))));
            case CallExpr { Callee: NameExpr { Name: "Multihot" } } call when call.Keywords.Length == 0:
                if (call.Args.Length != 2 || ToDType(call.Args[0], text) is not ScalarType scalar)
                    throw new FormatException($"'{text}': Multihot takes a scalar type and a width, as in Multihot(fp32, E)");
                return new MultihotType(scalar, ToDim(call.Args[1], text));
            default:
                throw new FormatException($"'{text}' is not a dtype (expected fp32, Buffer(T, [dims]), Multihot(fp32, E) or a list of these)");
        }
    }

    private static Dim ToDim(Expr expr, string text) => expr switch
    {
        NameExpr n => Dim.Symbol(n.Name),
        IntLiteral i when i.Value > 0 && i.Value <= int.MaxValue => Dim.Const((long)i.Value),
        StringLiteral s => ParseDim(s.Value),
        BinaryExpr { Op: BinaryOp.Mul } b => Dim.Product([ToDim(b.Left, text), ToDim(b.Right, text)]),
        _ => throw new FormatException($"'{text}': a dimension is a symbol, a positive integer or a product such as M*N"),
    };
}
