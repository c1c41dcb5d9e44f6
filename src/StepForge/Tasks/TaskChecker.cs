using StepForge.Step;

namespace StepForge.Tasks;

/// <summary>The static check of a task's candidate program: parse, types against the task's outputs, affine.</summary>
public static class TaskChecker
{
    /// <param name="impl">The candidate; the task's own <c>impl:</c> when null.</param>
    /// <exception cref="TaskFileException">when there is no candidate at all.</exception>
    public static Verdict Check(TaskSpec task, string? impl = null, StaticCheckOptions? options = null)
    {
        var source = impl ?? task.Impl
            ?? throw new TaskFileException(task.SourcePath, "impl", "missing: the task has no impl: and no --impl was given");
        var result = StaticChecker.Check(source, task.Environment(), options);
        string? repaired = result.Repair is { CopiesInserted: > 0 } r ? r.Source : null;
        int copies = result.Repair?.CopiesInserted ?? 0;
        if (result.Problem is { } problem)
            return Verdict.FromDiagnostic(problem, task.SourcePath, task.Name) with { RepairedImpl = repaired, CopiesInserted = copies };
        var message = copies > 0
            ? $"type-checks and is affine after inserting {copies} Copy op(s)"
            : "type-checks and is affine";
        return new Verdict(VerdictKind.Correct, task.SourcePath, task.Name, message, RepairedImpl: repaired, CopiesInserted: copies);
    }
}
