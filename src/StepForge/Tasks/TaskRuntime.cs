using System.Collections.Concurrent;
using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Simulation;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <summary>
/// A task made ready to run PyTorch snippets: the global scope (torch, ctx, the X_value sizes, dimension symbols,
/// and what the task's global block defines) at given sizes.
/// </summary>
public sealed class TaskRuntime
{
    private static readonly PyNamespace TorchModule = Torch.Create();

    private readonly TaskSpec _task;

    public Scope Globals { get; }
    public IReadOnlyDictionary<string, long> Sizes { get; }
    public Interpreter Interpreter { get; }

    public TaskRuntime(TaskSpec task, IReadOnlyDictionary<string, long>? sizeOverrides, ExecutionBudget budget)
    {
        _task = task;
        Interpreter = new Interpreter(budget);
        var sizes = new Dictionary<string, long>(task.Sizes);
        Globals = new Scope();
        Globals.Set("torch", TorchModule);
        var ctx = new PyDict();
        Globals.Set("ctx", ctx);
        void SetSize(string symbol, long value)
        {
            sizes[symbol] = value;
            object boxed = value;
            ctx.Set(Symbol(symbol), boxed);
            Globals.Set(ValueName(symbol), boxed);
        }
        foreach (var (symbol, value) in sizes)
        {
            Globals.Set(symbol, Symbol(symbol));
            SetSize(symbol, value);
        }
        if (task.Global is not null)
            Interpreter.Run(ParsedSnippets.Get(task.Global), Globals);
        // The global block may set ctx entries itself; explicit overrides win, and ctx is the truth for sizes.
        foreach (var (key, value) in ctx.Entries)
            if (key is DimSymbol d && value is long v) sizes[d.Name] = v;
        if (sizeOverrides is not null)
            foreach (var (symbol, value) in sizeOverrides) SetSize(symbol, value);
        Sizes = sizes;
    }

    private static readonly ConcurrentDictionary<string, string> ValueNames = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, DimSymbol> Symbols = new(StringComparer.Ordinal);

    /// <summary>The symbol <c>E</c> as snippets see it, made once per name (symbols are values, so runtimes share them).</summary>
    private static DimSymbol Symbol(string name) => Symbols.GetOrAdd(name, n => new DimSymbol(n));

    /// <summary>The global that holds a symbol's size (<c>E</c> → <c>E_value</c>), made once per symbol: every verification builds two runtimes.</summary>
    private static string ValueName(string symbol) => ValueNames.GetOrAdd(symbol, s => s + "_value");

    /// <summary>Seeded data for every input stream and parameter at this runtime's sizes, by name.</summary>
    public Dictionary<string, Tensor[]> SeededData(int seed) =>
        _task.Inputs.Concat(_task.Parameters).ToDictionary(i => i.Name, i => DataGenerator.Generate(i, Sizes, seed));

    /// <summary>A simulator whose fn bodies run in this runtime and see the given tensors as <c>input_data</c>.</summary>
    public Simulator NewSimulator(IReadOnlyDictionary<string, Tensor> inputData, bool batching = true) =>
        new(new FnRunner(Interpreter, FnScope(inputData), Sizes, batching));

    /// <summary>The scope fn bodies run in: the task's globals and <c>input_data</c> over the given tensors.</summary>
    public Scope FnScope(IReadOnlyDictionary<string, Tensor> inputData)
    {
        var fnScope = new Scope(Globals);
        fnScope.Set("input_data", InputData(inputData));
        return fnScope;
    }

    /// <summary>
    /// A fresh <c>input_data</c> dict over the given tensors, each copied when a snippet first reads it: snippets cannot
    /// change each other's inputs, and those they never read are not copied.
    /// </summary>
    public static PyDict InputData(IReadOnlyDictionary<string, Tensors.Tensor> tensors) => PyDict.CopiedOnRead(tensors);
}
