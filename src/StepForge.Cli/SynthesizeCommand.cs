using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StepForge.Learning;
using StepForge.Synthesis;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary><c>stepforge synthesize</c>: the built-in search proposer on its own, task by task.</summary>
public static class SynthesizeCommand
{
    public static Command Create(ConsoleIo io)
    {
        var paths = new Argument<string[]>("TASK") { Description = "Task files or folders (a task's own impl: is never read).", Arity = ArgumentArity.OneOrMore }
            .RefusingUnknownOptions(io);
        var search = new SearchArguments(io);
        var learnFrom = new Option<string[]>("--learn-from")
        {
            Description = "Experience stores (*.sqlite: their verified programs, the shortest per task) or task files and folders (their impl:) " +
                          "to learn from; the task being searched is always left out (leave-one-out: each task is searched with what the others taught).",
            HelpName = "STORE|TASKS",
            AllowMultipleArgumentsPerToken = true,
        };
        var print = new Option<bool>("--print") { Description = "Print every program found." };
        var json = new Option<bool>("--json") { Description = "One JSON object per task." };
        var save = new Option<string?>("--save") { Description = "Write every program found to DIR/NAME.py (for stepforge verify --impl; a name repeated across folders is FOLDER/NAME).", HelpName = "DIR" };
        var command = new Command("synthesize",
            "Search for a STeP program for each task without any model: bottom-up enumeration from the task's streams, fns and dims, cheapest " +
            "first by a grammar learned from demonstrations (--learn-from), merging candidates that compute the same values, verifying what " +
            "matches the reference (also at other sizes).\n" +
            StepForgeCli.ExitCodes("when every task got a program", "when some did not"))
        {
            paths, learnFrom, print, json, save,
        };
        search.AddTo(command);
        command.SetAction(parsed =>
        {
            IReadOnlyList<TaskSpec> tasks;
            IReadOnlyList<SolvedExample> examples = [];
            try
            {
                tasks = TaskLocator.LoadTasks(parsed.GetValue(paths) ?? []);
                var learned = new List<SolvedExample>();
                foreach (var source in parsed.GetValue(learnFrom) ?? [])
                {
                    if (source.EndsWith(".sqlite", StringComparison.OrdinalIgnoreCase))
                    {
                        if (!File.Exists(source))
                        {
                            io.Error.WriteLine($"stepforge: error: --learn-from {source}: no such file");
                            return StepForgeCli.ExitBadInput;
                        }
                        using var store = new ExperienceStore(source);
                        learned.AddRange(DemoSelector.FromStore(store).Select(d => new SolvedExample(d.Task, d.Impl)));
                    }
                    else learned.AddRange(TaskLocator.LoadTasks([source]).Where(t => t.Impl is not null).Select(t => new SolvedExample(t, t.Impl!)));
                }
                examples = learned;
            }
            catch (TaskFileException e)
            {
                io.Error.WriteLine($"stepforge: error: {e.Message}");
                return StepForgeCli.ExitBadInput;
            }
            catch (ExperienceStoreException e)
            {
                io.Error.WriteLine($"stepforge: error: {e.Message}");
                return StepForgeCli.ExitBadInput;
            }
            if (tasks.Count == 0)
            {
                io.Error.WriteLine($"stepforge: error: no task files found under {string.Join(", ", parsed.GetValue(paths) ?? [])}");
                return StepForgeCli.ExitBadInput;
            }
            var options = search.Options(parsed);
            bool asJson = parsed.GetValue(json);
            if (!asJson) io.Out.WriteLine($"{"result",-9} {"cpu",7} {"tried",9} {"kept",7} {"ops",4}  task");
            int found = 0, stopped = 0;
            foreach (var task in tasks)
            {
                // Leave-one-out: never the task's own programs.
                var knowledge = examples.Count == 0 ? SearchKnowledge.None : SearchKnowledge.Learn(examples.Where(e => e.Task.Name != task.Name));
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var result = ProgramSearch.Run(task, asJson ? options : options with { Progress = level => io.Error.WriteLine($"  {task.Name}: {level}") }, knowledge);
                double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                if (result.IsFound) found++;
                if (result.Outcome == SearchOutcome.Stopped) stopped++;
                if (result.Program is { } program && parsed.GetValue(save) is { } folder)
                {
                    var file = Path.Combine(folder, task.Name + ".py");
                    Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                    File.WriteAllText(file, program);
                }
                var s = result.Stats;
                if (asJson)
                    io.Out.WriteLine(JsonSerializer.Serialize(new SynthesizeJson(task.SourcePath, task.Name, result.IsFound, result.Outcome.ToString().ToLowerInvariant(),
                        cpuSeconds, s.Seconds, s.Tried, s.Work, s.Kept, s.Verified, s.Rejected, s.Level, result.Answer?.Ops, result.Answer?.ElementsStreamed,
                        result.First?.Ops, result.First?.ElementsStreamed, result.Answer?.Pieces, result.Knowledge, result.Message, result.Program), CliJson.Style.SynthesizeJson));
                else
                {
                    var outcome = result.Outcome switch { SearchOutcome.Found => "found", SearchOutcome.Stopped => "stopped", _ => "not found" };
                    io.Out.WriteLine($"{outcome,-9} {cpuSeconds.ToString("0.0", CultureInfo.InvariantCulture),6}s {s.Tried,9} {s.Kept,7} {result.Answer?.Ops.ToString(CultureInfo.InvariantCulture) ?? "-",4}  {task.SourcePath}" +
                        (result.IsFound ? "" : $"  {result.Message}"));
                    if (result.IsFound && parsed.GetValue(print))
                    {
                        io.Out.WriteLine($"    ({result.Message}; {result.Knowledge})");
                        foreach (var line in result.Program!.TrimEnd().Split('\n')) io.Out.WriteLine("    " + line);
                    }
                }
            }
            if (!asJson)
                io.Out.WriteLine($"{tasks.Count} task(s): {found} found, {tasks.Count - found} not found" + (stopped > 0 ? $" ({stopped} stopped by the safety net)" : "") +
                    (examples.Count > 0 ? $"; learned from {examples.Count} stored program(s), each task without its own" : ""));
            return found == tasks.Count ? StepForgeCli.ExitOk : StepForgeCli.ExitRejected;
        });
        return command;
    }
}
