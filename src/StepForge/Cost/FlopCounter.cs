using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Tensors;

namespace StepForge.Cost;

/// <summary>
/// Counts the work of one fn call: walks the apply body's syntax tree with real values of one element (so every
/// intermediate has its true shape), lets the interpreter compute each value, and charges every torch call and
/// tensor operator by <see cref="FlopRules"/>. Leaves (names, literals, slices) and assignments are the interpreter's
/// own; only the nodes that do work are evaluated here, so the values are exactly the ones the simulation computes.
/// </summary>
public sealed class FlopCounter(Interpreter interpreter)
{
    private long _flops;
    private int _temps;

    /// <summary>Runs the body once on <paramref name="input"/> (and <paramref name="state"/>) and returns its flops.</summary>
    public long Count(Module body, Scope globals, IReadOnlyList<Tensor> input, IReadOnlyList<Tensor>? state)
    {
        _flops = 0;
        var scope = new Scope(globals);
        scope.Set("input", new PyList([.. input.Select(t => (object?)t.Copy())]));
        if (state is not null) scope.Set("state", new PyList([.. state.Select(t => (object?)t.Copy())]));
        foreach (var stmt in body.Body)
        {
            switch (stmt)
            {
                case ReturnStmt ret:
                    if (ret.Value is not null) Eval(ret.Value, scope);
                    return _flops;
                case ExprStmt e:
                    Eval(e.Value, scope);
                    break;
                case AssignStmt a:
                    AssignFrom(a.Targets, Eval(a.Value, scope), scope, a.Span);
                    break;
                case AugAssignStmt aug:
                {
                    var value = Binary(aug.Op, Eval(aug.Target, scope), Eval(aug.Value, scope), aug.Span);
                    AssignFrom([aug.Target], value, scope, aug.Span);
                    break;
                }
            }
        }
        return _flops;
    }

    /// <summary>Binds a computed value to a fresh name so that the interpreter can finish a node with it.</summary>
    private NameExpr Hold(object? value, Scope scope, SourceSpan span)
    {
        var name = $"\u00a7{_temps++}";
        scope.Set(name, value);
        return new NameExpr(name, span);
    }

    private void AssignFrom(IEnumerable<Expr> targets, object? value, Scope scope, SourceSpan span) =>
        interpreter.Run(new Module([new AssignStmt([.. targets], Hold(value, scope, span), span)], ""), scope);

