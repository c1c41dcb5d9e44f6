using System.CommandLine;
using System.Globalization;
using StepForge.Agents;
using StepForge.Learning;
using StepForge.Llm;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary>An open experiment: the model client, the store, the tasks and how to sample. Disposing closes them.</summary>
public sealed class SamplingSession(ModelSpec spec, IReadOnlyList<TaskSpec> tasks, string dbPath, ExperienceStore store, ResponseCache cache,
    IProposer proposer, ModelClient? client, SamplerOptions options, SampleProgressDisplay display) : IDisposable
{
    public ModelSpec Spec { get; } = spec;

    public IReadOnlyList<TaskSpec> Tasks { get; } = tasks;

    public string DbPath { get; } = dbPath;

    public ExperienceStore Store { get; } = store;

    /// <summary>Who writes the programs: the model behind a prompt, or the built-in search.</summary>
    public IProposer Proposer { get; } = proposer;

    public SamplerOptions Options { get; } = options;

    public SampleProgressDisplay Display { get; } = display;

    public void Dispose()
    {
        client?.Dispose();
        cache.Dispose();
        Store.Dispose();
    }
}

/// <summary>The options <c>run</c> and <c>improve</c> share: the model, how to sample and verify, the tasks, the store.</summary>
public sealed class SamplingArguments
{
    public Option<string> Model { get; } = new("--model")
    {
        Description = "The model: anthropic:NAME, openai:NAME, a bare name (claude-* is Anthropic's; others speak OpenAI's API), or builtin:search " +
                      "(StepForge's model-free search; the default when neither --model nor STEPFORGE_MODEL is set).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("STEPFORGE_MODEL") is { Length: > 0 } configured ? configured : ModelSpec.BuiltinSearch,
    };
    public SearchArguments Search { get; } = new();
    public Option<string?> BaseUrl { get; } = new("--base-url") { Description = "An OpenAI-compatible server (DeepSeek, Together, vLLM, Ollama), e.g. http://localhost:11434/v1." };
    public Option<string?> KeyEnv { get; } = new("--api-key-env") { Description = "Environment variable holding the API key (default: ANTHROPIC_API_KEY, OPENAI_API_KEY, DEEPSEEK_API_KEY or TOGETHER_API_KEY by provider)." };
    public Option<string> Setting { get; } = new("--setting") { Description = "single (proposer alone), agent (proposer + guardian), single-ws (the task as Python source, no structural IR).", DefaultValueFactory = _ => "single" };
    public Option<string> Guardian { get; } = new("--guardian") { Description = "In the agent setting: repair (StepForge inserts Copy ops) or model (a second model call).", DefaultValueFactory = _ => "repair" };
    public Option<int> Samples { get; } = new("--samples") { Description = "Samples per task and temperature.", DefaultValueFactory = _ => 1 };
    public Option<string> Temperature { get; } = new("--temperature") { Description = "Temperatures, comma-separated (each gets --samples samples).", DefaultValueFactory = _ => "0.7", HelpName = "T[,T...]" };
    public Option<string[]> Tasks { get; } = new("--tasks") { Description = "Task files or folders (their impl: is never shown to the model).", Required = true, AllowMultipleArgumentsPerToken = true };
    public Option<string?> Db { get; } = new("--db") { Description = "The experience store (SQLite). Default: runs/MODEL-SETTING.sqlite. A rerun with the same file continues where the last stopped." };
    public Option<int> Concurrency { get; } = new("--concurrency") { Description = "Model calls in flight at once.", DefaultValueFactory = _ => 8 };
    public Option<int> Feedback { get; } = new("--feedback") { Description = "Feedback rounds: a rejected program goes back to the proposer with its verdict, up to this many times.", DefaultValueFactory = _ => 0 };
    public Option<int> MaxTokens { get; } = new("--max-tokens") { Description = "Output token limit per call.", DefaultValueFactory = _ => 4096 };
    public Option<double> Timeout { get; } = new("--timeout") { Description = "Seconds to wait for one answer, headers and body, before retrying.", DefaultValueFactory = _ => 300 };
    public Option<long> MaxAnswerBytes { get; } = new("--max-answer-bytes") { Description = "Longest answer read; a longer one is a failed sample, not stored.", DefaultValueFactory = _ => RetryPolicy.DefaultMaxAnswerBytes };
    public Option<int> Retries { get; } = new("--retries") { Description = "Retries of a call on rate limits, server errors and timeouts (honouring Retry-After).", DefaultValueFactory = _ => 5 };
    public Option<string?> Price { get; } = new("--price") { Description = "Dollars per million input and output tokens, e.g. 3,15 (known models are priced already).", HelpName = "IN,OUT" };
    public Option<int> Trials { get; } = new("--trials") { Description = "Seeds each candidate is verified on.", DefaultValueFactory = _ => 2 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, BaseUrl, KeyEnv, Setting, Guardian, Samples, Temperature, Tasks, Db, Concurrency, Feedback, MaxTokens, Timeout, MaxAnswerBytes, Retries, Price, Trials })
            command.Add(option);
        Search.AddTo(command);
    }

    /// <summary>Validates the options, loads the tasks and opens the store and the model; on a problem writes one line and returns null.</summary>
    /// <param name="extraTasks">More task paths (improve's test set), loaded like --tasks; null when there are none.</param>
    public SamplingSession? Open(ParseResult parsed, ConsoleIo io, string experiment, string[]? extraTasks, out IReadOnlyList<TaskSpec> extra)
    {
        extra = [];
        SamplingSession? Bad(string message)
        {
            io.Error.WriteLine($"stepforge: error: {message}");
            return null;
        }
        ModelSpec spec;
        try
        {
            spec = ModelSpec.Parse(parsed.GetValue(Model)!, parsed.GetValue(BaseUrl), parsed.GetValue(KeyEnv));
        }
        catch (ArgumentException e)
        {
            return Bad(e.Message);
        }
        if (!Settings.TryParse(parsed.GetValue(Setting)!, out var setting)) return Bad($"--setting {parsed.GetValue(Setting)}: expected single, agent or single-ws");
        var guardian = parsed.GetValue(Guardian) switch { "repair" => (GuardianKind?)GuardianKind.Repair, "model" => GuardianKind.Model, _ => null };
        if (guardian is null) return Bad($"--guardian {parsed.GetValue(Guardian)}: expected repair or model");
        if (parsed.GetValue(Samples) < 1) return Bad("--samples must be at least 1");
        if (parsed.GetValue(Concurrency) < 1) return Bad("--concurrency must be at least 1");
        if (parsed.GetValue(Feedback) < 0) return Bad("--feedback must be 0 or more");
        if (parsed.GetValue(Trials) < 1) return Bad("--trials must be at least 1");
        if (parsed.GetValue(Timeout) <= 0) return Bad("--timeout must be positive");
        if (parsed.GetValue(MaxAnswerBytes) < 1024) return Bad("--max-answer-bytes must be at least 1024");
        if (parsed.GetValue(Retries) < 0) return Bad("--retries must be 0 or more");
        if (Search.Problem(parsed) is { } searchProblem) return Bad(searchProblem);
        bool builtin = spec.Dialect == ModelDialect.Builtin;
        if (builtin && setting == Agents.Setting.SingleWs) return Bad("builtin:search takes the task as data, not as a prompt: single-ws is a prompt format; use --setting single or agent");
        if (builtin && guardian == GuardianKind.Model) return Bad("builtin:search writes affine programs and answers no guardian prompt: use --guardian repair");
        if (!TryParseList(parsed.GetValue(Temperature)!, double.Parse, t => t is >= 0 and <= 2, out var temperatures))
            return Bad($"--temperature {parsed.GetValue(Temperature)}: expected numbers from 0 to 2, comma-separated");
        Price? price = null;
        if (parsed.GetValue(Price) is { } priceText)
        {
            try { price = Llm.Price.Parse(priceText); }
            catch (ArgumentException e) { return Bad(e.Message); }
        }
        var apiKey = Environment.GetEnvironmentVariable(spec.KeyVariable);
        if (string.IsNullOrEmpty(apiKey) && !spec.IsLocal)
            return Bad($"no API key for {spec.Model}: set {spec.KeyVariable} (or name another variable with --api-key-env)");

        IReadOnlyList<TaskSpec> tasks;
        try
        {
            tasks = TaskLocator.LoadTasks(parsed.GetValue(Tasks) ?? []);
            if (extraTasks is not null) extra = TaskLocator.LoadTasks(extraTasks);
        }
        catch (TaskFileException e)
        {
            return Bad(e.Message);
        }
        if (tasks.Count == 0) return Bad("no task files found under --tasks");

        var dbPath = parsed.GetValue(Db) ?? Path.Combine("runs", $"{Safe(spec.Model)}-{Settings.Name(setting)}.sqlite");
        ExperienceStore store;
        try
        {
            store = new ExperienceStore(dbPath);
        }
        catch (ExperienceStoreException e)
        {
            return Bad(e.Message);
        }
        var cache = new ResponseCache(dbPath);
        var retry = new RetryPolicy(parsed.GetValue(Retries) + 1, AttemptTimeout: TimeSpan.FromSeconds(parsed.GetValue(Timeout)), MaxAnswerBytes: parsed.GetValue(MaxAnswerBytes));
        // The search is one core's work per task: more searches than cores only share the cores' time.
        int concurrency = builtin ? Math.Min(parsed.GetValue(Concurrency), Environment.ProcessorCount) : parsed.GetValue(Concurrency);
        var options = new SamplerOptions(setting, parsed.GetValue(Samples), temperatures, guardian.Value, parsed.GetValue(Feedback),
            concurrency, parsed.GetValue(MaxTokens), experiment, new VerifyOptions(Trials: parsed.GetValue(Trials)));
        var display = new SampleProgressDisplay(io.Error, (tasks.Count + extra.Count) * temperatures.Count * options.Samples);
        var client = builtin ? null : new ModelClient(new ModelSettings(spec, apiKey, retry, options.Concurrency, price), cache, display.Note);
        IProposer proposer = client is null ? new SearchProposer(Search.Options(parsed)) : new LlmProposer(client);
        return new SamplingSession(spec, tasks, dbPath, store, cache, proposer, client, options, display);
    }

    /// <summary>Runs work until it ends, Ctrl+C, or a fatal model failure; returns an exit code when it did not end well.</summary>
    public static int? Execute(ConsoleIo io, SamplingSession session, Func<CancellationToken, Task> work)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            session.Display.RunAsync(async () =>
            {
                await work(cancel.Token).ConfigureAwait(false);
                return 0;
            }).GetAwaiter().GetResult();
            return null;
        }
        catch (ModelCallException e)
        {
            io.Error.WriteLine($"stepforge: error: {e.Message} (finished samples are kept in {session.DbPath})");
            return StepForgeCli.ExitBadInput;
        }
        catch (ArgumentException e)
        {
            io.Error.WriteLine($"stepforge: error: {e.Message}");
            return StepForgeCli.ExitBadInput;
        }
        catch (OperationCanceledException)
        {
            io.Error.WriteLine($"stepforge: interrupted; finished samples are kept in {session.DbPath}; run the same command again to continue");
            return StepForgeCli.ExitRejected;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_'));

    public static bool TryParseList<T>(string text, Func<string, IFormatProvider, T> parse, Func<T, bool> valid, out IReadOnlyList<T> values)
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
}
