using System.Collections.Concurrent;
using System.Diagnostics;
using StepForge.Diagnostics;
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
    private readonly TaskSpec _task;
    private readonly VerifyOptions _options;
    private readonly ProgramEnvironment _environment;
    private readonly ConcurrentDictionary<int, Lazy<Trial>> _trials = new();
    private readonly TaskCost? _cost;

    /// <summary>Whether the tolerance may widen: the run is at other sizes than the task's own.</summary>
    private readonly bool _scaled;

    /// <summary>The reference's sums at the task's own sizes, the baseline of the tolerance at other sizes.</summary>
    private readonly Lazy<FoldLengths> _ownReferenceFolds;

    /// <summary>
    /// Whether this verifier lives only inside one <see cref="TensorArena"/> scope of its caller (<see cref="Verifier.Verify"/>):
    /// then its cached data and reference may take recycled storage too.
    /// </summary>
    private readonly bool _withinScope;

    public TaskVerifier(TaskSpec task, VerifyOptions? options = null) : this(task, options, withinScope: false)
    {
    }

    internal TaskVerifier(TaskSpec task, VerifyOptions? options, bool withinScope)
    {
        _withinScope = withinScope;
        _task = task;
        _options = options ?? new VerifyOptions();
        _environment = task.Environment(_options.Sizes);
        _scaled = !_options.FixedTolerance && _options.Sizes is { Count: > 0 } sizes
            && sizes.Any(kv => !task.Sizes.TryGetValue(kv.Key, out var own) || own != kv.Value);
        _ownReferenceFolds = new Lazy<FoldLengths>(() => OwnSizeFolds(runtime => Verifier.ComputeReference(task, runtime, First(runtime.SeededData(_options.Seed)))));
        if (_options.Cost is { } costOptions) _cost = new TaskCost(task, costOptions with { RepairAffine = false });
        _dataBytes = new Lazy<long>(() => task.Inputs.Concat(task.Parameters).Select(i => i.Type).Concat(task.Outputs.Select(o => o.Type))
            .Aggregate(0L, (acc, t) => Saturating(acc, MemoryEstimate.StreamBytes(t, _environment.Sizes))));
    }

    /// <summary>The bytes of one seed's inputs, parameters and reference outputs: the same for every candidate.</summary>
    private readonly Lazy<long> _dataBytes;

    /// <summary>The task's cost model when <see cref="VerifyOptions.Cost"/> is set (it also costs the task's own program, once).</summary>
    public TaskCost? Cost => _cost;

    public TaskSpec Task => _task;

    public VerifyOptions Options => _options;

    /// <summary>Seeds whose data and reference are cached.</summary>
    public int CachedTrials => _trials.Count;

    /// <param name="impl">The candidate program; the task's own <c>impl:</c> when null.</param>
    /// <exception cref="TaskFileException">when there is no candidate at all.</exception>
    public Verdict Verify(string? impl = null)
    {
        var watch = Stopwatch.StartNew();
        var source = impl ?? _task.Impl
            ?? throw new TaskFileException(_task.SourcePath, "impl", "missing: the task has no impl: and no --impl was given");
        var check = StaticChecker.Check(source, _environment, new StaticCheckOptions(_options.RepairAffine, _options.AffineMode));
        string? repaired = check.Repair is { CopiesInserted: > 0 } r ? r.Source : null;
        int copies = check.Repair?.CopiesInserted ?? 0;
        Verdict Finish(Verdict v) => v with { RepairedImpl = repaired, CopiesInserted = copies, Seconds = watch.Elapsed.TotalSeconds };
        if (check.Problem is { } problem)
            return Finish(Verdict.FromDiagnostic(problem, _task.SourcePath, _task.Name));

        var program = check.Program!.Program;
        if (MemoryProblem(program) is { } memory) return Finish(memory);
        var ownProgramFolds = _scaled ? ProgramFoldsAtOwnSizes(source) : null;
        int trialCount = Math.Max(1, _options.Trials);
        var tolerance = Tolerance.Float32;
        var worst = new Dictionary<(string, int), OutputCheck>();
        for (int t = 0; t < trialCount; t++)
        {
            int seed = _options.Seed + t;
            var trial = _trials.GetOrAdd(seed, s => new Lazy<Trial>(() => Prepare(s))).Value;
            if (trial.Failure is not null)
            {
                // The time guard says nothing about the task: the next call computes this seed again.
                if (trial.Failure.Rule == Rules.LimitTime.Id) _trials.TryRemove(seed, out _);
                return Finish(trial.Failure);
            }
            var programFolds = _scaled ? new FoldLengths() : null;
            List<OutputCheck> checks;
            // The simulation's tensors, its outputs included, are dead once compared: their storage serves the next one.
            using (TensorArena.Open())
            {
                var (failure, outputs) = Simulate(program, trial, programFolds);
                if (failure is not null) return Finish(failure);
                if (_scaled)
                    tolerance = Tolerance.Widened(Math.Max(tolerance.Scale, Math.Max(
                        trial.ReferenceFolds!.GrowthOver(_ownReferenceFolds.Value), programFolds!.GrowthOver(ownProgramFolds!))));
                checks = Compare(outputs!, trial, tolerance);
            }
            foreach (var c in checks)
                if (!worst.TryGetValue((c.Name, c.Component), out var w) || c.MaxAbsError > w.MaxAbsError) worst[(c.Name, c.Component)] = c;
            var bad = checks.FirstOrDefault(c => !c.Close);
            if (bad is not null)
            {
                var sizes = _options.Sizes is { Count: > 0 } ? " at " + string.Join(" ", _options.Sizes.Select(kv => $"{kv.Key}={kv.Value}")) : "";
                return Finish(new Verdict(VerdictKind.Wrong, _task.SourcePath, _task.Name,
                    $"output {bad.Name} (component {bad.Component}) differs from the reference with seed {seed}{sizes}: {bad.Detail}",
                    Op: "compare", Rule: bad.Rule ?? Rules.CompareAllClose.Id,
                    Expected: tolerance.ToString(),
                    Actual: bad.Detail, Outputs: [.. worst.Values]));
            }
        }
        var message = $"matches the reference on {trialCount} seed(s)" + (copies > 0 ? $" after inserting {copies} Copy op(s)" : "")
            + (tolerance.Scale > 1 ? $" within {tolerance.ScaleText}x the float32 tolerance ({tolerance.Why})" : "");
        // The verified program (after any repair) is the one costed.
        var costed = _cost?.Estimate(check.Source).Cost;
        return Finish(new Verdict(VerdictKind.Correct, _task.SourcePath, _task.Name, message, Outputs: [.. worst.Values], Cost: costed));
    }

    /// <summary>One seed's inputs and reference outputs (and the sums the reference computed), or the verdict that the task's own code failed.</summary>
    private sealed record Trial(Dictionary<string, Tensor[]>? Data, List<List<Tensor>>? References, Verdict? Failure, FoldLengths? ReferenceFolds = null);

    private ExecutionBudget NewBudget() => _options.Budget?.Invoke() ?? DefaultBudget(_environment);

    /// <summary>What one verification may spend when <see cref="VerifyOptions.Budget"/> is not given.</summary>
    internal static ExecutionBudget DefaultBudget(ProgramEnvironment environment) => ExecutionBudget.ForSizes(environment.Sizes.Values);

    private Trial Prepare(int seed)
    {
        var budget = NewBudget();
        using var _ = Tensor.Use(budget);
        // The trial is cached for later calls, which may come after the caller's scope has closed.
        using var outliving = _withinScope ? null : TensorArena.Suspend();
        try
        {
            var runtime = new TaskRuntime(_task, _options.Sizes, budget);
            var data = runtime.SeededData(seed);
            var folds = _scaled ? new FoldLengths() : null;
            using (folds is null ? default : FoldLengths.Track(folds))
                return new Trial(data, Verifier.ComputeReference(_task, runtime, First(data)), null, folds);
        }
        catch (LimitExceededException e) when (e.IsTimeGuard)
        {
            return new Trial(null, null, new Verdict(VerdictKind.Limit, _task.SourcePath, _task.Name, e.Message, Rule: e.Rule.Id));
        }
        catch (Exception e) when (e is PyLiteRuntimeException or PyLite.PyLiteSyntaxException or TensorException or LimitExceededException)
        {
            return new Trial(null, null, UnsupportedVerdict(e) ?? new Verdict(VerdictKind.Invalid, _task.SourcePath, _task.Name,
                $"the task's own PyTorch code failed: {e.Message}", Rule: Rules.TaskReference.Id));
        }
    }

    /// <summary>
    /// The verdict when the task's own code (reference, global block, fn body) failed because it uses PyTorch that
    /// StepForge does not support: the task cannot be verified here, whatever the candidate; null for other failures.
    /// </summary>
    private Verdict? UnsupportedVerdict(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is UnsupportedFeatureException u)
                return new Verdict(VerdictKind.Invalid, _task.SourcePath, _task.Name,
                    $"the task's own PyTorch code failed: {e.Message}",
                    Rule: Rules.TaskUnsupported.Id, Actual: u.What);
        return null;
    }

    private (Verdict? Failure, IReadOnlyList<Tensor[]>? Outputs) Simulate(StepProgram program, Trial trial, FoldLengths? folds)
    {
        var budget = NewBudget();
        using var _ = Tensor.Use(budget);
        using var tracking = folds is null ? default : FoldLengths.Track(folds);
        IReadOnlyList<Tensor[]> outputs;
        try
        {
            // A fresh runtime per candidate: fn bodies may change tensors the global block made.
            var simulator = new TaskRuntime(_task, _options.Sizes, budget).NewSimulator(First(trial.Data!), _options.Batching);
            outputs = simulator.Run(program, [.. _task.Inputs.Select(i => trial.Data![i.Name].Select(t => t.Copy()).ToArray())]);
        }
        catch (SimulationException e)
        {
            if (UnsupportedVerdict(e) is { } unsupported) return (unsupported with { Line = e.Op.Span.Line, Column = e.Op.Span.Column, Op = e.Op.Op.Name }, null);
            var limit = LimitIn(e);
            return (new Verdict(limit is null ? VerdictKind.Runtime : VerdictKind.Limit, _task.SourcePath, _task.Name, e.Message, e.Op.Span.Line, e.Op.Span.Column, e.Op.Op.Name,
                limit?.Rule.Id ?? Rules.Runtime.Id), null);
        }
        catch (LimitExceededException e)
        {
            return (new Verdict(VerdictKind.Limit, _task.SourcePath, _task.Name, e.Message, Rule: e.Rule.Id), null);
        }
        catch (Exception e) when (e is PyLiteRuntimeException or TensorException)
        {
            if (UnsupportedVerdict(e) is { } unsupported) return (unsupported, null);
            return (new Verdict(VerdictKind.Runtime, _task.SourcePath, _task.Name, e.Message, Rule: Rules.Runtime.Id), null);
        }
        catch (PyLite.PyLiteSyntaxException e)
        {
            // Only a task built in code can get here: a task file's snippets are parsed when it is read.
            return (new Verdict(VerdictKind.Invalid, _task.SourcePath, _task.Name, $"the task's own PyTorch code does not parse: {e.Message}", Rule: Rules.TaskReference.Id), null);
        }

        return (null, outputs);
    }

    private List<OutputCheck> Compare(IReadOnlyList<Tensor[]> outputs, Trial trial, Tolerance tolerance)
    {
        var checks = new List<OutputCheck>();
        var references = trial.References!;
        for (int o = 0; o < _task.Outputs.Count; o++)
            for (int c = 0; c < references[o].Count; c++)
                checks.Add(OutputComparison.Compare(_task.Outputs[o].Name, c, references[o][c], outputs[o][c], _task.EqualNan, tolerance));
        return checks;
    }

    /// <summary>The sums a computation performs at the task's own sizes; empty when it fails there.</summary>
    private FoldLengths OwnSizeFolds(Action<TaskRuntime> compute)
    {
        var folds = new FoldLengths();
        var budget = ExecutionBudget.ForSizes(_task.Sizes.Values);
        using var _ = Tensor.Use(budget);
        using var tracking = FoldLengths.Track(folds);
        try
        {
            compute(new TaskRuntime(_task, null, budget));
        }
        catch (Exception e) when (e is PyLiteRuntimeException or PyLite.PyLiteSyntaxException or TensorException or LimitExceededException or SimulationException)
        {
            // Nothing to compare with: the run's sums then widen nothing.
            return new FoldLengths();
        }
        return folds;
    }

    /// <summary>The candidate's sums at the task's own sizes (a small run), the baseline for its sums at this run's sizes.</summary>
    private FoldLengths ProgramFoldsAtOwnSizes(string source)
    {
        var own = StaticChecker.Check(source, _task.Environment(), new StaticCheckOptions(_options.RepairAffine, _options.AffineMode));
        if (own.Program is null) return new FoldLengths();
        return OwnSizeFolds(runtime =>
        {
            var data = runtime.SeededData(_options.Seed);
            runtime.NewSimulator(First(data), _options.Batching).Run(own.Program.Program, [.. _task.Inputs.Select(i => data[i.Name])]);
        });
    }

    /// <summary>
    /// The data of one seed (inputs, parameters, reference outputs, and the copies a run makes of them) plus the most
    /// bytes the program's streams hold at once, against the memory budget: a verdict when it does not fit.
    /// </summary>
    private Verdict? MemoryProblem(StepProgram program)
    {
        var sizes = _environment.Sizes;
        long data = _dataBytes.Value;
        var (streams, largest) = MemoryEstimate.Peak(program, sizes);
        long need = Saturating(Saturating(Saturating(data, data), data), streams);
        if (need <= _options.MaxMemoryBytes) return null;
        var sizesText = string.Join(" ", sizes.Select(kv => $"{kv.Key}={kv.Value}"));
        return new Verdict(VerdictKind.Limit, _task.SourcePath, _task.Name,
            $"at {sizesText} this verification needs about {Gib(need)} ({Gib(data)} of data, used three times, and up to {Gib(streams)} of streams), more than its memory budget of {Gib(_options.MaxMemoryBytes)}; use smaller sizes or a larger --max-memory",
            Line: largest?.Span.Line, Column: largest?.Span.Column, Op: largest?.Op.Name,
            Rule: Rules.LimitMemory.Id, Expected: $"at most {Gib(_options.MaxMemoryBytes)}", Actual: Gib(need));
    }

    private static long Saturating(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private static string Gib(long bytes) => bytes == long.MaxValue ? "more than can be counted"
        : bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.0} GiB" : $"{bytes / (double)(1L << 20):0} MiB";

    /// <summary>The limit behind a failure, if a limit caused it.</summary>
    private static LimitExceededException? LimitIn(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is LimitExceededException limit) return limit;
        return null;
    }

    private static Dictionary<string, Tensor> First(Dictionary<string, Tensor[]> data) =>
        data.ToDictionary(kv => kv.Key, kv => kv.Value[0]);
}
