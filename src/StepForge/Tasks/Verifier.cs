using System.Diagnostics;
using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Simulation;
using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <param name="Seed">The first trial's data seed; trial t uses Seed + t.</param>
/// <param name="Sizes">Symbol sizes that replace the task's (a program right only at the default sizes is wrong).</param>
public sealed record VerifyOptions(
    int Seed = 0,
    int Trials = 1,
    IReadOnlyDictionary<string, long>? Sizes = null,
    bool RepairAffine = false,
    AffineMode AffineMode = AffineMode.Upstream,
    Func<ExecutionBudget>? Budget = null,
    bool Batching = true);

/// <summary>
/// The whole verification of a candidate: parse → types → affine (→ repair) → seeded data → the task's PyTorch
/// reference → simulation → comparison of every output component, over several seeds. Every failure is a verdict.
/// </summary>
public static class Verifier
{
    /// <exception cref="TaskFileException">when there is no candidate at all.</exception>
    public static Verdict Verify(TaskSpec task, string? impl = null, VerifyOptions? options = null)
    {
        options ??= new VerifyOptions();
        var watch = Stopwatch.StartNew();
        var source = impl ?? task.Impl
            ?? throw new TaskFileException(task.SourcePath, "impl", "missing: the task has no impl: and no --impl was given");
        var check = StaticChecker.Check(source, task.Environment(options.Sizes), new StaticCheckOptions(options.RepairAffine, options.AffineMode));
        string? repaired = check.Repair is { CopiesInserted: > 0 } r ? r.Source : null;
        int copies = check.Repair?.CopiesInserted ?? 0;
        Verdict Finish(Verdict v) => v with { RepairedImpl = repaired, CopiesInserted = copies, Seconds = watch.Elapsed.TotalSeconds };
        if (check.Problem is { } problem)
            return Finish(Verdict.FromDiagnostic(problem, task.SourcePath, task.Name));

        var program = check.Program!.Program;
        var worst = new Dictionary<(string, int), OutputCheck>();
        for (int trial = 0; trial < Math.Max(1, options.Trials); trial++)
        {
            var budget = options.Budget?.Invoke() ?? ExecutionBudget.ForSizes(task.Environment(options.Sizes).Sizes.Values);
            using var _ = Tensor.Use(budget);
            var (failure, checks) = RunTrial(task, program, options.Seed + trial, options.Sizes, budget, options.Batching);
            if (failure is not null) return Finish(failure);
            foreach (var c in checks!)
                if (!worst.TryGetValue((c.Name, c.Component), out var w) || c.MaxAbsError > w.MaxAbsError) worst[(c.Name, c.Component)] = c;
            var bad = checks!.FirstOrDefault(c => !c.Close);
            if (bad is not null)
            {
                var sizes = options.Sizes is { Count: > 0 } ? " at " + string.Join(" ", options.Sizes.Select(kv => $"{kv.Key}={kv.Value}")) : "";
                return Finish(new Verdict(VerdictKind.Wrong, task.SourcePath, task.Name,
                    $"output {bad.Name} (component {bad.Component}) differs from the reference with seed {options.Seed + trial}{sizes}: {bad.Detail}",
                    Op: "compare", Rule: "compare.allclose",
                    Expected: $"|actual - expected| <= {OutputComparison.AbsoluteTolerance} + {OutputComparison.RelativeTolerance} * |expected|",
                    Actual: bad.Detail, Outputs: [.. worst.Values]));
            }
        }
        var message = $"matches the reference on {Math.Max(1, options.Trials)} seed(s)" + (copies > 0 ? $" after inserting {copies} Copy op(s)" : "");
        return Finish(new Verdict(VerdictKind.Correct, task.SourcePath, task.Name, message, Outputs: [.. worst.Values]));
    }

