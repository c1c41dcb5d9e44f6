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

    /// <summary>The number of nodes on the longest path from <paramref name="node"/> down to a leaf.</summary>
    public static int Depth(Node node)
    {
        int max = 0;
        var stack = new Stack<(Node Node, int Depth)>();
        stack.Push((node, 1));
        while (stack.Count > 0)
        {
            var (current, depth) = stack.Pop();
            max = Math.Max(max, depth);
            foreach (var child in Children(current)) stack.Push((child, depth + 1));
        }
        return max;
    }
}
