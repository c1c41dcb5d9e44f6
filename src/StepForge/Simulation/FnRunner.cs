using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Simulation;

/// <summary>A fn body failed: which fn, and where in its apply snippet.</summary>
public sealed class FnFailedException(string fn, string message, int line, Exception inner) : Exception(message, inner)
{
    public string Fn { get; } = fn;
    public int Line { get; } = line;
}

/// <summary>
/// Calls a task's fn bodies on element tensors: <c>input</c> is the list of component slices, <c>state</c> the
/// fold state. Each body is parsed once. Results are checked against the fn's output dtype.
/// </summary>
public sealed class FnRunner(Interpreter interpreter, Scope globals, IReadOnlyDictionary<string, long> sizes, bool batching = true)
{
    // By reference: a run's fns are the environment's own instances, and hashing an FnDecl hashes its body's text.
    private readonly Dictionary<FnDecl, Module> _bodies = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<FnDecl> _unbatchable = new(ReferenceEqualityComparer.Instance);

    /// <summary>Whether Map, Accum, Scan and Merge try one evaluation over many elements before falling back to one per element.</summary>
    public bool Batching { get; } = batching;

    /// <summary>How many batched evaluations fell back to per-element evaluation (for tests and profiling).</summary>
    public int Fallbacks { get; private set; }

    /// <summary>How many evaluations were of one element (for tests and profiling).</summary>
    public int ElementCalls { get; private set; }
    private readonly Dictionary<DType, int[]> _elementShapes = [];

    public Interpreter Interpreter { get; } = interpreter;

    public int Size(Dim d)
    {
        var v = d.Evaluate(sizes) ?? throw new TensorException($"dimension {d} has no size");
        return v is <= 0 or > int.MaxValue ? throw new LimitExceededException($"dimension {d} = {v} is out of range") : (int)v;
    }

    /// <summary>The torch shape of one element of this component type.</summary>
    public int[] ElementShape(DType component)
    {
        if (!_elementShapes.TryGetValue(component, out var shape))
        {
            shape = [.. StreamType.ElementDims(component).Reverse().Select(Size)];
            _elementShapes[component] = shape;
        }
        return shape;
    }

    public Tensor[] Init(FnDecl fn) =>
        [.. fn.Output.Components.Select((c, i) => Tensor.Full(ElementShape(c), (float)fn.Init!.Value[i]))];

    private Module Body(FnDecl fn)
    {
        if (!_bodies.TryGetValue(fn, out var body))
        {
            body = ParsedSnippets.Get(fn.Apply);
            _bodies[fn] = body;
        }
        return body;
    }

    /// <summary>
    /// Evaluates the body once for many elements: each input and state tensor carries the elements along a leading
    /// axis of size <paramref name="count"/>. Returns null when the body cannot be batched (the caller then calls
    /// <see cref="Call"/> per element, which also reports any genuine error with per-element semantics).
    /// </summary>
    public Tensor[]? CallBatched(FnDecl fn, int count, Tensor[] input, Tensor[]? state)
    {
        if (!Batching || _unbatchable.Contains(fn) || count == 0) return null;
        var body = Body(fn);
        var scope = CallScope();
        scope.Set("input", BatchedList(input));
        if (state is not null) scope.Set("state", BatchedList(state));
        try
        {
            object? result;
            using (PyLite.Runtime.Batching.Borrow(input)) result = Interpreter.Run(body, scope);
            var items = result switch
            {
                PyList l => l.Items,
                PyTuple t => t.Items,
                _ => [result],
            };
            var components = fn.Output.Components;
            if (items.Count != components.Count) throw new NotBatchableException("a result of the wrong length");
            var output = new Tensor[items.Count];
            for (int i = 0; i < items.Count; i++)
            {
                var shape = ElementShape(components[i]);
                var value = items[i] switch
                {
                    Batched b when b.LogicalRank == shape.Length && b.Size == count => b.Value,
                    Batched b when b.LogicalRank <= shape.Length => b.Value.Reshape([count, .. Enumerable.Repeat(1, shape.Length - b.LogicalRank), .. b.LogicalShape]),
                    Tensor or double or long or bool => Operators.ToTensor(items[i]).Unsqueeze(0),
                    _ => throw new NotBatchableException("this result"),
                };
                output[i] = value.BroadcastTo(BatchShape(count, shape)).WithKind(ElementKind.Float);
            }
            return output;
        }
        // The wall-clock guard is not the body's fault: it ends the run rather than switching to per-element evaluation.
        catch (Exception e) when (e is NotBatchableException or PyLiteRuntimeException or TensorException or LimitExceededException { IsTimeGuard: false })
        {
            _unbatchable.Add(fn);
            Fallbacks++;
            return null;
        }
        finally
        {
            Release(scope);
        }
    }

