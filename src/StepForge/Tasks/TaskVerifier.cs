using System.Collections.Concurrent;
using System.Diagnostics;
using StepForge.PyLite.Runtime;
using StepForge.Simulation;
using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <summary>
/// Verifies many candidates of one task, the sampler's case: the task's static environment, its seeded data and its
/// PyTorch reference outputs are computed once per seed and shared, so a candidate costs only its own parse, check,
/// simulation and comparison. Safe to call from several threads at once.
/// </summary>
public sealed class TaskVerifier
{
    private readonly TaskSpec task;
    private readonly VerifyOptions options;
    private readonly ProgramEnvironment environment;
    private readonly Tolerance tolerance;
    private readonly ConcurrentDictionary<int, Lazy<Trial>> trials = new();
    private readonly TaskCost? cost;

    public TaskVerifier(TaskSpec task, VerifyOptions? options = null)
    {
        this.task = task;
        this.options = options ?? new VerifyOptions();
        environment = task.Environment(this.options.Sizes);
        tolerance = this.options.FixedTolerance ? Tolerance.Float32 : Tolerance.ForTask(task, this.options.Sizes);
        if (this.options.Cost is { } costOptions) cost = new TaskCost(task, costOptions with { RepairAffine = false });
    }

    /// <summary>The task's cost model when <see cref="VerifyOptions.Cost"/> is set (it also costs the task's own program, once).</summary>
    public TaskCost? Cost => cost;

    public TaskSpec Task => task;

    public VerifyOptions Options => options;

    /// <summary>Seeds whose data and reference are cached.</summary>
    public int CachedTrials => trials.Count;

    /// <param name="impl">The candidate program; the task's own <c>impl:</c> when null.</param>
    /// <exception cref="TaskFileException">when there is no candidate at all.</exception>
    public Verdict Verify(string? impl = null)
    {
        var watch = Stopwatch.StartNew();
        var source = impl ?? task.Impl
            ?? throw new TaskFileException(task.SourcePath, "impl", "missing: the task has no impl: and no --impl was given");
        var check = StaticChecker.Check(source, environment, new StaticCheckOptions(options.RepairAffine, options.AffineMode));
        string? repaired = check.Repair is { CopiesInserted: > 0 } r ? r.Source : null;
        int copies = check.Repair?.CopiesInserted ?? 0;
        Verdict Finish(Verdict v) => v with { RepairedImpl = repaired, CopiesInserted = copies, Seconds = watch.Elapsed.TotalSeconds };
        if (check.Problem is { } problem)
            return Finish(Verdict.FromDiagnostic(problem, task.SourcePath, task.Name));

        var program = check.Program!.Program;
        int trialCount = Math.Max(1, options.Trials);
        var worst = new Dictionary<(string, int), OutputCheck>();
        for (int t = 0; t < trialCount; t++)
        {
            int seed = options.Seed + t;
            var trial = trials.GetOrAdd(seed, s => new Lazy<Trial>(() => Prepare(s))).Value;
            if (trial.Failure is not null) return Finish(trial.Failure);
            var (failure, checks) = Simulate(program, trial);
            if (failure is not null) return Finish(failure);
            foreach (var c in checks!)
                if (!worst.TryGetValue((c.Name, c.Component), out var w) || c.MaxAbsError > w.MaxAbsError) worst[(c.Name, c.Component)] = c;
            var bad = checks!.FirstOrDefault(c => !c.Close);
            if (bad is not null)
            {
                var sizes = options.Sizes is { Count: > 0 } ? " at " + string.Join(" ", options.Sizes.Select(kv => $"{kv.Key}={kv.Value}")) : "";
                return Finish(new Verdict(VerdictKind.Wrong, task.SourcePath, task.Name,
                    $"output {bad.Name} (component {bad.Component}) differs from the reference with seed {seed}{sizes}: {bad.Detail}",
                    Op: "compare", Rule: "compare.allclose",
                    Expected: tolerance.ToString(),
                    Actual: bad.Detail, Outputs: [.. worst.Values]));
            }
        }
        var message = $"matches the reference on {trialCount} seed(s)" + (copies > 0 ? $" after inserting {copies} Copy op(s)" : "")
            + (tolerance.Scale > 1 ? $" within {tolerance.ScaleText}x the float32 tolerance (sizes up to that many times the task's)" : "");
        // The verified program (after any repair) is the one costed.
        var costed = cost?.Estimate(check.Source).Cost;
        return Finish(new Verdict(VerdictKind.Correct, task.SourcePath, task.Name, message, Outputs: [.. worst.Values], Cost: costed));
    }

