using System.Text.RegularExpressions;
using StepForge.Tasks;

namespace StepForge.Tests.Support;

/// <summary>A changed reference program, and what was changed.</summary>
public sealed record Mutant(string Task, string Description, string Program);

/// <summary>
/// Derives mutants from a reference program, one change at a time: another fn of the same signature, other op
/// configurations, swapped Zip operands, a dropped op (its input passed through) or a duplicated op.
/// </summary>
public static partial class Mutants
{
    [GeneratedRegex(@"fn=(\w+)")]
    private static partial Regex FnConfig();

    [GeneratedRegex(@"\b([ab])=(\d+)")]
    private static partial Regex IntConfig();

    [GeneratedRegex(@"\bn=(\w+)")]
    private static partial Regex RepeatCount();

    [GeneratedRegex(@"L=[\[(](\d+),?[\])]")]
    private static partial Regex FlattenList();

    [GeneratedRegex(@"Zip\(\)\.apply\(\((\w+), (\w+)\)\)")]
    private static partial Regex ZipPair();

    [GeneratedRegex(@"^(\s*)(\w+) = (step\.(\w+)\([^)]*\))\.apply\((\w+)\)(.*)$")]
    private static partial Regex SingleInputOp();

    public static IEnumerable<Mutant> Of(string taskId, TaskSpec task)
    {
        var lines = task.Impl!.Split('\n');
        var dims = task.Sizes.Keys.ToList();
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            int number = i + 1;
            IEnumerable<(string, string)> changes = [];

            foreach (Match m in FnConfig().Matches(line))
            {
                var fn = task.Fns.FirstOrDefault(f => f.FuncName == m.Groups[1].Value);
                if (fn is null) continue;
                foreach (var other in task.Fns.Where(g => g != fn && g.Input == fn.Input && g.Output == fn.Output && g.HasInit == fn.HasInit))
                    changes = changes.Append(($"fn {fn.FuncName} -> {other.FuncName}", Replace(line, m.Groups[1], other.FuncName)));
            }
            foreach (Match m in IntConfig().Matches(line))
            {
                int v = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
                foreach (var w in new[] { v - 1, v + 1 }.Where(w => w >= 0))
                    changes = changes.Append(($"{m.Groups[1].Value}={v} -> {w}", Replace(line, m.Groups[2], w.ToString(System.Globalization.CultureInfo.InvariantCulture))));
            }
            foreach (Match m in RepeatCount().Matches(line))
                foreach (var d in dims.Where(d => d != m.Groups[1].Value && $"{d}_value" != m.Groups[1].Value))
                    changes = changes.Append(($"n={m.Groups[1].Value} -> {d}", Replace(line, m.Groups[1], d)));
            foreach (Match m in FlattenList().Matches(line))
                changes = changes.Append(($"L={m.Groups[1].Value} -> {int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1}",
                    Replace(line, m.Groups[1], (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))));
            foreach (Match m in ZipPair().Matches(line))
                changes = changes.Append(("swap Zip operands", line[..m.Index] + $"Zip().apply(({m.Groups[2].Value}, {m.Groups[1].Value}))" + line[(m.Index + m.Length)..]));
            var op = SingleInputOp().Match(line);
            if (op.Success && op.Groups[4].Value is not ("Copy" or "Partition"))
            {
                var (indent, target, call, name, input, rest) = (op.Groups[1].Value, op.Groups[2].Value, op.Groups[3].Value, op.Groups[4].Value, op.Groups[5].Value, op.Groups[6].Value);
                changes = changes.Append(($"drop {name}", $"{indent}{target} = {input}{rest}"));
                changes = changes.Append(($"duplicate {name}", $"{indent}{target} = {call}.apply({call}.apply({input})){rest}"));
            }

            foreach (var (description, changed) in changes)
            {
                if (changed == line) continue;
                var copy = lines.ToArray();
                copy[i] = changed;
                yield return new Mutant(taskId, $"line {number}: {description}", string.Join('\n', copy));
            }
        }
    }

    private static string Replace(string line, Group group, string value) => line[..group.Index] + value + line[(group.Index + group.Length)..];
}
