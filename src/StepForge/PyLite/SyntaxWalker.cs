namespace StepForge.PyLite;

/// <summary>Walks syntax trees without recursion, so that any tree the parser accepts can be walked.</summary>
public static class SyntaxWalker
{
    public static IEnumerable<Node> Children(Node node)
    {
        switch (node)
        {
            case AssignStmt a: foreach (var t in a.Targets) yield return t; yield return a.Value; break;
            case AugAssignStmt g: yield return g.Target; yield return g.Value; break;
            case ExprStmt e: yield return e.Value; break;
            case ReturnStmt { Value: { } v }: yield return v; break;
            case FStringExpr f: foreach (var p in f.Parts) yield return p; break;
            case BinaryExpr b: yield return b.Left; yield return b.Right; break;
            case UnaryExpr u: yield return u.Operand; break;
            case BoolOpExpr o: yield return o.Left; yield return o.Right; break;
            case CompareExpr c: yield return c.Left; foreach (var x in c.Comparators) yield return x; break;
            case ConditionalExpr c: yield return c.Test; yield return c.Body; yield return c.OrElse; break;
            case CallExpr c:
                yield return c.Callee;
                foreach (var x in c.Args) yield return x;
                foreach (var k in c.Keywords) yield return k.Value;
                break;
            case AttributeExpr a: yield return a.Target; break;
            case SubscriptExpr s: yield return s.Target; yield return s.Index; break;
            case SliceExpr s:
                if (s.Lower is not null) yield return s.Lower;
                if (s.Upper is not null) yield return s.Upper;
                if (s.Step is not null) yield return s.Step;
                break;
            case TupleExpr t: foreach (var x in t.Items) yield return x; break;
            case ListExpr l: foreach (var x in l.Items) yield return x; break;
            case DictExpr d: foreach (var x in d.Keys.Concat(d.Values)) yield return x; break;
            case ListCompExpr lc:
                yield return lc.Element;
                foreach (var cl in lc.Clauses)
                {
                    yield return cl.Target;
                    yield return cl.Iterable;
                    foreach (var cond in cl.Conditions) yield return cond;
                }
                break;
        }
    }

    /// <summary>The node and everything below it, depth first.</summary>
    public static IEnumerable<Node> DescendantsAndSelf(Node node)
    {
        var stack = new Stack<Node>();
        stack.Push(node);
        while (stack.Count > 0)
        {
            var current = stack.Pop();
            yield return current;
            foreach (var child in Children(current)) stack.Push(child);
        }
    }

    /// <summary>
    /// Whether some path from <paramref name="node"/> down to a leaf has more than <paramref name="limit"/> nodes.
    /// It recurses, but never deeper than the limit, so any tree is safe to ask about; and it allocates nothing.
    /// </summary>
    public static bool DeeperThan(Node? node, int limit)
    {
        if (node is null) return false;
        if (limit <= 0) return true;
        int next = limit - 1;
        switch (node)
        {
            case AssignStmt a:
                foreach (var t in a.Targets) if (DeeperThan(t, next)) return true;
                return DeeperThan(a.Value, next);
            case AugAssignStmt g: return DeeperThan(g.Target, next) || DeeperThan(g.Value, next);
            case ExprStmt e: return DeeperThan(e.Value, next);
            case ReturnStmt r: return DeeperThan(r.Value, next);
            case FStringExpr f: return Any(f.Parts, next);
            case BinaryExpr b: return DeeperThan(b.Left, next) || DeeperThan(b.Right, next);
            case UnaryExpr u: return DeeperThan(u.Operand, next);
            case BoolOpExpr o: return DeeperThan(o.Left, next) || DeeperThan(o.Right, next);
            case CompareExpr c: return DeeperThan(c.Left, next) || Any(c.Comparators, next);
            case ConditionalExpr c: return DeeperThan(c.Test, next) || DeeperThan(c.Body, next) || DeeperThan(c.OrElse, next);
            case CallExpr c:
                if (DeeperThan(c.Callee, next) || Any(c.Args, next)) return true;
                foreach (var k in c.Keywords) if (DeeperThan(k.Value, next)) return true;
                return false;
            case AttributeExpr a: return DeeperThan(a.Target, next);
            case SubscriptExpr s: return DeeperThan(s.Target, next) || DeeperThan(s.Index, next);
            case SliceExpr s: return DeeperThan(s.Lower, next) || DeeperThan(s.Upper, next) || DeeperThan(s.Step, next);
            case TupleExpr t: return Any(t.Items, next);
            case ListExpr l: return Any(l.Items, next);
            case DictExpr d: return Any(d.Keys, next) || Any(d.Values, next);
            case ListCompExpr lc:
                if (DeeperThan(lc.Element, next)) return true;
                foreach (var cl in lc.Clauses)
                    if (DeeperThan(cl.Target, next) || DeeperThan(cl.Iterable, next) || Any(cl.Conditions, next)) return true;
                return false;
            default:
                return false;
        }
    }

    private static bool Any(System.Collections.Immutable.ImmutableArray<Expr> items, int limit)
    {
        foreach (var item in items) if (DeeperThan(item, limit)) return true;
        return false;
    }
}
