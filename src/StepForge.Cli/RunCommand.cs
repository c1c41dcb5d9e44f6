using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using StepForge.Agents;
using StepForge.Learning;
using StepForge.Llm;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary><c>stepforge run</c>: sample programs from a model for every task, verify them, store everything, print pass@k.</summary>
public static class RunCommand
{
    public static Command Create(ConsoleIo io)
    {
        var model = new Option<string>("--model") { Description = "The model: anthropic:NAME, openai:NAME, or a bare name (claude-* is Anthropic's; others speak OpenAI's API).", Required = true };
        var baseUrl = new Option<string?>("--base-url") { Description = "An OpenAI-compatible server (DeepSeek, Together, vLLM, Ollama), e.g. http://localhost:11434/v1." };
        var keyEnv = new Option<string?>("--api-key-env") { Description = "Environment variable holding the API key (default: ANTHROPIC_API_KEY, OPENAI_API_KEY, DEEPSEEK_API_KEY or TOGETHER_API_KEY by provider)." };
        var setting = new Option<string>("--setting") { Description = "single (proposer alone), agent (proposer + guardian), single-ws (the task as Python source, no structural IR).", DefaultValueFactory = _ => "single" };
        var guardian = new Option<string>("--guardian") { Description = "In the agent setting: repair (StepForge inserts Copy ops) or model (a second model call).", DefaultValueFactory = _ => "repair" };
        var samples = new Option<int>("--samples") { Description = "Samples per task and temperature.", DefaultValueFactory = _ => 1 };
        var temperature = new Option<string>("--temperature") { Description = "Temperatures, comma-separated (each gets --samples samples).", DefaultValueFactory = _ => "0.7", HelpName = "T[,T...]" };
        var tasks = new Option<string[]>("--tasks") { Description = "Task files or folders (their impl: is never shown to the model).", Required = true, AllowMultipleArgumentsPerToken = true };
        var db = new Option<string?>("--db") { Description = "The experience store (SQLite). Default: runs/MODEL-SETTING.sqlite. A rerun with the same file continues where the last stopped." };
        var experiment = new Option<string>("--experiment") { Description = "Name of this experiment inside the store.", DefaultValueFactory = _ => "run" };
        var concurrency = new Option<int>("--concurrency") { Description = "Model calls in flight at once.", DefaultValueFactory = _ => 8 };
        var feedback = new Option<int>("--feedback") { Description = "Feedback rounds: a rejected program goes back to the proposer with its verdict, up to this many times.", DefaultValueFactory = _ => 0 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Output token limit per call.", DefaultValueFactory = _ => 4096 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for one answer before retrying.", DefaultValueFactory = _ => 300 };
        var retries = new Option<int>("--retries") { Description = "Retries of a call on rate limits, server errors and timeouts (honouring Retry-After).", DefaultValueFactory = _ => 5 };
        var price = new Option<string?>("--price") { Description = "Dollars per million input and output tokens, e.g. 3,15 (known models are priced already).", HelpName = "IN,OUT" };
        var trials = new Option<int>("--trials") { Description = "Seeds each candidate is verified on.", DefaultValueFactory = _ => 2 };
        var ks = new Option<string>("--k") { Description = "The k of pass@k to report, comma-separated.", DefaultValueFactory = _ => "1,5,10" };
        var json = new Option<bool>("--json") { Description = "Print the results as one JSON object." };
        var csv = new Option<string?>("--csv") { Description = "Also write the per-task results to this CSV file." };
        var command = new Command("run",
            "Ask a model for STeP programs for every task (n samples per temperature, in parallel), verify each, store prompts, answers, " +
            "programs, verdicts and tokens in the experience store as they finish, and print per-task and per-group results with pass@k.\n" +
            "Exit 0 when every sample was obtained, 1 when some calls failed (rerun to retry just those), 2 on bad input or an unreachable model.")
        {
            model, baseUrl, keyEnv, setting, guardian, samples, temperature, tasks, db, experiment, concurrency, feedback, maxTokens, timeout, retries,
            price, trials, ks, json, csv,
        };
        command.SetAction(parsed =>
        {
            int Bad(string message)
            {
                io.Error.WriteLine($"stepforge: error: {message}");
                return StepForgeCli.ExitBadInput;
            }
            ModelSpec spec;
            try
            {
                spec = ModelSpec.Parse(parsed.GetValue(model)!, parsed.GetValue(baseUrl), parsed.GetValue(keyEnv));
            }
            catch (ArgumentException e)
            {
                return Bad(e.Message);
            }
            if (!Settings.TryParse(parsed.GetValue(setting)!, out var chosen)) return Bad($"--setting {parsed.GetValue(setting)}: expected single, agent or single-ws");
            var guardianKind = parsed.GetValue(guardian) switch { "repair" => (GuardianKind?)GuardianKind.Repair, "model" => GuardianKind.Model, _ => null };
            if (guardianKind is null) return Bad($"--guardian {parsed.GetValue(guardian)}: expected repair or model");
            if (parsed.GetValue(samples) < 1) return Bad("--samples must be at least 1");
            if (parsed.GetValue(concurrency) < 1) return Bad("--concurrency must be at least 1");
            if (parsed.GetValue(feedback) < 0) return Bad("--feedback must be 0 or more");
            if (parsed.GetValue(trials) < 1) return Bad("--trials must be at least 1");
            if (parsed.GetValue(timeout) <= 0) return Bad("--timeout must be positive");
            if (parsed.GetValue(retries) < 0) return Bad("--retries must be 0 or more");
            if (!TryParseList(parsed.GetValue(temperature)!, double.Parse, t => t is >= 0 and <= 2, out var temperatures))
                return Bad($"--temperature {parsed.GetValue(temperature)}: expected numbers from 0 to 2, comma-separated");
            if (!TryParseList(parsed.GetValue(ks)!, int.Parse, k => k >= 1, out var kList)) return Bad($"--k {parsed.GetValue(ks)}: expected positive integers, comma-separated");
            Price? priceValue = null;
            if (parsed.GetValue(price) is { } priceText)
            {
                try { priceValue = Price.Parse(priceText); }
                catch (ArgumentException e) { return Bad(e.Message); }
            }
            var apiKey = Environment.GetEnvironmentVariable(spec.KeyVariable);
            if (string.IsNullOrEmpty(apiKey) && !spec.IsLocal)
                return Bad($"no API key for {spec.Model}: set {spec.KeyVariable} (or name another variable with --api-key-env)");

            IReadOnlyList<TaskSpec> taskList;
            try
            {
                taskList = TaskLocator.LoadTasks(parsed.GetValue(tasks) ?? []);
            }
            catch (TaskFileException e)
            {
                return Bad(e.Message);
            }
            if (taskList.Count == 0) return Bad("no task files found under --tasks");

            var dbPath = parsed.GetValue(db) ?? Path.Combine("runs", $"{Safe(spec.Model)}-{Settings.Name(chosen)}.sqlite");
            ExperienceStore store;
            try
            {
                store = new ExperienceStore(dbPath);
            }
            catch (ExperienceStoreException e)
            {
                return Bad(e.Message);
            }
            using var _ = store;
            using var cache = new ResponseCache(dbPath);
            store.AddTasks(taskList);
            var retryPolicy = new RetryPolicy(parsed.GetValue(retries) + 1, AttemptTimeout: TimeSpan.FromSeconds(parsed.GetValue(timeout)));
            int planned = taskList.Count * temperatures.Count * parsed.GetValue(samples);
            var display = new SampleProgressDisplay(io.Error, planned);
            using var client = new ModelClient(new ModelSettings(spec, apiKey, retryPolicy, parsed.GetValue(concurrency), priceValue), cache, display.Note);
            var options = new SamplerOptions(chosen, parsed.GetValue(samples), temperatures, guardianKind.Value, parsed.GetValue(feedback),
                parsed.GetValue(concurrency), parsed.GetValue(maxTokens), parsed.GetValue(experiment)!, new VerifyOptions(Trials: parsed.GetValue(trials)));
            var sampler = new Sampler(client, store, options);

            io.Error.WriteLine($"{spec.Id}, setting {Settings.Name(chosen)}: {taskList.Count} task(s) x {temperatures.Count} temperature(s) x {options.Samples} sample(s) = {planned}; store {dbPath}");
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            SamplerSummary summary;
            try
            {
                summary = display.RunAsync(() => sampler.RunAsync(taskList, null, display, cancel.Token)).GetAwaiter().GetResult();
            }
            catch (ModelCallException e)
            {
                return Bad(e.Message + $" (finished samples are kept in {dbPath})");
            }
            catch (OperationCanceledException)
            {
                io.Error.WriteLine($"stepforge: interrupted; finished samples are kept in {dbPath}; run the same command again to continue");
                return StepForgeCli.ExitRejected;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }

            var stored = store.Samples(options.Experiment).Where(s => s.Key.Model == spec.Id && s.Key.Setting == Settings.Name(chosen)
                && taskList.Any(t => t.Name == s.Key.Task) && temperatures.Contains(s.Key.Temperature) && s.Key.Index < options.Samples).ToList();
            var perTask = RunSummary.PerTask(stored, kList);
            var perGroup = RunSummary.PerGroup(perTask, kList);
            if (parsed.GetValue(csv) is { } csvPath)
            {
                try { File.WriteAllText(csvPath, Csv(perTask, kList)); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Bad($"--csv {csvPath}: {e.Message}"); }
            }
            if (parsed.GetValue(json)) io.Out.WriteLine(Json(spec, chosen, dbPath, summary, perTask, perGroup));
            else Print(io.Out, perTask, perGroup, kList, summary, client.HasPrice);
            if (summary.Failed > 0)
                io.Error.WriteLine($"{summary.Failed} sample(s) could not be obtained from the model (see the errors table in {dbPath}); run the same command again to retry them");
            return summary.Failed > 0 ? StepForgeCli.ExitRejected : StepForgeCli.ExitOk;
        });
        return command;
    }

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_'));

