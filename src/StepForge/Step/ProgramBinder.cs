using System.Collections.Immutable;
using System.Numerics;
using StepForge.Diagnostics;
using StepForge.PyLite;

namespace StepForge.Step;

/// <summary>
/// Turns a parsed program into a typed <see cref="StepProgram"/> by interpreting it abstractly: names become
/// streams, functions, dimensions and integers; every <c>apply</c> is typed by <see cref="TypeRules"/> on the spot;
/// comprehensions are unrolled. Every stream consumption is recorded for the affine check. The first problem
/// stops binding with a <see cref="Diagnostic"/>: an unknown name is a parse error, a broken rule a type error.
/// </summary>
public sealed class ProgramBinder
{
    /// <summary>Work limits that turn runaway programs (huge ranges, giant lists) into a limit verdict.</summary>
    public const int MaxSteps = 2_000_000;
    public const int MaxListLength = 100_000;
    public const int MaxStreams = 200_000;

    private abstract record Value;
    private sealed record StreamVal(int Stream, int Handle) : Value;
    private sealed record ListVal(ImmutableArray<Value> Items) : Value;
    private sealed record FnVal(FnDecl Fn) : Value;
    private sealed record IntVal(long Value) : Value;
    private sealed record FloatVal(double Value) : Value;
    /// <param name="IsInteger">Written as the integer that holds the size (<c>E_value</c>), not as the symbol <c>E</c>.</param>
    private sealed record DimVal(Dim Dim, bool IsInteger = false) : Value;
    private sealed record StrVal(string Value) : Value;
    private sealed record NoneVal : Value;
    private sealed record StepModuleVal : Value;
    private sealed record OpCtorVal(string Name) : Value;
    private sealed record OpVal(StepOp Op) : Value;
    private sealed record ApplyVal(StepOp Op) : Value;
    private sealed record BuiltinVal(string Name) : Value;

    private sealed class BindException(Diagnostic diagnostic) : Exception(diagnostic.Message)
    {
        public Diagnostic Diagnostic { get; } = diagnostic;
    }

    private readonly ProgramEnvironment _env;
    private readonly Module _module;
    private readonly Dictionary<string, FnDecl> _fns;
    private readonly Dictionary<string, Value> _globals = [];
    private readonly List<Dictionary<string, Value>> _scopes = [];
    private readonly List<StreamType> _streams = [];
    private readonly List<string> _streamNames = [];
    private readonly List<StreamHandle> _handles = [];
    private readonly List<StreamUse> _uses = [];
    private readonly List<OpNode> _ops = [];
    private readonly List<int> _inputs = [];
    private int _steps;
    private int _comprehensionDepth;

    private readonly bool _checkOutputs;

    private ProgramBinder(Module module, ProgramEnvironment env, bool checkOutputs)
    {
        _checkOutputs = checkOutputs;
        _module = module;
        _env = env;
        _fns = [];
        foreach (var fn in env.Fns) _fns.TryAdd(fn.FuncName, fn);
    }

    /// <summary>Binds and types a program; returns the bound program or the first diagnostic.</summary>
    /// <param name="checkOutputs">false to accept whatever streams the program returns (to read their types).</param>
    public static (BoundProgram? Program, Diagnostic? Error) Bind(Module module, ProgramEnvironment env, bool checkOutputs = true)
    {
        var binder = new ProgramBinder(module, env, checkOutputs);
        try
        {
            return (binder.Run(), null);
        }
        catch (BindException e)
        {
            return (null, e.Diagnostic);
        }
        catch (OverflowException)
        {
            // A size such as M*2147483647*2147483647 is checked where it is evaluated, deep in the typing rules.
            return (null, new Diagnostic(VerdictKind.Limit, Rules.LimitInteger.Id, "a dimension's size overflows a 64-bit integer"));
        }
    }

    /// <summary>Charges the values a builtin builds (zip and enumerate lists) to the binding's step budget.</summary>
    private void ChargeItems(long count, SourceSpan span)
    {
        if (count > MaxSteps - _steps)
            throw new BindException(new Diagnostic(VerdictKind.Limit, Rules.LimitSteps.Id, $"binding the program took more than {MaxSteps} steps", span.Line, span.Column));
        _steps += (int)count;
    }