    private object? Eval(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case BinaryExpr bin:
                return Binary(bin.Op, Eval(bin.Left, scope), Eval(bin.Right, scope), bin.Span);
            case UnaryExpr un:
            {
                var operand = Eval(un.Operand, scope);
                var result = Operators.Unary(un.Op, operand, un.Span);
                if (un.Op != UnaryOp.Pos) Charge(un.Op == UnaryOp.Neg ? "neg" : "invert", result, operand, null);
                return result;
            }
            case CompareExpr cmp:
            {
                var left = Eval(cmp.Left, scope);
                object? result = true;
                for (int k = 0; k < cmp.Ops.Length; k++)
                {
                    var right = Eval(cmp.Comparators[k], scope);
                    result = Operators.Compare(cmp.Ops[k], left, right, cmp.Span);
                    Charge(cmp.Ops[k].ToString(), result, left, right);
                    if (cmp.Ops.Length > 1 && !Operators.Truth(result, cmp.Span)) return false;
                    left = right;
                }
                return result;
            }
            case BoolOpExpr bo:
            {
                var left = Eval(bo.Left, scope);
                bool truth = Operators.Truth(left, bo.Span);
                return bo.IsAnd ? (truth ? Eval(bo.Right, scope) : left) : (truth ? left : Eval(bo.Right, scope));
            }
            case ConditionalExpr c:
                return Operators.Truth(Eval(c.Test, scope), c.Span) ? Eval(c.Body, scope) : Eval(c.OrElse, scope);
            case TupleExpr t:
                return new PyTuple([.. t.Items.Select(i => Eval(i, scope))]);
            case ListExpr l:
                return new PyList([.. l.Items.Select(i => Eval(i, scope))]);
            case ListCompExpr lc:
            {
                var results = new List<object?>();
                Comprehension(lc, 0, new Scope(scope), results);
                return new PyList(results);
            }
            case SubscriptExpr sub:
                return Operators.Subscript(Eval(sub.Target, scope), Eval(sub.Index, scope), sub.Span);
            case AttributeExpr attr:
                return interpreter.Eval(attr with { Target = Hold(Eval(attr.Target, scope), scope, attr.Span) }, scope);
            case CallExpr call:
                return Call(call, scope);
            default:
                // Names, literals, slices, dicts, f-strings: no work.
                return interpreter.Eval(expr, scope);
        }
    }

    private void Comprehension(ListCompExpr comp, int index, Scope scope, List<object?> results)
    {
        if (index == comp.Clauses.Length)
        {
            results.Add(Eval(comp.Element, scope));
            return;
        }
        var clause = comp.Clauses[index];
        foreach (var item in Operators.Iterate(Eval(clause.Iterable, scope), clause.Iterable.Span))
        {
            AssignFrom([clause.Target], item, scope, clause.Iterable.Span);
            if (clause.Conditions.All(c => Operators.Truth(Eval(c, scope), c.Span)))
                Comprehension(comp, index + 1, scope, results);
        }
    }

    private object? Binary(BinaryOp op, object? left, object? right, SourceSpan span)
    {
        var result = Operators.Binary(op, left, right, span);
        var name = op switch
        {
            BinaryOp.Add => "add",
            BinaryOp.Sub => "sub",
            BinaryOp.Mul => "mul",
            BinaryOp.Div => "div",
            BinaryOp.Pow => "pow",
            BinaryOp.MatMul => "matmul",
            _ => op.ToString(),
        };
        Charge(name, result, left, right);
        return result;
    }

    private object? Call(CallExpr call, Scope scope)
    {
        object? self = null;
        object? callee;
        if (call.Callee is AttributeExpr attr)
        {
            self = Eval(attr.Target, scope);
            callee = interpreter.Eval(attr with { Target = Hold(self, scope, attr.Span) }, scope);
        }
        else callee = Eval(call.Callee, scope);
        if (callee is not IPyCallable callable)
            throw new PyLiteRuntimeException($"'{PyValue.TypeName(callee)}' object is not callable", call.Span.Line, call.Span.Column);
        var args = call.Args.Select(a => Eval(a, scope)).ToList();
        var kwargs = new Dictionary<string, object?>();
        foreach (var kw in call.Keywords) kwargs[kw.Name] = Eval(kw.Value, scope);
        object? result;
        try
        {
            result = callable.Call(args, kwargs);
        }
        catch (TensorException e)
        {
            throw new PyLiteRuntimeException(e.Message, call.Span.Line, call.Span.Column);
        }
        // A method's subject is its tensor; a function's is its first argument (or input=).
        var subject = self is Tensor ? self : args.Count > 0 ? args[0] : kwargs.GetValueOrDefault("input");
        var name = FlopRules.Normalize(callable.Name);
        if (name == "einsum")
        {
            _flops += FlopRules.Charge(FlopKind.Contraction, Values(result), 0, EinsumContracted(args));
            return result;
        }
        // The operand after the subject: max/min of two tensors compare, of one (or with dim=) they reduce.
        var second = self is Tensor ? args.ElementAtOrDefault(0) : args.ElementAtOrDefault(1) ?? kwargs.GetValueOrDefault("other");
        if (name == "topk")
        {
            var dimArg = self is Tensor ? (args.Count > 1 ? args[1] : kwargs.GetValueOrDefault("dim")) : (args.Count > 2 ? args[2] : kwargs.GetValueOrDefault("dim"));
            _flops += subject is Tensor t && t.Rank > 0
                ? FlopRules.Charge(FlopKind.TopK, Values(result), t.Count, t.Shape[t.NormalizeDim(dimArg is long d ? (int)d : -1)])
                : 0;
            return result;
        }
        Charge(callable.Name, result, subject, second);
        return result;
    }

    /// <summary>Charges one operation by its rule, if it produced tensor values.</summary>
    private void Charge(string function, object? result, object? subject, object? other)
    {
        long outputs = Values(result);
        if (outputs == 0) return;
        var name = FlopRules.Normalize(function);
        // max/min of one tensor (over a dim, or all of it) reduce; of two tensors they compare elementwise.
        var rule = FlopRules.For(name, reducing: name is "max" or "min" && other is not Tensor);
        long contracted = rule.Kind == FlopKind.Contraction && subject is Tensor a && a.Rank > 0 ? a.Shape[^1] : 1;
        _flops += FlopRules.Charge(rule.Kind, outputs, Values(subject), contracted);
    }

    /// <summary>Tensor values in a result (lists and tuples summed); Python numbers are configuration, not work.</summary>
    private static long Values(object? value) => value switch
    {
        Tensor t => t.Count,
        PyList l => l.Items.Sum(Values),
        PyTuple t => t.Items.Sum(Values),
        _ => 0,
    };

    /// <summary>The number of values an einsum contracts: the product of the sizes of the letters missing from its output.</summary>
    private static long EinsumContracted(IReadOnlyList<object?> args)
    {
        if (args.Count < 2 || args[0] is not string equation) return 1;
        var parts = equation.Replace(" ", "", StringComparison.Ordinal).Split("->");
        if (parts.Length != 2) return 1;
        var operands = args.Count == 2 && args[1] is PyList or PyTuple ? (args[1] is PyList l ? l.Items : ((PyTuple)args[1]!).Items) : args.Skip(1).ToList();
        var inputs = parts[0].Split(',');
        var sizes = new Dictionary<char, long>();
        for (int i = 0; i < inputs.Length && i < operands.Count; i++)
        {
            if (operands[i] is not Tensor t) continue;
            var letters = inputs[i].Where(char.IsAsciiLetter).ToList();
            for (int d = 0; d < letters.Count && d < t.Rank; d++) sizes[letters[d]] = t.Shape[d];
        }
        long k = 1;
        foreach (var (letter, size) in sizes)
            if (!parts[1].Contains(letter, StringComparison.Ordinal)) k *= size;
        return k;
    }
}
