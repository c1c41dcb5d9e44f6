using System.CommandLine;
using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary><c>stepforge check</c>: the static half of verification (parse, types, affine) for task files.</summary>
public static class CheckCommand
{
    public static Command Create(ConsoleIo io)
    {
        var tasks = new Argument<string[]>("TASK")
        {
            Description = "Task files, or folders searched recursively for *.yaml (files there without impl: are only loaded).",
            Arity = ArgumentArity.OneOrMore,
        };
        var impl = new Option<string?>("--impl")
        {
            Description = "Check this candidate instead of each task's own impl: a YAML file with an impl: key, a bare program, or - for standard input.",
            HelpName = "FILE|-",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per task on standard output." };
        var repair = new Option<bool>("--repair-affine") { Description = "Insert step.Copy where a stream is consumed twice, then check the repaired program." };
        var print = new Option<bool>("--print") { Description = "With --repair-affine: print each repaired program." };
        var strict = new Option<bool>("--strict-affine") { Description = "Count returning a stream as consuming it (stricter than upstream)." };

        var command = new Command("check",
            "Check candidate STeP programs statically: parse, types and shapes against the task's outputs, affine use of streams.\n" +
            "Exit 0 if all pass, 1 if any is rejected, 2 if the invocation or a task file is bad.")
        {
            tasks, impl, json, repair, print, strict,
        };
        command.SetAction(parsed => Run(io,
            parsed.GetValue(tasks) ?? [],
            parsed.GetValue(impl),
            parsed.GetValue(json),
            new StaticCheckOptions(parsed.GetValue(repair), parsed.GetValue(strict) ? AffineMode.Strict : AffineMode.Upstream),
            parsed.GetValue(print)));
        return command;
    }

    private static int Run(ConsoleIo io, string[] paths, string? implPath, bool json, StaticCheckOptions options, bool print)
    {
        if (print && !options.RepairAffine)
        {
            io.Error.WriteLine("stepforge: error: --print goes with --repair-affine");
            return StepForgeCli.ExitBadInput;
        }
        string? candidate = null;
        if (implPath is not null)
        {
            try
            {
                candidate = CandidateText.FromText(implPath == "-" ? io.In.ReadToEnd() : File.ReadAllText(implPath));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                io.Error.WriteLine($"stepforge: error: --impl {implPath}: {(e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message)}");
                return StepForgeCli.ExitBadInput;
            }
        }

        IReadOnlyList<TaskFile> files;
        try
        {
            files = TaskLocator.Expand(paths);
        }
        catch (TaskFileException e)
        {
            io.Error.WriteLine($"stepforge: error: {e.Message}");
            if (json) io.Out.WriteLine(Verdict.Invalid(e.Path, e.Message).ToJson());
            return StepForgeCli.ExitBadInput;
        }

        bool anyInvalid = false, anyRejected = false;
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var loadedOnly = 0;
        var skipped = new List<string>();
        foreach (var file in files)
        {
            if (!file.Named && !TaskLocator.LooksLikeTask(file.Path))
            {
                skipped.Add(file.Path);
                continue;
            }
            Verdict verdict;
            try
            {
                var task = TaskReader.ReadFile(file.Path);
                if (candidate is null && task.Impl is null && !file.Named)
                {
                    loadedOnly++;
                    continue;
                }
                verdict = TaskChecker.Check(task, candidate, options);
            }
            catch (TaskFileException e)
            {
                anyInvalid = true;
                io.Error.WriteLine($"stepforge: error: {e.Message}");
                verdict = Verdict.Invalid(file.Path, e.Message);
                if (json) io.Out.WriteLine(verdict.ToJson());
                counts["invalid"] = counts.GetValueOrDefault("invalid") + 1;
                continue;
            }
            anyRejected |= !verdict.IsCorrect;
            var kind = Verdict.KindName(verdict.Kind);
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
            if (json) io.Out.WriteLine(verdict.ToJson());
            else Render(io.Out, verdict, print);
        }

        if (skipped.Count > 0)
            io.Error.WriteLine($"note: passed over {skipped.Count} YAML file(s) that are not task files: {string.Join(", ", skipped)}");
        if (loadedOnly > 0)
            io.Error.WriteLine($"note: {loadedOnly} task file(s) found in folders have no impl: they were loaded and validated, not checked (give --impl to check a candidate against them)");
        var summary = $"{counts.Values.Sum()} checked: " + (counts.Count == 0 ? "nothing" : string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}")));
        if (!json) io.Out.WriteLine(summary);
        return anyInvalid ? StepForgeCli.ExitBadInput : anyRejected ? StepForgeCli.ExitRejected : StepForgeCli.ExitOk;
    }

    private static void Render(TextWriter output, Verdict v, bool print)
    {
        var where = v.Line is int line ? $"{v.Task}:{line}" : v.Task;
        output.WriteLine($"{Verdict.KindName(v.Kind),-8} {where}" + (v.IsCorrect ? $"  {v.Message}" : $"  [{v.Rule}] {v.Message}"));
        if (!v.IsCorrect && (v.Expected is not null || v.Actual is not null))
            output.WriteLine($"         expected: {v.Expected ?? "-"}; actual: {v.Actual ?? "-"}");
        if (print && v.RepairedImpl is not null)
        {
            output.WriteLine($"         repaired program ({v.CopiesInserted} Copy op(s) inserted):");
            foreach (var l in v.RepairedImpl.TrimEnd().Split('\n')) output.WriteLine("           " + l);
        }
    }
}
