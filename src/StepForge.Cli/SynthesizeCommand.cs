using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using StepForge.Synthesis;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary><c>stepforge synthesize</c>: the built-in search proposer on its own, task by task.</summary>
public static class SynthesizeCommand
{
    public static Command Create(ConsoleIo io)
    {
        var paths = new Argument<string[]>("TASK") { Description = "Task files or folders (a task's own impl: is never read).", Arity = ArgumentArity.OneOrMore };
        var seconds = new Option<double>("--max-seconds") { Description = "Search time per task.", DefaultValueFactory = _ => 30 }
            .Refusing(io, v => v <= 0 ? "--max-seconds and --max-candidates must be positive" : null);
        var candidates = new Option<long>("--max-candidates") { Description = "Candidate ops tried per task.", DefaultValueFactory = _ => 5_000_000 }
            .Refusing(io, v => v < 1 ? "--max-seconds and --max-candidates must be positive" : null);
        var print = new Option<bool>("--print") { Description = "Print every program found." };
        var json = new Option<bool>("--json") { Description = "One JSON object per task." };
        var save = new Option<string?>("--save") { Description = "Write every program found to DIR/NAME.py (for stepforge verify --impl; a name repeated across folders is FOLDER/NAME).", HelpName = "DIR" };
        var command = new Command("synthesize",
            "Search for a STeP program for each task without any model: type-directed enumeration from the task's streams, fns and " +
            "dimension symbols, merging candidates that compute the same values, verifying what matches the reference (also at other sizes).\n" +
            StepForgeCli.ExitCodes("when every task got a program", "when some did not"))
        {
            paths, seconds, candidates, print, json, save,
        };
        command.SetAction(parsed =>
        {
            IReadOnlyList<TaskSpec> tasks;
            try
            {
                tasks = TaskLocator.LoadTasks(parsed.GetValue(paths) ?? []);
            }
            catch (TaskFileException e)
            {
                io.Error.WriteLine($"stepforge: error: {e.Message}");
                return StepForgeCli.ExitBadInput;
            }
            if (tasks.Count == 0)
            {
                io.Error.WriteLine($"stepforge: error: no task files found under {string.Join(", ", parsed.GetValue(paths) ?? [])}");
                return StepForgeCli.ExitBadInput;
            }
            var options = new SearchOptions(parsed.GetValue(seconds), parsed.GetValue(candidates));
            bool asJson = parsed.GetValue(json);
            if (!asJson) io.Out.WriteLine($"{"result",-9} {"time",7} {"tried",10} {"kept",7}  task");
            int found = 0;
            foreach (var task in tasks)
            {
                var result = ProgramSearch.Run(task, asJson ? options : options with { Progress = level => io.Error.WriteLine($"  {task.Name}: {level}") });
                if (result.Found) found++;
                if (result.Found && parsed.GetValue(save) is { } folder)
                {
                    var file = Path.Combine(folder, task.Name + ".py");
                    Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                    File.WriteAllText(file, result.Program);
                }
                var s = result.Stats;
                if (asJson)
                    io.Out.WriteLine(JsonSerializer.Serialize(new SynthesizeJson(task.SourcePath, task.Name, result.Found, s.Seconds, s.Tried, s.Kept, s.Verified,
                        s.Rejected, result.Message, result.Program), CliJson.Style.SynthesizeJson));
                else
                {
                    io.Out.WriteLine($"{(result.Found ? "found" : "not found"),-9} {s.Seconds.ToString("0.0", CultureInfo.InvariantCulture),6}s {s.Tried,10} {s.Kept,7}  {task.SourcePath}" +
                        (result.Found ? "" : $"  {result.Message}"));
                    if (result.Found && parsed.GetValue(print))
                        foreach (var line in result.Program!.TrimEnd().Split('\n')) io.Out.WriteLine("    " + line);
                }
            }
            if (!asJson) io.Out.WriteLine($"{tasks.Count} task(s): {found} found, {tasks.Count - found} not found");
            return found == tasks.Count ? StepForgeCli.ExitOk : StepForgeCli.ExitRejected;
        });
        return command;
    }
}
