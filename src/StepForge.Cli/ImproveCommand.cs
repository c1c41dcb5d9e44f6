using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using StepForge.Learning;

namespace StepForge.Cli;

/// <summary><c>stepforge improve</c>: the self-improvement loop over a model's own verified programs.</summary>
public static class ImproveCommand
{
    public static Command Create(ConsoleIo io)
    {
        var shared = new SamplingArguments(io, "improve");
        var test = new Option<string[]>("--test") { Description = "Held-out task files or folders: sampled every iteration, never shown as demonstrations.", AllowMultipleArgumentsPerToken = true };
        var granularity = new Option<int>("--granularity") { Description = "m: correct-sample counts per stratum (1 = one stratum per count).", DefaultValueFactory = _ => 1 }
            .Refusing(io, m => m < 1 ? "--granularity must be at least 1" : null);
        var iterations = new Option<int>("--max-iterations") { Description = "Stop after this many iterations.", DefaultValueFactory = _ => 20 }
            .Refusing(io, n => n < 1 ? "--max-iterations must be at least 1" : null);
        var budget = new Option<long?>("--token-budget") { Description = "Stop before an iteration once this many tokens (in + out) are spent." }
            .Refusing(io, n => n is < 1 ? "--token-budget must be positive" : null);
        var json = new Option<bool>("--json") { Description = "Print the iterations and the solved tasks as one JSON object." };
        var html = new Option<string?>("--html") { Description = "At the end, write the store's report (as stepforge report --html) into this folder.", HelpName = "DIR" };
        var demos = new Option<string>("--demos")
        {
            Description = "Which verified program shows a solved task: shortest (the shortest text) or cheapest (fewest cycles by the cost model, then fewest on-chip bytes).",
            DefaultValueFactory = _ => "shortest",
            HelpName = "shortest|cheapest",
        }.Refusing(io, text => Demos(text) is null ? $"--demos {text}: expected shortest or cheapest" : null);
        var command = new Command("improve",
            "Adaptive self-improvement: sample the unsolved tasks; the verified programs of hard-earned solutions become demonstrations in the " +
            "next iteration's prompts, hardest first, easier ones only when the harder bring nothing new; stop when all are solved, nothing " +
            "new is learned, or at the budget. Everything goes to the store; the same command resumes a run that was stopped.\n" +
            StepForgeCli.ExitCodes("when the loop ended", "when some calls failed or the loop was interrupted (the same command continues)"));
        shared.AddTo(command);
        foreach (var option in new Option[] { test, granularity, iterations, budget, json, html, demos }) command.Add(option);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var choice = Demos(parsed.GetValue(demos)!) ?? throw OptionValues.Unchecked(demos);
            var loopOptions = new Dictionary<string, string>
            {
                ["--granularity"] = parsed.GetValue(granularity).ToString(CultureInfo.InvariantCulture),
                ["--max-iterations"] = parsed.GetValue(iterations).ToString(CultureInfo.InvariantCulture),
                ["--token-budget"] = parsed.GetValue(budget)?.ToString(CultureInfo.InvariantCulture) ?? "none",
                ["--demos"] = parsed.GetValue(demos)!,
            };
            using var session = shared.Open(parsed, parsed.GetValue(test) is { Length: > 0 } t ? t : null, loopOptions, out var testTasks);
            if (session is null) return StepForgeCli.ExitBadInput;
            var runName = session.Options.Experiment;
            var options = new ImproveOptions(runName, session.Options, parsed.GetValue(granularity), parsed.GetValue(iterations), parsed.GetValue(budget), choice);
            io.Error.WriteLine($"{session.Spec.Id}, setting {Settings(session)}: {session.Tasks.Count} training and {testTasks.Count} test task(s), " +
                $"{session.Options.Samples} sample(s) x {session.Options.Temperatures.Count} temperature(s) per task and iteration; store {session.DbPath}");
            var loop = new SelfImprovement(session.Proposer, session.Store, options);
            ImproveResult result = null!;
            bool asJson = parsed.GetValue(json);
            void Report(IterationRecord r)
            {
                if (asJson) return;
                var demos = r.Demonstrations.Count == 0 ? "none" : $"{r.Demonstrations.Count} from {r.Level} stratum(a)";
                io.Out.WriteLine($"iteration {r.Iteration}: demonstrations {demos}; sampled {r.Sampled.Count} task(s); newly solved {r.NewlySolved.Count}" +
                    (r.NewlySolved.Count > 0 ? $" ({string.Join(", ", r.NewlySolved)})" : "") +
                    $"; solved {r.SolvedTrain}/{session.Tasks.Count} training" + (testTasks.Count > 0 ? $", {r.SolvedTest}/{testTasks.Count} test" : "") +
                    $"; tokens {r.InputTokens:N0} in, {r.OutputTokens:N0} out");
            }
            if (await SamplingArguments.ExecuteAsync(io, session, async ct =>
                    result = await loop.RunAsync(session.Tasks, testTasks, Report, session.Display, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false) is { } failure)
                return failure;
            if (asJson) io.Out.WriteLine(Json(runName, result));
            else
            {
                io.Out.WriteLine($"stopped: {result.StopReason}");
                foreach (var task in session.Tasks.Concat(testTasks))
                {
                    var role = testTasks.Contains(task) ? "test" : "train";
                    io.Out.WriteLine(result.Solved.TryGetValue(task.Name, out var e)
                        ? $"  {task.Name} ({role}): solved in iteration {e.Iteration}, {e.Correct}/{e.Samples} samples correct"
                        : $"  {task.Name} ({role}): not solved");
                }
            }
            string? page = null;
            if (parsed.GetValue(html) is { } folder)
            {
                try
                {
                    page = ReportCommand.WriteHtml([(session.DbPath, session.Store)], [1, 5, 10], RunSummary.FastPs(), folder, parsed);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    io.Error.WriteLine($"stepforge: error: --html {folder}: {e.Message}");
                    return StepForgeCli.ExitBadInput;
                }
            }
            var testNames = testTasks.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            int solvedTest = result.Solved.Keys.Count(testNames.Contains);
            var samples = session.Store.Samples().Where(s => SelfImprovement.RunOf(s.Key.Experiment) == runName).ToList();
            (asJson ? io.Error : io.Out).WriteLine(ClosingLine.Text(
                $"{result.Solved.Count - solvedTest}/{session.Tasks.Count} training " + (testTasks.Count > 0 ? $"and {solvedTest}/{testTasks.Count} held-out tasks solved" : "tasks solved"),
                result.Iterations.Sum(i => i.InputTokens), result.Iterations.Sum(i => i.OutputTokens), samples, session.DbPath, page));
            return StepForgeCli.ExitOk;
        });
        return command;
    }

    private static DemoChoice? Demos(string text) => text switch { "shortest" => DemoChoice.Shortest, "cheapest" => DemoChoice.Cheapest, _ => null };

    private static string Settings(SamplingSession session) => StepForge.Agents.Settings.Name(session.Options.Setting);

    private static string Json(string experiment, ImproveResult result) => JsonSerializer.Serialize(new ImproveJson(experiment, result.StopReason, result.Iterations,
        [.. result.Solved.Values.OrderBy(e => e.Task.Name, StringComparer.Ordinal).Select(e => new SolvedTaskJson(e.Task.Name, e.Iteration, e.Correct, e.Samples, e.Program))]),
        CliJson.Style.ImproveJson);
}