    /// <summary>The scope of one call of an fn body: the last call's, emptied, unless a call is still using it.</summary>
    private Scope CallScope()
    {
        var scope = _idleScope ?? new Scope(globals);
        _idleScope = null;
        return scope;
    }

    private void Release(Scope scope)
    {
        scope.Clear();
        _idleScope = scope;
    }

    private Scope? _idleScope;

    /// <summary>(count, shape...), reusing the last one made: a fold asks for the same one at every step.</summary>
    private int[] BatchShape(int count, int[] shape)
    {
        if (_batchShape is { } last && last[0] == count && last.AsSpan(1).SequenceEqual(shape)) return last;
        return _batchShape = [count, .. shape];
    }

    private int[]? _batchShape;

    private static PyList BatchedList(Tensor[] tensors)
    {
        var items = new List<object?>(tensors.Length);
        foreach (var t in tensors) items.Add(new Batched(t));
        return new PyList(items);
    }

    public Tensor[] Call(FnDecl fn, Tensor[] input, Tensor[]? state)
    {
        ElementCalls++;
        var body = Body(fn);
        var scope = CallScope();
        scope.Set("input", new PyList([.. input]));
        if (state is not null) scope.Set("state", new PyList([.. state]));
        object? result;
        try
        {
            result = Interpreter.Run(body, scope);
        }
        catch (PyLiteRuntimeException e)
        {
            throw new FnFailedException(fn.FuncName, $"{fn.FuncName} failed at line {e.Line} of its apply: {e.Message}", e.Line, e);
        }
        catch (LimitExceededException e)
        {
            throw new FnFailedException(fn.FuncName, $"{fn.FuncName}: {e.Message}", 0, e);
        }
        finally
        {
            Release(scope);
        }
        var items = result switch
        {
            PyList l => l.Items,
            PyTuple t => t.Items,
            Tensor or double or long or bool => [result],
            _ => throw Fail(fn, $"returned {PyValue.TypeName(result)}; an fn returns a list with one tensor per output component"),
        };
        var components = fn.Output.Components;
        if (items.Count != components.Count)
            throw Fail(fn, $"returned {items.Count} value(s) but its output {fn.Output} has {components.Count} component(s)");
        var output = new Tensor[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i] is not (Tensor or double or long or bool))
                throw Fail(fn, $"returned {PyValue.TypeName(items[i])} as component {i}; expected a tensor");
            var tensor = Operators.ToTensor(items[i]);
            var shape = ElementShape(components[i]);
            try
            {
                output[i] = tensor.BroadcastTo(shape).WithKind(ElementKind.Float);
            }
            catch (TensorException)
            {
                throw Fail(fn, $"returned shape ({string.Join(", ", tensor.Shape)}) for component {i}, but {components[i]} needs ({string.Join(", ", shape)})");
            }
        }
        return output;
    }

    private static FnFailedException Fail(FnDecl fn, string message) =>
        new(fn.FuncName, $"{fn.FuncName} {message}", 0, new TensorException(message));
}
