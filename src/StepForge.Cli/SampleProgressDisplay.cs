using Spectre.Console;
using StepForge.Agents;
using StepForge.Learning;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary>
/// Progress of a sampling run on stderr: a live bar with counts when stderr is a terminal, otherwise one line per
/// finished sample (for logs and CI). Counts are those of the current sampling round: the run, or the iteration of the
/// self-improvement loop it names. Retry notes go into the bar's caption, or onto their own lines.
/// </summary>
public sealed class SampleProgressDisplay : IProgress<SampleProgress>, IIterationProgress
{
    private readonly TextWriter _error;
    private readonly int _total;
    private readonly Lock _gate = new();
    private ProgressTask? _bar;
    private int _correct, _failed, _retryLines;
    private string? _lastNote, _stage;

    /// <param name="total">Samples the run plans, for the bar until a round says how many it has.</param>
    public SampleProgressDisplay(TextWriter error, int total)
    {
        _error = error;
        _total = total;
    }

    /// <summary>A live bar only for a person at a terminal; in-process callers (tests) and redirected output get lines.</summary>
    private bool Live => ReferenceEquals(_error, Console.Error) && !Console.IsErrorRedirected;

    public async Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        if (!Live) return await work().ConfigureAwait(false);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                lock (_gate) _bar = context.AddTask(Caption(), maxValue: Math.Max(1, _total));
                try
                {
                    return await work().ConfigureAwait(false);
                }
                finally
                {
                    lock (_gate) _bar.StopTask();
                }
            }).ConfigureAwait(false);
    }

    /// <summary>An iteration of the loop begins: the counts start again, over its samples.</summary>
    public void Iteration(int iteration, int samples)
    {
        lock (_gate)
        {
            _stage = $"iteration {iteration}";
            _correct = _failed = 0;
            if (_bar is null) return;
            _bar.Value = 0;
            _bar.MaxValue = Math.Max(1, samples);
            _bar.Description = Caption();
        }
    }

    public void Report(SampleProgress p)
    {
        lock (_gate)
        {
            if (p.Verdict?.IsCorrect == true) _correct++;
            if (p.Error is not null) _failed++;
            if (_bar is not null)
            {
                _bar.Increment(1);
                _bar.Description = Caption();
                return;
            }
            if (p.Skipped) return;
            var what = p.Error is not null ? "error: " + p.Error : p.Verdict is { } v ? Verdict.KindName(v.Kind) : "?";
            var count = $"{p.Done}/{p.Total}".PadLeft(2 * p.Total.ToString(System.Globalization.CultureInfo.InvariantCulture).Length + 1);
            _error.WriteLine(_stage is null ? $"[{count}] {p.Task}: {what}" : $"[{_stage}: {count}] {p.Task}: {what}");
        }
    }

    /// <summary>A retry of a model call (rate limit, server error, timeout).</summary>
    public void Note(string note)
    {
        lock (_gate)
        {
            _lastNote = note;
            if (_bar is not null) _bar.Description = Caption();
            else if (++_retryLines <= 20) _error.WriteLine($"retry: {note}");
            else if (_retryLines == 21) _error.WriteLine("retry: (more retries; not shown)");
        }
    }

    private string Caption() =>
        Markup.Escape((_stage is null ? "" : _stage + ": ") + $"{_correct} correct, {_failed} failed" + (_lastNote is null ? "" : $"; last retry: {Shorten(_lastNote)}"));

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