    private static (Verdict? Failure, List<OutputCheck>? Checks) RunTrial(
        TaskSpec task, StepProgram program, int seed, IReadOnlyDictionary<string, long>? sizes, ExecutionBudget budget, bool batching)
    {
        TaskRuntime runtime;
        Dictionary<string, Tensor[]> data;
        List<List<Tensor>> references;
        try
        {
            runtime = new TaskRuntime(task, sizes, budget);
            data = task.Inputs.Concat(task.Parameters).ToDictionary(i => i.Name, i => DataGenerator.Generate(i, runtime.Sizes, seed));
            references = Reference(task, runtime, data);
        }
        catch (Exception e) when (e is PyLiteRuntimeException or PyLiteSyntaxException or TensorException or LimitExceededException)
        {
            return (new Verdict(VerdictKind.Invalid, task.SourcePath, task.Name, $"the task's own PyTorch code failed: {e.Message}", Rule: "task-reference"), null);
        }

        IReadOnlyList<Tensor[]> outputs;
        try
        {
            var fnScope = new Scope(runtime.Globals);
            fnScope.Set("input_data", TaskRuntime.InputData(Single(data)));
            var simulator = new Simulator(new FnRunner(runtime.Interpreter, fnScope, runtime.Sizes, batching));
            outputs = simulator.Run(program, [.. task.Inputs.Select(i => data[i.Name].Select(t => t.Copy()).ToArray())]);
        }
        catch (SimulationException e)
        {
            var kind = e.InnerException is LimitExceededException or FnFailedException { InnerException: LimitExceededException } ? VerdictKind.Limit : VerdictKind.Runtime;
            return (new Verdict(kind, task.SourcePath, task.Name, e.Message, e.Op.Span.Line, e.Op.Span.Column, e.Op.Op.Name,
                kind == VerdictKind.Limit ? "limit" : "runtime"), null);
        }
        catch (LimitExceededException e)
        {
            return (new Verdict(VerdictKind.Limit, task.SourcePath, task.Name, e.Message, Rule: "limit"), null);
        }

        var checks = new List<OutputCheck>();
        for (int o = 0; o < task.Outputs.Count; o++)
            for (int c = 0; c < references[o].Count; c++)
                checks.Add(OutputComparison.Compare(task.Outputs[o].Name, c, references[o][c], outputs[o][c]));
        return (null, checks);
    }

    private static Dictionary<string, Tensor> Single(Dictionary<string, Tensor[]> data) =>
        data.ToDictionary(kv => kv.Key, kv => kv.Value[0]);

    /// <summary>Runs the outputs' data transforms in order in one scope (a later one may use an earlier one's names).</summary>
    private static List<List<Tensor>> Reference(TaskSpec task, TaskRuntime runtime, Dictionary<string, Tensor[]> data) =>
        ComputeReference(task, runtime, Single(data));

    /// <summary>The reference tensors of every output (one per component) from the given input_data.</summary>
    internal static List<List<Tensor>> ComputeReference(TaskSpec task, TaskRuntime runtime, IReadOnlyDictionary<string, Tensor> inputData)
    {
        var scope = new Scope(runtime.Globals);
        scope.Set("input_data", TaskRuntime.InputData(inputData));
        var results = new List<List<Tensor>>();
        foreach (var output in task.Outputs)
        {
            var value = runtime.Interpreter.Run(ParsedSnippets.Get(output.DataTransform), scope);
            var tensors = value switch
            {
                Tensor t => [t],
                PyList or PyTuple => Torch.Tensors(value),
                _ => throw new TensorException($"the data_transform of {output.Name} gives {PyValue.TypeName(value)}, not a tensor"),
            };
            var components = output.Type.DType.Components;
            if (tensors.Count != components.Count)
                throw new TensorException($"the data_transform of {output.Name} gives {tensors.Count} tensor(s) for {components.Count} component(s)");
            for (int c = 0; c < components.Count; c++)
            {
                var declared = DataGenerator.TensorShape(output.Type, components[c], runtime.Sizes);
                if (!tensors[c].Shape.SequenceEqual(declared))
                    throw new TensorException($"the data_transform of {output.Name} gives shape ({string.Join(", ", tensors[c].Shape)}) but its dtype and dims need ({string.Join(", ", declared)})");
            }
            results.Add(tensors);
        }
        return results;
    }
}