    private static bool TryParseList<T>(string text, Func<string, IFormatProvider, T> parse, Func<T, bool> valid, out IReadOnlyList<T> values)
    {
        var result = new List<T>();
        values = result;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                var value = parse(part, CultureInfo.InvariantCulture);
                if (!valid(value)) return false;
                if (!result.Contains(value)) result.Add(value);
            }
            catch (FormatException) { return false; }
            catch (OverflowException) { return false; }
        }
        return result.Count > 0;
    }

    private static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Money(decimal? cost) => cost is { } c ? "$" + c.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    private static void Print(TextWriter output, IReadOnlyList<ResultRow> tasks, IReadOnlyList<ResultRow> groups, IReadOnlyList<int> ks, SamplerSummary summary, bool priced)
    {
        void Table(string title, IReadOnlyList<ResultRow> rows, bool isGroup)
        {
            int width = Math.Max(title.Length, rows.Count == 0 ? 0 : rows.Max(r => r.Name.Length));
            var header = new StringBuilder($"{title.PadRight(width)}  ");
            if (!isGroup) header.Append($"{"group",-10}  ");
            else header.Append($"{"tasks",5}  {"solved",6}  ");
            header.Append($"{"samples",7}  {"correct",7}  {"unique",6}");
            foreach (var k in ks) header.Append($"  {"pass@" + k,8}");
            header.Append($"  {"tokens in",10}  {"tokens out",10}  {"cost",9}");
            output.WriteLine(header.ToString());
            foreach (var r in rows)
            {
                var line = new StringBuilder($"{r.Name.PadRight(width)}  ");
                if (!isGroup) line.Append($"{(r.Group ?? "-"),-10}  ");
                else line.Append($"{r.Tasks,5}  {r.Solved,6}  ");
                line.Append($"{r.Samples,7}  {r.Correct,7}  {r.UniqueCorrect,6}");
                foreach (var k in ks) line.Append($"  {(r.PassAt.TryGetValue(k, out var p) ? F(p) : "-"),8}");
                line.Append($"  {r.InputTokens,10}  {r.OutputTokens,10}  {Money(r.Cost),9}");
                output.WriteLine(line.ToString());
            }
        }
        foreach (var run in tasks.GroupBy(t => (t.Model, t.Setting)))
        {
            output.WriteLine($"{run.Key.Model}, setting {run.Key.Setting}");
            Table("task", [.. run], isGroup: false);
            output.WriteLine();
            Table("group", [.. groups.Where(g => g.Model == run.Key.Model && g.Setting == run.Key.Setting)], isGroup: true);
            output.WriteLine();
        }
        output.WriteLine($"samples: {summary.Planned} planned, {summary.Skipped} already stored, {summary.Finished} new, {summary.Failed} failed; {summary.ModelCalls} model call(s) made, {summary.Retries} retried" +
            (priced ? "" : "; cost unknown for this model (give --price IN,OUT)"));
    }

    private static string Csv(IReadOnlyList<ResultRow> rows, IReadOnlyList<int> ks)
    {
        var s = new StringBuilder("model,setting,task,group,samples,correct,unique_correct");
        foreach (var k in ks) s.Append(CultureInfo.InvariantCulture, $",pass_at_{k}");
        s.AppendLine(",input_tokens,output_tokens,cost");
        static string Q(string? v) => v is null ? "" : v.Contains(',', StringComparison.Ordinal) || v.Contains('"', StringComparison.Ordinal) ? "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : v;
        foreach (var r in rows)
        {
            s.Append(CultureInfo.InvariantCulture, $"{Q(r.Model)},{Q(r.Setting)},{Q(r.Name)},{Q(r.Group)},{r.Samples},{r.Correct},{r.UniqueCorrect}");
            foreach (var k in ks) s.Append(',').Append(r.PassAt.TryGetValue(k, out var p) ? p.ToString("R", CultureInfo.InvariantCulture) : "");
            s.AppendLine(CultureInfo.InvariantCulture, $",{r.InputTokens},{r.OutputTokens},{(r.Cost is { } c ? c.ToString(CultureInfo.InvariantCulture) : "")}");
        }
        return s.ToString();
    }

    private static string Json(ModelSpec spec, Setting setting, string db, SamplerSummary summary, IReadOnlyList<ResultRow> tasks, IReadOnlyList<ResultRow> groups)
    {
        object Row(ResultRow r) => new
        {
            name = r.Name,
            group = r.Group,
            model = r.Model,
            setting = r.Setting,
            tasks = r.Tasks,
            solved = r.Solved,
            samples = r.Samples,
            correct = r.Correct,
            unique_correct = r.UniqueCorrect,
            pass_at = r.PassAt.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
            input_tokens = r.InputTokens,
            output_tokens = r.OutputTokens,
            cost = r.Cost,
        };
        return JsonSerializer.Serialize(new
        {
            model = spec.Id,
            setting = Settings.Name(setting),
            db,
            planned = summary.Planned,
            skipped = summary.Skipped,
            finished = summary.Finished,
            failed = summary.Failed,
            model_calls = summary.ModelCalls,
            retries = summary.Retries,
            tasks = tasks.Select(Row),
            groups = groups.Select(Row),
        });
    }
}
