using StepForge.Diagnostics;

namespace StepForge.Step;

/// <summary>Which consumptions count: the upstream rule (op arguments and comprehension iterables) or also returns.</summary>
public enum AffineMode { Upstream, Strict }

/// <summary>A stream consumed more than once, with every place that consumes it.</summary>
public sealed record AffineViolation(StreamHandle Handle, IReadOnlyList<StreamUse> Uses);

/// <summary>Checks that every stream is consumed at most once (step-semantics.md, "Affine types").</summary>
public static class AffineChecker
{
    public static bool Counts(StreamUse use, AffineMode mode) => use.Kind != UseKind.Return || mode == AffineMode.Strict;

    public static IReadOnlyList<AffineViolation> FindViolations(BoundProgram program, AffineMode mode = AffineMode.Upstream)
    {
        // Most programs are affine: count uses per handle first, and group only when some handle is used twice.
        var uses = new int[program.Handles.Count];
        bool twice = false;
        foreach (var use in program.Uses)
            if (Counts(use, mode) && ++uses[use.Handle] > 1) twice = true;
        return twice ? Violations(program, mode) : [];
    }

    private static IReadOnlyList<AffineViolation> Violations(BoundProgram program, AffineMode mode) =>
        [.. program.Uses
            .Where(u => Counts(u, mode))
            .GroupBy(u => u.Handle)
            .Where(g => g.Count() > 1)
            .Select(g => new AffineViolation(program.Handles[g.Key], [.. g.OrderBy(u => u.Span.Start)]))
            .OrderBy(v => v.Uses[1].Span.Start)];

    /// <summary>The affine verdict for a program, or null when it is affine.</summary>
    public static Diagnostic? Check(BoundProgram program, AffineMode mode = AffineMode.Upstream)
    {
        var violations = FindViolations(program, mode);
        if (violations.Count == 0) return null;
        var first = violations[0];
        var second = first.Uses[1];
        string Lines(AffineViolation v) => string.Join(", ", v.Uses.Select(u => u.Span.Line));
        var message = $"stream {first.Handle.Name} is consumed {first.Uses.Count} times (lines {Lines(first)}: {string.Join(", ", first.Uses.Select(u => u.Op))}); " +
            $"a stream may be consumed once: duplicate it with `A, B = step.Copy().apply({first.Handle.Name})`";
        if (violations.Count > 1)
            message += "; also " + string.Join("; ", violations.Skip(1).Select(v => $"{v.Handle.Name} (lines {Lines(v)})"));
        return new Diagnostic(VerdictKind.Affine, Rules.AffineSingleUse.Id, message, second.Span.Line, second.Span.Column, second.Op,
            Expected: $"{first.Handle.Name} consumed once", Actual: $"{first.Handle.Name} consumed {first.Uses.Count} times at lines {Lines(first)}");
    }
}
