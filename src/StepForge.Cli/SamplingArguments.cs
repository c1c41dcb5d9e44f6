using System.CommandLine;
using StepForge.Agents;
using StepForge.Learning;
using StepForge.Llm;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary>An open experiment: the model client, the store, the tasks and how to sample. Disposing closes them.</summary>
public sealed class SamplingSession(ModelSpec spec, IReadOnlyList<TaskSpec> tasks, string dbPath, ExperienceStore store, ResponseCache cache,
    IProposer proposer, ModelPipeline? model, SamplerOptions options, SampleProgressDisplay display) : IDisposable
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
        model?.Dispose();
        cache.Dispose();
        Store.Dispose();
    }
}

/// <summary>
/// The arguments and options <c>run</c> and <c>improve</c> share: the tasks, the experiment's name, the model, how to
/// sample and verify, the store. Values are checked by validators (System.CommandLine refuses a bad one before the
/// action runs, with the one-line message); <see cref="Open"/> then loads what lies outside the command line.
/// </summary>
public sealed class SamplingArguments
{
    /// <param name="command">The command (run or improve): its name is the default experiment name and part of every definition.</param>
    public SamplingArguments(ConsoleIo io, string command)
    {
        _io = io;
        _command = command;
        var defaultExperiment = command;
        Experiment = new Option<string>("--experiment", "--name")
        {
            Description = "Name of this experiment inside the store; the same command with the same name continues it, another definition under it is refused.",
            DefaultValueFactory = _ => defaultExperiment,
        }.Refusing(io, name => name.Trim().Length == 0 || name.Contains("/iter-", StringComparison.Ordinal) ? $"--experiment '{name}': give a name (without /iter-)" : null);
        Setting.Refusing(io, text => Settings.TryParse(text, out _) ? null : $"--setting {text}: expected single, agent or single-ws");
        Guardian.Refusing(io, text => ParseGuardian(text) is null ? $"--guardian {text}: expected repair or model" : null);
        Samples.Refusing(io, n => n < 1 ? "--samples must be at least 1" : null);
        Temperature.Refusing(io, text => ParseTemperatures(text) is null ? $"--temperature {text}: expected numbers from 0 to 2, comma-separated" : null);
        Concurrency.Refusing(io, n => n < 1 ? "--concurrency must be at least 1" : null);
        Feedback.Refusing(io, n => n < 0 ? "--feedback must be 0 or more" : null);
        Trials.Refusing(io, n => n < 1 ? "--trials must be at least 1" : null);
        Timeout.Refusing(io, s => s <= 0 ? "--timeout must be positive" : null);
        MaxAnswerBytes.Refusing(io, n => n < 1024 ? "--max-answer-bytes must be at least 1024" : null);
        Retries.Refusing(io, n => n < 0 ? "--retries must be 0 or more" : null);
        Search = new SearchArguments(io);
        Price.Refusing(io, text => text is not null && PriceProblem(text) is { } problem ? problem : null);
    }

    private readonly ConsoleIo _io;
    private readonly string _command;

    public Argument<string[]> TaskPaths { get; } = new("TASK")
    {
        Description = "Task files or folders (their impl: is never shown to the model); none: the benchmark that ships with StepForge.",
        Arity = ArgumentArity.ZeroOrMore,
    };
    public Option<string[]> Tasks { get; } = new("--tasks") { Description = "The same as the TASK arguments.", AllowMultipleArgumentsPerToken = true, HelpName = "TASK" };
    public Option<string> Experiment { get; }
    public Option<string> Model { get; } = new("--model")
    {
        Description = "The model: anthropic:NAME, openai:NAME, a bare name (claude-* is Anthropic's; others speak OpenAI's API), or builtin:search " +
                      "(StepForge's model-free search; the default when neither --model nor STEPFORGE_MODEL is set).",
        DefaultValueFactory = _ => DefaultModel,
    };

    private static string DefaultModel => Environment.GetEnvironmentVariable("STEPFORGE_MODEL") is { Length: > 0 } configured ? configured : ModelSpec.BuiltinSearch;
    public SearchArguments Search { get; }
    public Option<string?> BaseUrl { get; } = new("--base-url") { Description = "An OpenAI-compatible server (DeepSeek, Together, vLLM, Ollama), e.g. http://localhost:11434/v1." };
    public Option<string?> KeyEnv { get; } = new("--api-key-env") { Description = "Environment variable holding the API key (default: ANTHROPIC_API_KEY, OPENAI_API_KEY, DEEPSEEK_API_KEY or TOGETHER_API_KEY by provider)." };
    public Option<string> Setting { get; } = new("--setting") { Description = "single (proposer alone), agent (proposer + guardian), single-ws (the task as Python source, no structural IR).", DefaultValueFactory = _ => DefaultSetting };

