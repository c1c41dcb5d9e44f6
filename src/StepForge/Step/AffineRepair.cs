using System.Text;
using StepForge.Diagnostics;
using StepForge.PyLite;

namespace StepForge.Step;

/// <summary>The program after Copy insertion, and what was inserted.</summary>
public sealed record RepairedProgram(string Source, IReadOnlyList<string> InsertedLines, int CopiesInserted);

/// <summary>
/// Makes a program affine with the fewest Copy ops: a stream consumed k times needs k - 1 Copies, chained right
/// after its definition, and each consumer is renamed to its own copy. The rest of the text is left as written.
/// </summary>
public static class AffineRepair
{
    /// <summary>Returns the repaired source, or a diagnostic when a use cannot be rewritten (inside a comprehension, or a whole list).</summary>
    public static (RepairedProgram? Result, Diagnostic? Error) Repair(BoundProgram program, AffineMode mode = AffineMode.Upstream)
    {
        var violations = AffineChecker.FindViolations(program, mode);
        var source = program.Syntax.Source;
        if (violations.Count == 0) return (new RepairedProgram(source, [], 0), null);

        var taken = new HashSet<string>(NamesIn(program.Syntax), StringComparer.Ordinal);
        foreach (var h in program.Handles) taken.Add(h.Name);
        var edits = new List<(int Start, int End, string Text, int Order)>();
        var inserted = new List<string>();
        int copies = 0, order = 0;

        foreach (var violation in violations)
        {
            var handle = violation.Handle;
            var fixedUse = violation.Uses.FirstOrDefault(u => u.Kind is UseKind.FixedArgument or UseKind.Iteration);
            if (handle.Reference is null || handle.InsertAt == -2 || fixedUse is not null)
            {
                var at = fixedUse ?? violation.Uses[1];
                return (null, new Diagnostic(VerdictKind.Affine, Rules.AffineRepair.Id,
                    $"stream {handle.Name} is consumed {violation.Uses.Count} times, and the use at line {at.Span.Line} " +
                    "is inside a comprehension or part of a list, so Copy cannot be inserted automatically",
                    at.Span.Line, at.Span.Column, at.Op));
            }

            string stem = Sanitize(handle.Reference);
            var names = violation.Uses.Select((_, i) => Fresh($"{stem}_{i + 1}", taken)).ToList();
            var lines = new List<string>();
            string from = handle.Reference;
            for (int i = 0; i < names.Count - 1; i++)
            {
                bool last = i == names.Count - 2;
                string rest = last ? names[i + 1] : Fresh($"{stem}_rest{i + 1}", taken);
                lines.Add($"{names[i]}, {rest} = step.Copy().apply({from})");
                from = rest;
                copies++;
            }
            inserted.AddRange(lines);
            var text = handle.InsertAt < 0
                ? string.Concat(lines.Select(l => l + "\n"))
                : string.Concat(lines.Select(l => "\n" + l));
            int offset = Math.Max(handle.InsertAt, 0);
            edits.Add((offset, offset, text, order++));
            for (int i = 0; i < violation.Uses.Count; i++)
                edits.Add((violation.Uses[i].Span.Start, violation.Uses[i].Span.End, names[i], order++));
        }

        var result = new StringBuilder(source);
        foreach (var (start, end, text, _) in edits.OrderByDescending(e => e.Start).ThenByDescending(e => e.Order))
        {
            result.Remove(start, end - start);
            result.Insert(start, text);
        }
        return (new RepairedProgram(result.ToString(), inserted, copies), null);
    }

    private static string Sanitize(string reference)
    {
        var sb = new StringBuilder();
        foreach (char c in reference)
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        return sb.ToString().TrimEnd('_');
    }

    private static string Fresh(string name, HashSet<string> taken)
    {
        string candidate = name;
        for (int i = 2; taken.Contains(candidate); i++) candidate = $"{name}_{i}";
        taken.Add(candidate);
        return candidate;
    }

    private static IEnumerable<string> NamesIn(Module module) =>
        module.Body.SelectMany(SyntaxWalker.DescendantsAndSelf).OfType<NameExpr>().Select(n => n.Name);
}
