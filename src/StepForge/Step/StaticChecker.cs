using StepForge.Diagnostics;
using StepForge.PyLite;

namespace StepForge.Step;

public sealed record StaticCheckOptions(bool RepairAffine = false, AffineMode AffineMode = AffineMode.Upstream);

/// <summary>The outcome of the static half of verification.</summary>
/// <param name="Problem">The first failing stage's diagnostic, or null when the program passed.</param>
/// <param name="Program">The typed program (of the repaired source when repair ran), when binding succeeded.</param>
/// <param name="Source">The program text that was finally checked (repaired when Copy was inserted).</param>
public sealed record StaticCheckResult(Diagnostic? Problem, BoundProgram? Program, string Source, RepairedProgram? Repair)
{
    public bool Passed => Problem is null;
}

/// <summary>The static pipeline: parse → types (with the outputs) → affine (→ repair and check again).</summary>
public static class StaticChecker
{
    public static StaticCheckResult Check(string source, ProgramEnvironment env, StaticCheckOptions? options = null)
    {
        options ??= new StaticCheckOptions();
        var (bound, problem) = Bind(source, env);
        if (bound is null) return new StaticCheckResult(problem, null, source, null);

        var affine = AffineChecker.Check(bound, options.AffineMode);
        if (affine is null) return new StaticCheckResult(null, bound, source, null);
        if (!options.RepairAffine) return new StaticCheckResult(affine, bound, source, null);

        var (repair, repairError) = AffineRepair.Repair(bound, options.AffineMode);
        if (repair is null) return new StaticCheckResult(repairError, bound, source, null);

        var (rebound, reproblem) = Bind(repair.Source, env);
        if (rebound is null) return new StaticCheckResult(reproblem, null, repair.Source, repair);
        var stillAffine = AffineChecker.Check(rebound, options.AffineMode);
        return new StaticCheckResult(stillAffine, rebound, repair.Source, repair);
    }

    /// <summary>Programs longer than this (far beyond any task's) are parsed every time, so the cache stays small.</summary>
    private const int MaxCachedSource = 8192;

    public static (BoundProgram? Program, Diagnostic? Problem) Bind(string source, ProgramEnvironment env)
    {
        Module module;
        try
        {
            // Samplers propose the same program many times: a program of ordinary length is parsed once per process.
            module = source.Length <= MaxCachedSource ? ParsedSnippets.Get(source) : Parser.ParseModule(source);
        }
        catch (PyLiteSyntaxException e)
        {
            return (null, new Diagnostic(VerdictKind.Parse, Rules.Syntax.Id, e.Message, e.Line, e.Column));
        }
        return ProgramBinder.Bind(module, env);
    }
}
