using System.Globalization;
using StepForge.Diagnostics;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary>
/// What check and verify share: files and folders in order, the --impl candidate, one verdict per task
/// (human lines or JSON lines), notes on stderr, and the exit code (2 bad input, 1 rejected, 0 all accepted).
/// </summary>
public static class TaskBatch
{
    public static int Run(ConsoleIo io, string[] paths, string? implPath, bool json, bool print, bool showErrors,
        Func<TaskSpec, string?, Verdict> evaluate)
    {
        CandidateProgram? candidateProgram = null;
        if (implPath is not null)
        {
            try
            {
                candidateProgram = CandidateText.Read(implPath == "-" ? ReadBounded(io.In) : ReadBounded(implPath));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                io.Error.WriteLine($"stepforge: error: --impl {implPath}: {(e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message)}");
                return StepForgeCli.ExitBadInput;
            }
        }
        var candidate = candidateProgram?.Source;

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

        bool header = showErrors && !json;
        bool anyInvalid = false, anyRejected = false;
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int loadedOnly = 0;
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
                // Lines of a verdict point into the file that holds the program: the --impl file, or the task file.
                verdict = candidateProgram is not null
                    ? evaluate(task, candidate).InFile(implPath == "-" ? "<stdin>" : implPath, candidateProgram.LineOffset)
                    : evaluate(task, candidate).InFile(null, task.ImplLineOffset);
            }
            catch (TaskFileException e)
            {
                verdict = Verdict.Invalid(file.Path, e.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // One file's failure is that file's verdict; the others still get theirs.
                verdict = new Verdict(Step.VerdictKind.Runtime, file.Path, null,
                    $"the checker failed on this file ({e.GetType().Name}: {e.Message}); this is a bug in StepForge, please report it", Rule: Rules.Internal.Id);
            }
            if (verdict.Kind == Step.VerdictKind.Invalid)
            {
                anyInvalid = true;
                io.Error.WriteLine($"stepforge: error: {verdict.Message}");
            }
            else anyRejected |= !verdict.IsCorrect;
            var kind = Verdict.KindName(verdict.Kind);
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
            if (json) io.Out.WriteLine(verdict.ToJson());
            else if (verdict.Kind != Step.VerdictKind.Invalid)
            {
                if (header) io.Out.WriteLine($"{"verdict",-8} {"time",7}  {"max err",8}  task");
                header = false;
                Render(io.Out, verdict, print, showErrors);
            }
        }

        if (counts.Count == 0 && loadedOnly == 0)
        {
            io.Error.WriteLine($"stepforge: error: no task files found under {string.Join(", ", paths)}");
            return StepForgeCli.ExitBadInput;
        }
        if (skipped.Count > 0)
            io.Error.WriteLine($"note: passed over {skipped.Count} YAML file(s) that are not task files: {string.Join(", ", skipped)}");
        if (loadedOnly > 0)
            io.Error.WriteLine($"note: {loadedOnly} task file(s) found in folders have no impl: they were loaded and validated, not checked (give --impl to check a candidate against them)");
        if (!json)
            io.Out.WriteLine($"{counts.Values.Sum()} checked: " + (counts.Count == 0 ? "nothing" : string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}"))));
        return anyInvalid ? StepForgeCli.ExitBadInput : anyRejected ? StepForgeCli.ExitRejected : StepForgeCli.ExitOk;
    }

    /// <summary>A candidate file, refused when it is larger than any program (it is read whole).</summary>
    private static string ReadBounded(string path)
    {
        if (new FileInfo(path).Length > YamlText.MaxLength)
            throw new IOException($"the file is larger than {YamlText.MaxLength >> 20} MB; a candidate program is a few kilobytes");
        return File.ReadAllText(path);
    }

    private static string ReadBounded(TextReader reader)
    {
        var buffer = new char[YamlText.MaxLength + 1];
        int total = 0, read;
        while (total < buffer.Length && (read = reader.Read(buffer, total, buffer.Length - total)) > 0) total += read;
        if (total > YamlText.MaxLength)
            throw new IOException($"the input is larger than {YamlText.MaxLength >> 20} MB; a candidate program is a few kilobytes");
        return new string(buffer, 0, total);
    }

    private static void Render(TextWriter output, Verdict v, bool print, bool showErrors)
    {
        var where = v.Line is int line ? $"{v.Where}:{line}" : v.Task;
        var figures = showErrors
            ? $"{v.Seconds,6:0.00}s  {(v.Outputs is { Count: > 0 } o ? o.Max(x => x.MaxAbsError).ToString("0.0e+0", CultureInfo.InvariantCulture) : "-"),8}  "
            : "";
        output.WriteLine($"{Verdict.KindName(v.Kind),-8} {figures}{where}" + (v.IsCorrect ? $"  {v.Message}" : $"  [{v.Rule}] {v.Message}"));
        if (!v.IsCorrect && (v.Expected is not null || v.Actual is not null))
            output.WriteLine($"         expected: {v.Expected ?? "-"}; actual: {v.Actual ?? "-"}");
        if (print && v.RepairedImpl is not null)
        {
            output.WriteLine($"         repaired program ({v.CopiesInserted} Copy op(s) inserted):");
            foreach (var l in v.RepairedImpl.TrimEnd().Split('\n')) output.WriteLine("           " + l);
        }
    }
}