    private BoundProgram Run()
    {
        foreach (var input in _env.Inputs)
        {
            int id = NewStream(input.Type, input.Name);
            _inputs.Add(id);
            int handle = NewHandle(id, input.Name, 0, -1, input.Name);
            _globals[input.Name] = new StreamVal(id, handle);
        }

        List<int>? returns = null;
        foreach (var stmt in _module.Body)
        {
            if (returns is not null)
                throw Error(VerdictKind.Type, Rules.ReturnLast, "code after return is never run", stmt.Span);
            switch (stmt)
            {
                case AssignStmt assign:
                {
                    var value = Eval(assign.Value);
                    foreach (var target in assign.Targets) Assign(target, value, assign);
                    break;
                }
                case ExprStmt e:
                    Eval(e.Value);
                    break;
                case PassStmt:
                    break;
                case ReturnStmt ret:
                    returns = BindReturn(ret);
                    break;
                case AugAssignStmt aug:
                    throw Error(VerdictKind.Type, Rules.ProgramStatement, "augmented assignment has no meaning on streams", aug.Span);
            }
        }
        if (returns is null)
            throw Error(VerdictKind.Type, Rules.ReturnMissing, "the program does not return its output streams", null,
                expected: $"return of {_env.Outputs.Count} stream(s)", actual: "no return");

        var program = new StepProgram(_streams, _streamNames, _inputs, _ops, returns);
        return new BoundProgram(program, _handles, _uses, _module);
    }

    // ---- streams and handles ----

    private int NewStream(StreamType type, string name)
    {
        if (_streams.Count >= MaxStreams)
            throw new BindException(new Diagnostic(VerdictKind.Limit, Rules.LimitStreams.Id, $"the program creates more than {MaxStreams} streams"));
        _streams.Add(type);
        _streamNames.Add(name);
        return _streams.Count - 1;
    }

    private int NewHandle(int stream, string name, int line, int insertAt, string? reference)
    {
        _handles.Add(new StreamHandle(_handles.Count, stream, name, line, insertAt, reference));
        return _handles.Count - 1;
    }

    private void NameHandle(int handle, string name, Stmt stmt)
    {
        var h = _handles[handle];
        if (h.Reference is not null) return;
        if (h.InsertAt == -2)
        {
            // Made inside a comprehension: it gets a readable name, but no Copy can be inserted for it.
            if (!h.Name.Contains('@', StringComparison.Ordinal)) return;
            _handles[handle] = h with { Name = name };
        }
        else _handles[handle] = h with { Name = name, DefinedLine = stmt.Span.Line, InsertAt = LineEnd(stmt.Span.End), Reference = name };
        _streamNames[h.Stream] = name;
    }

    private int LineEnd(int offset)
    {
        int nl = _module.Source.IndexOf('\n', Math.Min(offset, _module.Source.Length));
        return nl < 0 ? _module.Source.Length : nl;
    }

    // ---- statements ----

    private void Assign(Expr target, Value value, Stmt stmt)
    {
        switch (target)
        {
            case NameExpr name:
                if (_comprehensionDepth == 0) NameValue(value, name.Name, stmt);
                Bind(name.Name, value);
                break;
            case TupleExpr or ListExpr:
            {
                var targets = target is TupleExpr t ? t.Items : ((ListExpr)target).Items;
                if (value is not ListVal list)
                    throw Error(VerdictKind.Type, Rules.ProgramUnpack, $"cannot unpack {Describe(value)} into {targets.Length} names", target.Span);
                if (list.Items.Length != targets.Length)
                    throw Error(VerdictKind.Type, Rules.ProgramUnpack, $"cannot unpack {list.Items.Length} values into {targets.Length} names", target.Span,
                        expected: $"{targets.Length} values", actual: $"{list.Items.Length} values");
                for (int i = 0; i < targets.Length; i++) Assign(targets[i], list.Items[i], stmt);
                break;
            }
            default:
                throw Error(VerdictKind.Type, Rules.ProgramStatement, "a program may only assign to names", target.Span);
        }
    }

    private void NameValue(Value value, string name, Stmt stmt)
    {
        switch (value)
        {
            case StreamVal s:
                NameHandle(s.Handle, name, stmt);
                break;
            case ListVal list:
                for (int i = 0; i < list.Items.Length; i++)
                    if (list.Items[i] is StreamVal s2) NameHandle(s2.Handle, $"{name}[{i}]", stmt);
                break;
        }
    }

    private void Bind(string name, Value value)
    {
        if (name == "step" || _fns.ContainsKey(name))
            throw new BindException(new Diagnostic(VerdictKind.Type, Rules.ProgramStatement.Id, $"'{name}' cannot be reassigned"));
        (_scopes.Count > 0 ? _scopes[^1] : _globals)[name] = value;
    }

