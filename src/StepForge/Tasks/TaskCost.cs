using StepForge.Cost;
using StepForge.Diagnostics;
using StepForge.PyLite.Runtime;
using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <param name="Machine">The machine of cost-model.md; its defaults when null.</param>
/// <param name="Seed">The seeded data whose routing flags (Partition, Merge) the timed run follows.</param>
public sealed record CostOptions(Machine? Machine = null, int Seed = 0, bool RepairAffine = false, AffineMode AffineMode = AffineMode.Upstream);

/// <summary>A program's cost for a task, or the verdict that says why it has none (it does not parse, type-check, is not affine, or fails on the data).</summary>
public sealed record CostEstimate(ProgramCost? Cost, Verdict? Problem, string Source)
{
    public bool HasCost => Cost is not null;
}

/// <summary>
/// The cost model applied to a task: a program is checked statically at the task's own sizes, run on the task's
/// seeded data and costed (<see cref="CostModel"/>). Costs are always at the task's sizes and one seed, so they compare
/// programs of a task with each other and with the task's reference program. The seeded data is made once per
/// instance; the reference program's cost once per instance too. Safe to use from several threads.
/// </summary>
public sealed class TaskCost
{
    private readonly TaskSpec _task;
    private readonly ProgramEnvironment _environment;
    private readonly Lazy<Dictionary<string, Tensor[]>> _data;
    private readonly Lazy<CostEstimate?> _reference;

    public TaskCost(TaskSpec task, CostOptions? options = null)
    {
        _task = task;
        Options = options ?? new CostOptions();
        _environment = task.Environment();
        _data = new Lazy<Dictionary<string, Tensor[]>>(() =>
        {
            var budget = TaskVerifier.DefaultBudget(_environment);
            using var _ = Tensor.Use(budget);
            return new TaskRuntime(task, null, budget).SeededData(Options.Seed);
        });
        _reference = new Lazy<CostEstimate?>(() => task.Impl is null ? null : Estimate(task.Impl));
    }

    public CostOptions Options { get; }

    public TaskSpec Task => _task;

    public Machine Machine => Options.Machine ?? Machine.Default;

    /// <summary>The cost of the task's own <c>impl:</c>, computed on first use; null when the task has none.</summary>
    public CostEstimate? Reference => _reference.Value;

    /// <summary>The cost of a program for a task, or why it has none.</summary>
    public static CostEstimate Estimate(TaskSpec task, string program, CostOptions? options = null) => new TaskCost(task, options).Estimate(program);

    public CostEstimate Estimate(string program)
    {
        var check = StaticChecker.Check(program, _environment, new StaticCheckOptions(Options.RepairAffine, Options.AffineMode));
        if (check.Problem is { } problem) return new CostEstimate(null, Verdict.FromDiagnostic(problem, _task.SourcePath, _task.Name), check.Source);
        var budget = TaskVerifier.DefaultBudget(_environment);
        using var _ = Tensor.Use(budget);
        try
        {
            var seeded = _data.Value;
            var runtime = new TaskRuntime(_task, null, budget);
            var context = new FnContext(runtime.Interpreter, runtime.FnScope(seeded.ToDictionary(kv => kv.Key, kv => kv.Value[0])), runtime.Sizes);
            var inputs = _task.Inputs.Select(i => seeded[i.Name].Select(t => t.Copy()).ToArray()).ToList();
            return new CostEstimate(CostModel.Estimate(check.Program!.Program, context, inputs, Machine), null, check.Source);
        }
        catch (CostException e)
        {
            return new CostEstimate(null, Verdict.FromDiagnostic(e.Diagnostic, _task.SourcePath, _task.Name), check.Source);
        }
        catch (Exception e) when (e is PyLiteRuntimeException or PyLite.PyLiteSyntaxException or TensorException or LimitExceededException)
        {
            return new CostEstimate(null, new Verdict(e is LimitExceededException ? VerdictKind.Limit : VerdictKind.Invalid, _task.SourcePath, _task.Name,
                $"the task's own PyTorch code failed: {e.Message}", Rule: Rules.TaskReference.Id), check.Source);
        }
    }
}