    /// <summary>One seed's inputs and reference outputs, or the verdict that the task's own code failed.</summary>
    private sealed record Trial(Dictionary<string, Tensor[]>? Data, List<List<Tensor>>? References, Verdict? Failure);

    private ExecutionBudget NewBudget() => options.Budget?.Invoke() ?? DefaultBudget(environment);

    /// <summary>What one verification may spend when <see cref="VerifyOptions.Budget"/> is not given.</summary>
    internal static ExecutionBudget DefaultBudget(ProgramEnvironment environment) => ExecutionBudget.ForSizes(environment.Sizes.Values);

    private Trial Prepare(int seed)
    {
        var budget = NewBudget();
        using var _ = Tensor.Use(budget);
        try
        {
            var runtime = new TaskRuntime(task, options.Sizes, budget);
            var data = runtime.SeededData(seed);
            return new Trial(data, Verifier.ComputeReference(task, runtime, First(data)), null);
        }
        catch (Exception e) when (e is PyLiteRuntimeException or PyLite.PyLiteSyntaxException or TensorException or LimitExceededException)
        {
            return new Trial(null, null, new Verdict(VerdictKind.Invalid, task.SourcePath, task.Name,
                $"the task's own PyTorch code failed: {e.Message}", Rule: "task-reference"));
        }
    }

    private (Verdict? Failure, List<OutputCheck>? Checks) Simulate(StepProgram program, Trial trial)
    {
        var budget = NewBudget();
        using var _ = Tensor.Use(budget);
        IReadOnlyList<Tensor[]> outputs;
        try
        {
            // A fresh runtime per candidate: fn bodies may change tensors the global block made.
            var simulator = new TaskRuntime(task, options.Sizes, budget).NewSimulator(First(trial.Data!), options.Batching);
            outputs = simulator.Run(program, [.. task.Inputs.Select(i => trial.Data![i.Name].Select(t => t.Copy()).ToArray())]);
        }
        catch (SimulationException e)
        {
            var kind = e.InnerException is LimitExceededException or FnFailedException { InnerException: LimitExceededException } ? VerdictKind.Limit : VerdictKind.Runtime;
            return (new Verdict(kind, task.SourcePath, task.Name, e.Message, e.Op.Span.Line, e.Op.Span.Column, e.Op.Op.Name,
                kind == VerdictKind.Limit ? "limit" : "runtime"), null);
        }
        catch (Exception e) when (e is LimitExceededException or PyLiteRuntimeException or TensorException)
        {
            var kind = e is LimitExceededException ? VerdictKind.Limit : VerdictKind.Runtime;
            return (new Verdict(kind, task.SourcePath, task.Name, e.Message, Rule: kind == VerdictKind.Limit ? "limit" : "runtime"), null);
        }

        var checks = new List<OutputCheck>();
        var references = trial.References!;
        for (int o = 0; o < task.Outputs.Count; o++)
            for (int c = 0; c < references[o].Count; c++)
                checks.Add(OutputComparison.Compare(task.Outputs[o].Name, c, references[o][c], outputs[o][c], tolerance: tolerance));
        return (null, checks);
    }

    private static Dictionary<string, Tensor> First(Dictionary<string, Tensor[]> data) =>
        data.ToDictionary(kv => kv.Key, kv => kv.Value[0]);
}
