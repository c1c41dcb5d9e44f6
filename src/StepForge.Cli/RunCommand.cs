using System.CommandLine;
using System.Text.Json;
using StepForge.Agents;
using StepForge.Learning;
using StepForge.Llm;

namespace StepForge.Cli;

/// <summary><c>stepforge run</c>: sample programs from a model for every task, verify them, store everything, print pass@k.</summary>
public static class RunCommand
{
    public static Command Create(ConsoleIo io)
    {
        var shared = new SamplingArguments(io, "run");
        var ks = OptionValues.Ks(io);
        var json = new Option<bool>("--json") { Description = "Print the results as one JSON object." };
        var csv = new Option<string?>("--csv") { Description = "Also write the per-task results to this CSV file." };
        var html = new Option<string?>("--html") { Description = "At the end, write the store's report (as stepforge report --html) into this folder.", HelpName = "DIR" };
        var fastP = OptionValues.FastPs(io);
        var command = new Command("run",
            "Ask a model for STeP programs for every task (n samples per temperature, in parallel), verify each, store prompts, answers, " +
            "programs, verdicts, tokens and each correct program's cost in the experience store as they finish, and print per-task and per-group " +
            "results with pass@k, the cheapest correct program's cycles and on-chip bytes against the reference program's, and fast_p.\n" +
            StepForgeCli.ExitCodes("when every sample was obtained", "when some calls failed or the run was interrupted (the same command continues)"));
        shared.AddTo(command);
        command.Add(ks);
        command.Add(json);
        command.Add(csv);
        command.Add(html);
        command.Add(fastP);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var kList = OptionValues.Ks(parsed, ks);
            var fastPs = OptionValues.FastPs(parsed, fastP);
            using var session = shared.Open(parsed, null, new Dictionary<string, string>(), out _);
            if (session is null) return StepForgeCli.ExitBadInput;
            var (spec, taskList, options, store, dbPath) = (session.Spec, session.Tasks, session.Options, session.Store, session.DbPath);
            var temperatures = options.Temperatures;
            store.AddTasks(taskList);
            int planned = taskList.Count * temperatures.Count * options.Samples;
            io.Error.WriteLine($"{spec.Id}, setting {Settings.Name(options.Setting)}: {taskList.Count} task(s) x {temperatures.Count} temperature(s) x {options.Samples} sample(s) = {planned}; store {dbPath}");
            SamplerSummary summary = null!;
            var sampler = new Sampler(session.Proposer, store, options);
            if (await SamplingArguments.ExecuteAsync(io, session, async ct => summary = await sampler.RunAsync(taskList, null, session.Display, ct).ConfigureAwait(false),
                    cancellationToken).ConfigureAwait(false) is { } failure)
                return failure;

            var stored = store.Samples(options.Experiment).Where(s => s.Key.Model == spec.Id && s.Key.Setting == Settings.Name(options.Setting)
                && taskList.Any(t => t.Name == s.Key.Task) && temperatures.Contains(s.Key.Temperature) && s.Key.Index < options.Samples).ToList();
            var references = store.ReferenceCosts().Where(kv => kv.Value.Cost is not null).ToDictionary(kv => kv.Key, kv => kv.Value.Cost!);
            var perTask = RunSummary.PerTask(stored, kList, references, fastPs);
            var perGroup = RunSummary.PerGroup(perTask, kList);
            if (parsed.GetValue(csv) is { } csvPath)
            {
                try { File.WriteAllText(csvPath, ResultTables.Csv(perTask, kList)); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    io.Error.WriteLine($"stepforge: error: --csv {csvPath}: {e.Message}");
                    return StepForgeCli.ExitBadInput;
                }
            }
            if (parsed.GetValue(json)) io.Out.WriteLine(Json(options.Experiment, spec, options.Setting, dbPath, summary, perTask, perGroup));
            else
            {
                ResultTables.Print(io.Out, perTask, perGroup, kList);
                io.Out.WriteLine($"samples: {summary.Planned} planned, {summary.Skipped} already stored, {summary.Finished} new, {summary.Failed} failed; " +
                    $"{summary.ModelCalls} model call(s) made, {summary.Retries} retried" +
                    (session.Proposer.HasPrice ? "" : "; cost unknown for this model (give --price IN,OUT)"));
            }
            string? page = null;
            if (parsed.GetValue(html) is { } folder)
            {
                try
                {
                    page = ReportCommand.WriteHtml([(dbPath, store)], kList, fastPs, folder, parsed);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    io.Error.WriteLine($"stepforge: error: --html {folder}: {e.Message}");
                    return StepForgeCli.ExitBadInput;
                }
            }
            if (summary.Failed > 0)
                io.Error.WriteLine($"{summary.Failed} sample(s) could not be obtained from the model (see the errors table in {dbPath}); run the same command again to retry them");
            (parsed.GetValue(json) ? io.Error : io.Out).WriteLine(ClosingLine.Text($"{perTask.Count(r => r.Solved > 0)}/{taskList.Count} tasks solved",
                stored.Sum(s => s.InputTokens), stored.Sum(s => s.OutputTokens), stored, dbPath, page));
            return summary.Failed > 0 ? StepForgeCli.ExitRejected : StepForgeCli.ExitOk;
        });
        return command;
    }

    private static string Json(string experiment, ModelSpec spec, Setting setting, string db, SamplerSummary summary, IReadOnlyList<ResultRow> tasks, IReadOnlyList<ResultRow> groups) =>
        JsonSerializer.Serialize(new RunJson(experiment, spec.Id, Settings.Name(setting), db, summary.Planned, summary.Skipped, summary.Finished, summary.Failed,
            summary.ModelCalls, summary.Retries, [.. tasks.Select(ResultTables.Json)], [.. groups.Select(ResultTables.Json)]), CliJson.Style.RunJson);
}