    private List<int> BindReturn(ReturnStmt ret)
    {
        var value = ret.Value is null ? new ListVal([]) : Eval(ret.Value);
        var items = value is ListVal l ? l.Items : [value];
        var exprs = ret.Value is TupleExpr t && t.Items.Length == items.Length ? t.Items : default;
        var streams = new List<int>();
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i] is not StreamVal s)
                throw Error(VerdictKind.Type, Rules.ReturnStream, $"the program must return streams, but returns {Describe(items[i])}", ret.Span);
            var span = exprs.IsDefault ? ret.Value!.Span : exprs[i].Span;
            var expr = exprs.IsDefault ? ret.Value! : exprs[i];
            _uses.Add(new StreamUse(s.Handle, IsRewritable(expr) ? UseKind.Return : UseKind.FixedArgument, span, "return"));
            streams.Add(s.Stream);
        }
        var outputs = _env.Outputs;
        if (!_checkOutputs) return streams;
        if (streams.Count != outputs.Count)
            throw Error(VerdictKind.Type, Rules.ReturnCount, $"the task has {outputs.Count} output(s) but the program returns {streams.Count} stream(s)", ret.Span,
                op: "return", expected: $"{outputs.Count} stream(s): " + string.Join(", ", outputs.Select(o => o.Name)), actual: $"{streams.Count} stream(s)");
        for (int i = 0; i < streams.Count; i++)
        {
            var actual = _streams[streams[i]];
            var expected = outputs[i].Type;
            if (actual.DType != expected.DType)
                throw Error(VerdictKind.Type, Rules.ReturnDtype, $"output {outputs[i].Name} must have dtype {expected.DType}, but {_streamNames[streams[i]]} has {actual.DType}",
                    ret.Span, op: "return", expected: expected.DType.ToString(), actual: actual.DType.ToString());
            if (actual.Shape != expected.Shape)
                throw Error(VerdictKind.Type, Rules.ReturnShape, $"output {outputs[i].Name} must have dims {StreamType.FormatShape(expected.Shape)}, but {_streamNames[streams[i]]} has {StreamType.FormatShape(actual.Shape)}",
                    ret.Span, op: "return", expected: StreamType.FormatShape(expected.Shape), actual: StreamType.FormatShape(actual.Shape));
        }
        return streams;
    }

    // ---- expressions ----

    private Value Eval(Expr expr)
    {
        if (++_steps > MaxSteps)
            throw new BindException(new Diagnostic(VerdictKind.Limit, Rules.LimitSteps.Id, $"binding the program took more than {MaxSteps} steps", expr.Span.Line, expr.Span.Column));
        switch (expr)
        {
            case NameExpr name:
                return Lookup(name);
            case IntLiteral i:
                if (BigInteger.Abs(i.Value) > long.MaxValue / 4)
                    throw Error(VerdictKind.Limit, Rules.LimitInteger, "integer literal too large", expr.Span);
                return new IntVal((long)i.Value);
            case FloatLiteral f:
                return new FloatVal(f.Value);
            case StringLiteral s:
                return new StrVal(s.Value);
            case NoneLiteral:
                return new NoneVal();
            case TupleExpr t:
                return new ListVal([.. t.Items.Select(Eval)]);
            case ListExpr l:
                return new ListVal([.. l.Items.Select(Eval)]);
            case ListCompExpr comp:
                return EvalComprehension(comp);
            case AttributeExpr attr:
                return EvalAttribute(attr);
            case CallExpr call:
                return EvalCall(call);
            case SubscriptExpr sub:
                return EvalSubscript(sub);
            case BinaryExpr bin:
                return EvalArithmetic(bin);
            case UnaryExpr { Op: UnaryOp.Neg } neg when Eval(neg.Operand) is IntVal v:
                return new IntVal(-v.Value);
            default:
                throw Error(VerdictKind.Type, Rules.ProgramExpression, "this expression has no meaning in a STeP program (only op applications, names, lists and integers do)", expr.Span);
        }
    }

    private Value Lookup(NameExpr name)
    {
        for (int i = _scopes.Count - 1; i >= 0; i--)
            if (_scopes[i].TryGetValue(name.Name, out var local)) return local;
        if (_globals.TryGetValue(name.Name, out var global)) return global;
        if (_fns.TryGetValue(name.Name, out var fn)) return new FnVal(fn);
        if (name.Name == "step") return new StepModuleVal();
        if (_env.DimSymbols.Contains(name.Name)) return new DimVal(Dim.Symbol(name.Name));
        if (name.Name.EndsWith("_value", StringComparison.Ordinal) && _env.DimSymbols.Contains(name.Name[..^6]))
            return new DimVal(Dim.Symbol(name.Name[..^6]), IsInteger: true);
        if (_env.GlobalInts.TryGetValue(name.Name, out var number)) return new IntVal(number);
        if (name.Name is "zip" or "range" or "len" or "enumerate" or "list" or "tuple") return new BuiltinVal(name.Name);
        if (_env.GlobalNames.Contains(name.Name))
            throw Error(VerdictKind.Parse, Rules.Names, $"'{name.Name}' is a global of the task's PyTorch code and cannot be used in a STeP program", name.Span);
        throw Error(VerdictKind.Parse, Rules.Names,
            $"name '{name.Name}' is not defined; a program may use its input streams ({string.Join(", ", _env.Inputs.Select(i => i.Name))}), " +
            $"the task's functions ({string.Join(", ", _fns.Keys)}), dimension symbols and global values", name.Span);
    }

    private Value EvalAttribute(AttributeExpr attr)
    {
        var target = Eval(attr.Target);
        switch (target)
        {
            case StepModuleVal:
                if (!OpCatalog.Parameters.ContainsKey(attr.Name))
                    throw Error(VerdictKind.Parse, Rules.Names, $"step.{attr.Name} is not a STeP operator; the operators are {string.Join(", ", OpCatalog.Names)}", attr.Span);
                return new OpCtorVal(attr.Name);
            case OpVal op when attr.Name == "apply":
                return new ApplyVal(op.Op);
            case OpCtorVal ctor:
                throw Error(VerdictKind.Type, Rules.Of(ctor.Name).Config, $"step.{ctor.Name} must be configured before use, as in step.{ctor.Name}(...).apply(x)", attr.Span, op: ctor.Name);
            default:
                throw Error(VerdictKind.Type, Rules.ProgramExpression, $"{Describe(target)} has no attribute '{attr.Name}' in a STeP program", attr.Span);
        }
    }

    private Value EvalCall(CallExpr call)
    {
        var callee = Eval(call.Callee);
        switch (callee)
        {
            case OpCtorVal ctor:
                return new OpVal(Configure(ctor.Name, call));
            case ApplyVal apply:
                if (call.Args.Length != 1 || call.Keywords.Length != 0)
                    throw Error(VerdictKind.Type, Rules.Of(apply.Op.Name).Input, $"{apply.Op.Name}.apply takes exactly one argument (a stream or a tuple)", call.Span, op: apply.Op.Name);
                return ApplyOp(apply.Op, call.Args[0], call);
            case BuiltinVal builtin:
                return EvalBuiltin(builtin.Name, call);
            default:
                throw Error(VerdictKind.Type, Rules.ProgramExpression, $"{Describe(callee)} cannot be called in a STeP program", call.Span);
        }
    }

    private Value EvalBuiltin(string name, CallExpr call)
    {
        if (call.Keywords.Length != 0)
            throw Error(VerdictKind.Type, Rules.ProgramExpression, $"{name}() takes no keyword arguments here", call.Span);
        var args = call.Args.Select(Eval).ToList();
        switch (name)
        {
            case "zip":
            {
                var lists = args.Select(a => a as ListVal ?? throw Error(VerdictKind.Type, Rules.ProgramExpression, $"zip() needs lists, not {Describe(a)}", call.Span)).ToList();
                int n = lists.Count == 0 ? 0 : lists.Min(l => l.Items.Length);
                ChargeItems((long)n * (lists.Count + 1), call.Span);
                return new ListVal([.. Enumerable.Range(0, n).Select(i => (Value)new ListVal([.. lists.Select(l => l.Items[i])]))]);
            }
            case "enumerate" when args.Count == 1 && args[0] is ListVal list:
                ChargeItems(3L * list.Items.Length, call.Span);
                return new ListVal([.. list.Items.Select((v, i) => (Value)new ListVal([new IntVal(i), v]))]);
            case "list" or "tuple" when args.Count == 1 && args[0] is ListVal list:
                return list;
            case "len" when args.Count == 1 && args[0] is ListVal list:
                return new IntVal(list.Items.Length);
            case "range":
            {
                var bounds = args.Select(a => AsInt(a, call.Span, "range()")).ToList();
                if (bounds.Count is < 1 or > 3)
                    throw Error(VerdictKind.Type, Rules.ProgramExpression, "range() takes one to three integers", call.Span);
                long start = bounds.Count > 1 ? bounds[0] : 0, stop = bounds.Count > 1 ? bounds[1] : bounds[0], step = bounds.Count > 2 ? bounds[2] : 1;
                if (step == 0) throw Error(VerdictKind.Type, Rules.ProgramExpression, "range() step must not be zero", call.Span);
                var span128 = step > 0 ? (Int128)stop - start + step - 1 : (Int128)start - stop - step - 1;
                var count128 = span128 <= 0 ? 0 : span128 / (step > 0 ? step : -(Int128)step);
                if (count128 > MaxListLength)
                    throw Error(VerdictKind.Limit, Rules.LimitList, $"range() of {count128} items exceeds the limit of {MaxListLength}", call.Span);
                long count = (long)count128;
                ChargeItems(count, call.Span);
                return new ListVal([.. Enumerable.Range(0, (int)count).Select(i => (Value)new IntVal(start + i * step))]);
            }
            default:
                throw Error(VerdictKind.Type, Rules.ProgramExpression, $"{name}() cannot take these arguments in a STeP program", call.Span);
        }
    }

    private long AsInt(Value value, SourceSpan span, string what) => value switch
    {
        IntVal i => i.Value,
        DimVal d when d.Dim.Evaluate(_env.Sizes) is long v => v,
        _ => throw Error(VerdictKind.Type, Rules.ProgramExpression, $"{what} needs an integer, not {Describe(value)}", span),
    };

    private Value EvalSubscript(SubscriptExpr sub)
    {
        var target = Eval(sub.Target);
        var index = Eval(sub.Index);
        if (target is ListVal list && index is IntVal i)
        {
            long at = i.Value < 0 ? list.Items.Length + i.Value : i.Value;
            if (at < 0 || at >= list.Items.Length)
                throw Error(VerdictKind.Type, Rules.ProgramExpression, $"index {i.Value} is out of range for a list of {list.Items.Length}", sub.Span);
            return list.Items[(int)at];
        }
        throw Error(VerdictKind.Type, Rules.ProgramExpression, $"cannot index {Describe(target)} with {Describe(index)} in a STeP program", sub.Span);
    }

    private Value EvalArithmetic(BinaryExpr bin)
    {
        var left = Eval(bin.Left);
        var right = Eval(bin.Right);
        if (left is IntVal a && right is IntVal b)
        {
            try
            {
                return bin.Op switch
                {
                    BinaryOp.Add => new IntVal(checked(a.Value + b.Value)),
                    BinaryOp.Sub => new IntVal(checked(a.Value - b.Value)),
                    BinaryOp.Mul => new IntVal(checked(a.Value * b.Value)),
                    BinaryOp.FloorDiv when b.Value != 0 => new IntVal((long)Math.Floor((double)a.Value / b.Value)),
                    BinaryOp.Mod when b.Value != 0 => new IntVal(((a.Value % b.Value) + b.Value) % b.Value),
                    BinaryOp.Pow when b.Value is >= 0 and < 64 => new IntVal(checked((long)BigInteger.Pow(a.Value, (int)b.Value))),
                    _ => throw Error(VerdictKind.Type, Rules.ProgramExpression, "this integer arithmetic is not defined", bin.Span),
                };
            }
            catch (Exception e) when (e is OverflowException or InvalidCastException)
            {
                throw Error(VerdictKind.Limit, Rules.LimitInteger, "integer arithmetic overflows", bin.Span);
            }
        }
        if (bin.Op == BinaryOp.Mul && AsDim(left) is Dim x && AsDim(right) is Dim y)
            return new DimVal(Dim.Product([x, y]));
        throw Error(VerdictKind.Type, Rules.ProgramExpression, $"cannot apply an operator to {Describe(left)} and {Describe(right)} in a STeP program", bin.Span);
    }

    private static Dim? AsDim(Value value) => value switch
    {
        DimVal d => d.Dim,
        IntVal { Value: > 0 and <= int.MaxValue } i => Dim.Const(i.Value),
        _ => null,
    };

    private Value EvalComprehension(ListCompExpr comp)
    {
        var results = ImmutableArray.CreateBuilder<Value>();
        _comprehensionDepth++;
        _scopes.Add([]);
        try
        {
            RunClauses(comp, 0, results);
        }
        finally
        {
            _scopes.RemoveAt(_scopes.Count - 1);
            _comprehensionDepth--;
        }
        return new ListVal(results.ToImmutable());
    }

    private void RunClauses(ListCompExpr comp, int clauseIndex, ImmutableArray<Value>.Builder results)
    {
        if (clauseIndex == comp.Clauses.Length)
        {
            if (results.Count >= MaxListLength)
                throw Error(VerdictKind.Limit, Rules.LimitList, $"a comprehension produced more than {MaxListLength} items", comp.Span);
            results.Add(Eval(comp.Element));
            return;
        }
        var clause = comp.Clauses[clauseIndex];
        var iterable = Eval(clause.Iterable);
        if (iterable is not ListVal list)
            throw Error(VerdictKind.Type, Rules.ProgramExpression, $"a comprehension must iterate over a list, not {Describe(iterable)}", clause.Iterable.Span);
        foreach (var item in list.Items)
        {
            var moved = MoveStreams(item, clause.Iterable.Span);
            AssignLoopTarget(clause.Target, moved);
            bool keep = true;
            foreach (var condition in clause.Conditions)
                if (Eval(condition) is not IntVal { Value: not 0 }) keep = false;
            if (keep) RunClauses(comp, clauseIndex + 1, results);
        }
    }

    /// <summary>Iterating consumes each stream once; the loop variable holds a fresh handle that may be consumed once.</summary>
    private Value MoveStreams(Value value, SourceSpan iterableSpan)
    {
        switch (value)
        {
            case StreamVal s:
                _uses.Add(new StreamUse(s.Handle, UseKind.Iteration, iterableSpan, "comprehension"));
                return s with { Handle = NewHandle(s.Stream, _handles[s.Handle].Name, iterableSpan.Line, -2, null) };
            case ListVal list:
                return new ListVal([.. list.Items.Select(i => MoveStreams(i, iterableSpan))]);
            default:
                return value;
        }
    }

    private void AssignLoopTarget(Expr target, Value value)
    {
        switch (target)
        {
            case NameExpr name:
                _scopes[^1][name.Name] = value;
                break;
            case TupleExpr or ListExpr:
            {
                var targets = target is TupleExpr t ? t.Items : ((ListExpr)target).Items;
                if (value is not ListVal list || list.Items.Length != targets.Length)
                    throw Error(VerdictKind.Type, Rules.ProgramUnpack, $"cannot unpack {Describe(value)} into {targets.Length} loop variables", target.Span);
                for (int i = 0; i < targets.Length; i++) AssignLoopTarget(targets[i], list.Items[i]);
                break;
            }
            default:
                throw Error(VerdictKind.Type, Rules.ProgramStatement, "a loop variable must be a name", target.Span);
        }
    }

    // ---- operators ----

    private StepOp Configure(string opName, CallExpr call)
    {
        var parameters = OpCatalog.Parameters[opName];
        if (call.Args.Length > parameters.Length)
            throw Error(VerdictKind.Type, Rules.Of(opName).Config, $"step.{opName} takes {parameters.Length} configuration value(s) ({string.Join(", ", parameters.Select(p => p.Name))}), got {call.Args.Length}",
                call.Span, op: opName, expected: $"{parameters.Length} value(s)", actual: $"{call.Args.Length} positional value(s)");
        var given = new GivenParameters(parameters);
        for (int i = 0; i < call.Args.Length; i++) given[parameters[i].Name] = (Eval(call.Args[i]), call.Args[i].Span);
        foreach (var kw in call.Keywords)
        {
            if (GivenParameters.IndexOf(parameters, kw.Name) < 0)
                throw Error(VerdictKind.Type, Rules.Of(opName).Config,
                    $"step.{opName} has no parameter '{kw.Name}'" + (parameters.Length == 0 ? " (it takes none)" : $" (it takes {string.Join(", ", parameters.Select(p => p.Name))})"),
                    kw.Span, op: opName, expected: parameters.Length == 0 ? "no parameters" : string.Join(", ", parameters.Select(p => p.Name)), actual: kw.Name);
            if (given.ContainsKey(kw.Name))
                throw Error(VerdictKind.Type, Rules.Of(opName).Config, $"step.{opName} got '{kw.Name}' twice", kw.Span, op: opName,
                    expected: $"'{kw.Name}' once", actual: $"'{kw.Name}' twice");
            given[kw.Name] = (Eval(kw.Value), kw.Value.Span);
        }
        foreach (var p in parameters)
            if (!given.ContainsKey(p.Name))
                throw Error(VerdictKind.Type, Rules.Of(opName).Config, $"step.{opName} needs '{p.Name}'", call.Span, op: opName, expected: $"{p.Name}=<{Describe(p.Kind)}>", actual: "missing");

        FnDecl Fn() => given["fn"].Value as FnVal is { } f ? f.Fn
            : throw Error(VerdictKind.Type, Rules.Of(opName).Config, $"fn must be one of the task's functions ({string.Join(", ", _fns.Keys)})", given["fn"].Span, op: opName,
                expected: "a task function", actual: Describe(given["fn"].Value));
        int Int(string name) => given[name].Value is IntVal { Value: >= int.MinValue and <= int.MaxValue } i ? (int)i.Value
            : throw Error(VerdictKind.Type, Rules.Of(opName).Config, $"{name} must be an integer", given[name].Span, op: opName, expected: "an integer", actual: Describe(given[name].Value));
        ValueList<int> IntList(string name) => given[name].Value is ListVal l && l.Items.All(v => v is IntVal { Value: >= int.MinValue and <= int.MaxValue })
            ? new ValueList<int>(l.Items.Select(v => (int)((IntVal)v).Value))
            : throw Error(VerdictKind.Type, Rules.Of(opName).Config, $"{name} must be a list of integers such as [1] or (1, 2)", given[name].Span, op: opName,
                expected: "a list of integers", actual: Describe(given[name].Value));
        Dim DimOf(string name) => AsDim(given[name].Value) ?? (given[name].Value is IntVal bad
            ? Dim.Const(bad.Value)
            : throw Error(VerdictKind.Type, Rules.Of(opName).Config, $"{name} must be a dimension symbol or an integer", given[name].Span, op: opName,
                expected: "a dimension symbol or an integer", actual: Describe(given[name].Value)));

        // Upstream's Partition makes N streams with range(N), so N must be an int: E_value or a literal, never the symbol E.
        Dim PartitionCount() => given["N"].Value switch
        {
            DimVal { IsInteger: false, Dim: SymbolDim symbol } => throw Error(VerdictKind.Type, Rules.PartitionIntegerCount,
                $"Partition's N must be an integer, as upstream's Partition needs: write N={symbol.Name}_value (the size of {symbol.Name}), not the dimension symbol {symbol.Name}",
                given["N"].Span, op: opName, expected: $"an integer such as {symbol.Name}_value", actual: $"the dimension symbol {symbol.Name}"),
            DimVal { IsInteger: false } d => throw Error(VerdictKind.Type, Rules.PartitionIntegerCount,
                "Partition's N must be an integer (a literal or a global such as E_value), as upstream's Partition needs",
                given["N"].Span, op: opName, expected: "an integer such as E_value", actual: Describe(d)),
            _ => DimOf("N"),
        };

        return opName switch
        {
            "Map" => new MapOp(Fn()),
            "Zip" => new ZipOp(),
            "Accum" => new AccumOp(Fn(), Int("b")),
            "Scan" => new ScanOp(Fn(), Int("b")),
            "Bufferize" => new BufferizeOp(Int("a")),
            "Streamify" => new StreamifyOp(),
            "Promote" => new PromoteOp(Int("b")),
            "Flatten" => new FlattenOp(IntList("L")),
            "Reshape" => new ReshapeOp(IntList("L"), DimOf("S")),
            "Repeat" => new RepeatOp(DimOf("n")),
            "RepeatRef" => new RepeatRefOp(),
            "Copy" => new CopyOp(),
            "Partition" => new PartitionOp(PartitionCount()),
            "Merge" => new MergeOp(Fn()),
            _ => throw new InvalidOperationException(opName),
        };
    }

    /// <summary>An op's configuration values by parameter name: a few slots, one per parameter, not a dictionary per op.</summary>
    private sealed class GivenParameters((string Name, ParamKind Kind)[] parameters)
    {
        private readonly (Value Value, SourceSpan Span)?[] _values = new (Value, SourceSpan)?[parameters.Length];

        public static int IndexOf((string Name, ParamKind Kind)[] parameters, string name)
        {
            for (int i = 0; i < parameters.Length; i++)
                if (parameters[i].Name == name) return i;
            return -1;
        }

        public bool ContainsKey(string name) => IndexOf(parameters, name) is >= 0 and var i && _values[i] is not null;

        public (Value Value, SourceSpan Span) this[string name]
        {
            get => _values[IndexOf(parameters, name)] ?? throw new KeyNotFoundException(name);
            set => _values[IndexOf(parameters, name)] = value;
        }
    }

    private static string Describe(ParamKind kind) => kind switch
    {
        ParamKind.Fn => "function",
        ParamKind.Int => "integer",
        ParamKind.IntList => "list of integers",
        _ => "dimension",
    };

    private Value ApplyOp(StepOp op, Expr argExpr, CallExpr call)
    {
        var arg = Eval(argExpr);
        var inputs = new List<(StreamVal Stream, Expr Expr)>();

        void Streams(Value value, Expr expr, string what)
        {
            switch (value)
            {
                case StreamVal s:
                    inputs.Add((s, expr));
                    break;
                case ListVal list:
                    var exprs = expr is TupleExpr t && t.Items.Length == list.Items.Length ? t.Items
                        : expr is ListExpr l && l.Items.Length == list.Items.Length ? l.Items : default;
                    for (int i = 0; i < list.Items.Length; i++) Streams(list.Items[i], exprs.IsDefault ? expr : exprs[i], what);
                    break;
                default:
                    throw Error(VerdictKind.Type, Rules.Of(op.Name).Input, $"{op.Name}.apply needs {what}, but got {Describe(value)}", expr.Span, op: op.Name,
                        expected: what, actual: Describe(value));
            }
        }

        var items = arg is ListVal list ? list.Items : [arg];
        var itemExprs = argExpr is TupleExpr te && te.Items.Length == items.Length ? te.Items
            : argExpr is ListExpr le && le.Items.Length == items.Length ? le.Items : default;
        Expr ItemExpr(int i) => itemExprs.IsDefault ? argExpr : itemExprs[i];

        switch (op)
        {
            case MergeOp:
                if (arg is not ListVal { Items.Length: 2 } pair || pair.Items[0] is not ListVal)
                    throw Error(VerdictKind.Type, Rules.MergeInput, "Merge.apply takes a tuple (list_of_streams, idx)", argExpr.Span, op: op.Name,
                        expected: "(list of streams, idx stream)", actual: Describe(arg));
                Streams(pair.Items[0], ItemExpr(0), "a list of streams");
                Streams(pair.Items[1], ItemExpr(1), "an index stream");
                break;
            case MapOp or ZipOp or RepeatRefOp or PartitionOp:
                for (int i = 0; i < items.Length; i++)
                {
                    if (items[i] is ListVal)
                        throw Error(VerdictKind.Type, Rules.Of(op.Name).Input, $"{op.Name}.apply takes streams, not a list of streams", ItemExpr(i).Span, op: op.Name);
                    Streams(items[i], ItemExpr(i), "a stream");
                }
                break;
            default:
                if (arg is ListVal)
                    throw Error(VerdictKind.Type, Rules.Of(op.Name).Arity, $"{op.Name} takes one stream, not a tuple", argExpr.Span, op: op.Name,
                        expected: "1 stream", actual: Describe(arg));
                Streams(arg, argExpr, "a stream");
                break;
        }

        var inputTypes = new StreamType[inputs.Count];
        var inputIds = new int[inputs.Count];
        for (int i = 0; i < inputs.Count; i++) inputTypes[i] = _streams[inputIds[i] = inputs[i].Stream.Stream];
        var typed = TypeRules.Apply(op, inputTypes, _env.Sizes, $"P{call.Span.Line}");
        if (typed.Error is { } e)
            throw Error(VerdictKind.Type, e.Rule, $"{op.Name}: {e.Message}", call.Span, op: op.Name, expected: e.Expected, actual: e.Actual);
        var outputTypes = typed.Outputs;

        foreach (var (stream, expr) in inputs)
            _uses.Add(new StreamUse(stream.Handle, _comprehensionDepth == 0 && IsRewritable(expr) ? UseKind.Argument : UseKind.FixedArgument, expr.Span, op.Name));

        var outputs = new int[outputTypes.Count];
        var results = new Value[outputTypes.Count];
        for (int i = 0; i < outputTypes.Count; i++)
        {
            int id = NewStream(outputTypes[i], $"{op.Name}@{call.Span.Line}" + (outputTypes.Count > 1 ? $"[{i}]" : ""));
            outputs[i] = id;
            results[i] = new StreamVal(id, NewHandle(id, _streamNames[id], call.Span.Line, _comprehensionDepth > 0 ? -2 : 0, null));
        }
        _ops.Add(new OpNode(op, ValueList<int>.Own(inputIds), ValueList<int>.Own(outputs), call.Span));
        return op is CopyOp or PartitionOp ? new ListVal([.. results]) : results[0];
    }

    private bool IsRewritable(Expr expr) => expr switch
    {
        NameExpr n => !InComprehensionScope(n.Name),
        SubscriptExpr { Target: NameExpr, Index: IntLiteral } => true,
        _ => false,
    };

    private bool InComprehensionScope(string name)
    {
        foreach (var scope in _scopes)
            if (scope.ContainsKey(name)) return true;
        return false;
    }

    private static string Describe(Value value) => value switch
    {
        StreamVal => "a stream",
        ListVal l => l.Items.All(i => i is StreamVal) && l.Items.Length > 0 ? $"a list of {l.Items.Length} streams" : $"a list of {l.Items.Length} values",
        FnVal f => $"the function {f.Fn.FuncName}",
        IntVal i => $"the integer {i.Value}",
        FloatVal f => $"the number {f.Value}",
        DimVal d => $"the dimension {d.Dim}",
        StrVal => "a string",
        NoneVal => "None",
        StepModuleVal => "the step module",
        OpCtorVal c => $"step.{c.Name}",
        OpVal o => $"a configured {o.Op.Name}",
        ApplyVal a => $"{a.Op.Name}.apply",
        BuiltinVal b => $"{b.Name}()",
        _ => value.GetType().Name,
    };

    private static BindException Error(VerdictKind kind, Rule rule, string message, SourceSpan? span,
        string? op = null, string? expected = null, string? actual = null) =>
        new(new Diagnostic(kind, rule.Id, message, span?.Line, span?.Column, op, expected, actual));
}