    private const string DefaultSetting = "single";
    public Option<string> Guardian { get; } = new("--guardian") { Description = "In the agent setting: repair (StepForge inserts Copy ops) or model (a second model call).", DefaultValueFactory = _ => "repair" };
    public Option<int> Samples { get; } = new("--samples") { Description = "Samples per task and temperature.", DefaultValueFactory = _ => 1 };
    public Option<string> Temperature { get; } = new("--temperature") { Description = "Temperatures, comma-separated (each gets --samples samples).", DefaultValueFactory = _ => "0.7", HelpName = "T[,T...]" };
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
        command.Add(TaskPaths.RefusingUnknownOptions(_io));
        foreach (var option in new Option[] { Tasks, Experiment, Model, BaseUrl, KeyEnv, Setting, Guardian, Samples, Temperature, Db, Concurrency, Feedback, MaxTokens, Timeout, MaxAnswerBytes, Retries, Price, Trials })
            command.Add(option);
        Search.AddTo(command);
        // The model is checked with its URL and key variable, and whatever gave it (--model or STEPFORGE_MODEL). A command's
        // validator runs before defaults are filled in: an option not given reads as null here.
        command.Validators.Add(result =>
        {
            ModelSpec spec;
            try
            {
                spec = ModelSpec.Parse(result.GetValue(Model) ?? DefaultModel, result.GetValue(BaseUrl), result.GetValue(KeyEnv));
            }
            catch (ArgumentException e)
            {
                _io.Refuse(result, e.Message);
                return;
            }
            if (spec.Dialect != ModelDialect.Builtin) return;
            if (Settings.TryParse(result.GetValue(Setting) ?? DefaultSetting, out var setting) && setting == Agents.Setting.SingleWs)
                _io.Refuse(result, "builtin:search takes the task as data, not as a prompt: single-ws is a prompt format; use --setting single or agent");
            else if (ParseGuardian(result.GetValue(Guardian) ?? "repair") == GuardianKind.Model)
                _io.Refuse(result, "builtin:search writes affine programs and answers no guardian prompt: use --guardian repair");
        });
    }

    /// <summary>The task paths given, as arguments or with --tasks (in that order); none means the bundled benchmark.</summary>
    public IReadOnlyList<string> TaskArguments(ParseResult parsed) => [.. parsed.GetValue(TaskPaths) ?? [], .. parsed.GetValue(Tasks) ?? []];

    /// <summary>
    /// Loads the tasks, opens the store and the experiment in it (a new one, or the same definition continued), and
    /// the model; on a problem (another definition under the experiment's name too) writes one line and returns null.
    /// </summary>
    /// <param name="extraTasks">More task paths (improve's test set), loaded like the tasks; null when there are none.</param>
    /// <param name="commandOptions">The command's own options that change results, as the definition records them.</param>
    public SamplingSession? Open(ParseResult parsed, string[]? extraTasks, IReadOnlyDictionary<string, string> commandOptions, out IReadOnlyList<TaskSpec> extra)
    {
        extra = [];
        SamplingSession? Bad(string message)
        {
            _io.Error.WriteLine($"stepforge: error: {message}");
            return null;
        }
        // The validators have accepted every value: these parse.
        var spec = ModelSpec.Parse(parsed.GetValue(Model)!, parsed.GetValue(BaseUrl), parsed.GetValue(KeyEnv));
        Settings.TryParse(parsed.GetValue(Setting)!, out var setting);
        var guardian = ParseGuardian(parsed.GetValue(Guardian)!) ?? throw OptionValues.Unchecked(Guardian);
        var temperatures = ParseTemperatures(parsed.GetValue(Temperature)!) ?? throw OptionValues.Unchecked(Temperature);
        var price = parsed.GetValue(Price) is { } priceText ? Llm.Price.Parse(priceText) : null;
        bool builtin = spec.Dialect == ModelDialect.Builtin;
        var apiKey = Environment.GetEnvironmentVariable(spec.KeyVariable);
        if (string.IsNullOrEmpty(apiKey) && !spec.IsLocal)
            return Bad($"no API key for {spec.Model}: set {spec.KeyVariable} (or name another variable with --api-key-env)");

        IReadOnlyList<TaskSpec> tasks;
        var paths = TaskArguments(parsed);
        try
        {
            if (paths.Count == 0)
                paths = [TaskLocator.BundledBenchmark ?? throw new TaskFileException("benchmark", null, "no TASK given, and no benchmark ships beside this stepforge: give task files or folders")];
            tasks = TaskLocator.LoadTasks(paths);
            if (extraTasks is not null) extra = TaskLocator.LoadTasks(extraTasks);
        }
        catch (TaskFileException e)
        {
            return Bad(e.Message);
        }
        if (tasks.Count == 0) return Bad($"no task files found under {string.Join(", ", paths)}");
        // Refused before the experiment is recorded, so that the corrected command starts it.
        if (tasks.Concat(extra).GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            return Bad(extra.Any(t => t.Name == twice.Key) && tasks.Any(t => t.Name == twice.Key)
                ? $"tasks in both the training and the test set: {string.Join(", ", tasks.Select(t => t.Name).Intersect(extra.Select(t => t.Name)))}"
                : $"two tasks are named {twice.Key} ({string.Join(", ", twice.Select(t => t.SourcePath))}); samples are stored by task name");

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
        var experiment = parsed.GetValue(Experiment)!.Trim();
        var definition = Definition(parsed, spec, setting, guardian, temperatures, tasks, extra, commandOptions);
        var (opening, difference) = store.OpenExperiment(experiment, definition, StepForgeCli.CommandLine(parsed), StepForgeCli.Version);
        if (opening == ExperimentOpening.Refused)
        {
            store.Dispose();
            return Bad($"{dbPath} already holds experiment '{experiment}', defined otherwise: {difference}; " +
                "give another --experiment NAME to start a new experiment (answers already bought are reused), or another --db FILE");
        }
        var cache = new ResponseCache(dbPath);
        var retry = new RetryPolicy(parsed.GetValue(Retries) + 1, AttemptTimeout: TimeSpan.FromSeconds(parsed.GetValue(Timeout)), MaxAnswerBytes: parsed.GetValue(MaxAnswerBytes));
        // The search is one core's work per task: more searches than cores only share the cores' time.
        int concurrency = builtin ? Math.Min(parsed.GetValue(Concurrency), Environment.ProcessorCount) : parsed.GetValue(Concurrency);
        var options = new SamplerOptions(setting, parsed.GetValue(Samples), temperatures, guardian, parsed.GetValue(Feedback),
            concurrency, parsed.GetValue(MaxTokens), experiment, new VerifyOptions(Trials: parsed.GetValue(Trials)));
        var display = new SampleProgressDisplay(_io.Error, (tasks.Count + extra.Count) * temperatures.Count * options.Samples);
        var model = builtin ? null : ModelPipeline.Create(new ModelSettings(spec, apiKey, retry, options.Concurrency, price), cache, display.Note);
        IProposer proposer = model is null ? new SearchProposer(Search.Options(parsed)) : new LlmProposer(model.Chat, spec.Id);
        return new SamplingSession(spec, tasks, dbPath, store, cache, proposer, model, options, display);
    }

    /// <summary>What defines this experiment: the command, model, setting, tasks by content and every option that changes results.</summary>
    private ExperimentDefinition Definition(ParseResult parsed, ModelSpec spec, Setting setting, GuardianKind guardian, IReadOnlyList<double> temperatures,
        IReadOnlyList<TaskSpec> tasks, IReadOnlyList<TaskSpec> test, IReadOnlyDictionary<string, string> commandOptions)
    {
        static string N(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var options = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--samples"] = parsed.GetValue(Samples).ToString(System.Globalization.CultureInfo.InvariantCulture),
            // The order temperatures are given in changes nothing.
            ["--temperature"] = string.Join(",", temperatures.Order().Select(N)),
            ["--trials"] = parsed.GetValue(Trials).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["--feedback"] = parsed.GetValue(Feedback).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (setting == Agents.Setting.Agent) options["--guardian"] = guardian == GuardianKind.Model ? "model" : "repair";
        if (spec.Dialect == ModelDialect.Builtin)
        {
            // The safety net changes no stored result: a search it stops is retried, never stored.
            options["--max-work"] = parsed.GetValue(Search.MaxWork).ToString(System.Globalization.CultureInfo.InvariantCulture);
            options["--max-candidates"] = parsed.GetValue(Search.MaxCandidates).ToString(System.Globalization.CultureInfo.InvariantCulture);
            options["--max-values"] = parsed.GetValue(Search.MaxValues).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else options["--max-tokens"] = parsed.GetValue(MaxTokens).ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (key, value) in commandOptions) options[key] = value;
        return new ExperimentDefinition(_command, spec.Id, Settings.Name(setting), ExperimentDefinition.Digests(tasks), ExperimentDefinition.Digests(test), options);
    }

    /// <summary>
    /// Runs work until it ends, is cancelled (Ctrl+C: System.CommandLine cancels the action's token), or a fatal model
    /// failure stops it; returns an exit code when it did not end well.
    /// </summary>
    public static async Task<int?> ExecuteAsync(ConsoleIo io, SamplingSession session, Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        try
        {
            await session.Display.RunAsync(async () =>
            {
                await work(cancellationToken).ConfigureAwait(false);
                return 0;
            }).ConfigureAwait(false);
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
    }

    private static GuardianKind? ParseGuardian(string text) => text switch { "repair" => GuardianKind.Repair, "model" => GuardianKind.Model, _ => null };

    private static IReadOnlyList<double>? ParseTemperatures(string text) =>
        OptionValues.TryParseList(text, double.Parse, t => t is >= 0 and <= 2, out var temperatures) ? temperatures : null;

    private static string? PriceProblem(string text)
    {
        try
        {
            Llm.Price.Parse(text);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_'));
}
