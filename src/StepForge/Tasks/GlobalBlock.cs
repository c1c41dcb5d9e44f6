using System.Numerics;
using StepForge.PyLite;

namespace StepForge.Tasks;

/// <summary>
/// What a task's <c>global:</c> block declares, read statically: dimension symbols set by <c>ctx[E] = ...</c>
/// with their sizes, integer constants such as <c>E_value = 3</c>, and the other names it defines.
/// </summary>
public sealed record GlobalBlock(IReadOnlyDictionary<string, long> Dims, IReadOnlyDictionary<string, long> Ints, IReadOnlySet<string> Names)
{
    public static readonly GlobalBlock Empty = new(new Dictionary<string, long>(), new Dictionary<string, long>(), new HashSet<string>());

    /// <summary>Reads the block; throws <see cref="PyLiteSyntaxException"/> or <see cref="FormatException"/> when it is not usable.</summary>
    public static GlobalBlock Read(string source, IReadOnlyDictionary<string, long> sizes)
    {
        var module = Parser.ParseModule(source);
        var dims = new Dictionary<string, long>();
        var ints = new Dictionary<string, long>();
        var names = new HashSet<string>();
        foreach (var (k, v) in sizes) ints[k + "_value"] = v;

        long? Fold(Expr e) => e switch
        {
            IntLiteral i when BigInteger.Abs(i.Value) < int.MaxValue => (long)i.Value,
            NameExpr n when ints.TryGetValue(n.Name, out var v) => v,
            SubscriptExpr { Target: NameExpr { Name: "ctx" }, Index: NameExpr d } when dims.TryGetValue(d.Name, out var v) => v,
            BinaryExpr { Op: BinaryOp.Add } b when Fold(b.Left) is long x && Fold(b.Right) is long y => x + y,
            BinaryExpr { Op: BinaryOp.Sub } b when Fold(b.Left) is long x && Fold(b.Right) is long y => x - y,
            BinaryExpr { Op: BinaryOp.Mul } b when Fold(b.Left) is long x && Fold(b.Right) is long y => x * y,
            BinaryExpr { Op: BinaryOp.FloorDiv } b when Fold(b.Left) is long x && Fold(b.Right) is long y && y != 0 => x / y,
            _ => null,
        };

        foreach (var stmt in module.Body)
        {
            if (stmt is not AssignStmt assign) continue;
            var value = Fold(assign.Value);
            foreach (var target in assign.Targets)
            {
                switch (target)
                {
                    case SubscriptExpr { Target: NameExpr { Name: "ctx" }, Index: NameExpr dim }:
                        if (value is not long size || size <= 0)
                            throw new FormatException($"line {stmt.Span.Line}: ctx[{dim.Name}] must be set to a positive integer");
                        dims[dim.Name] = size;
                        break;
                    case NameExpr name:
                        names.Add(name.Name);
                        if (value is long v) ints[name.Name] = v;
                        else ints.Remove(name.Name);
                        break;
                    case TupleExpr tuple:
                        foreach (var item in tuple.Items.OfType<NameExpr>()) names.Add(item.Name);
                        break;
                }
            }
        }
        foreach (var k in sizes.Keys) ints.Remove(k + "_value");
        return new GlobalBlock(dims, ints, names);
    }
}
