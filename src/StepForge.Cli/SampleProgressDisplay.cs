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
    private readonly TextWriter error;
    private readonly int total;
    private readonly Lock gate = new();
    private ProgressTask? bar;
    private int correct, failed, retryLines;
    private string? lastNote, stage;

    /// <param name="total">Samples the run plans, for the bar until a round says how many it has.</param>
    public SampleProgressDisplay(TextWriter error, int total)
    {
        this.error = error;
        this.total = total;
    }

    /// <summary>A live bar only for a person at a terminal; in-process callers (tests) and redirected output get lines.</summary>
    private bool Live => ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;

    public async Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        if (!Live) return await work().ConfigureAwait(false);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                lock (gate) bar = context.AddTask(Caption(), maxValue: Math.Max(1, total));
                try
                {
                    return await work().ConfigureAwait(false);
                }
                finally
                {
                    lock (gate) bar.StopTask();
                }
            }).ConfigureAwait(false);
    }

    /// <summary>An iteration of the loop begins: the counts start again, over its samples.</summary>
    public void Iteration(int iteration, int samples)
    {
        lock (gate)
        {
            stage = $"iteration {iteration}";
            correct = failed = 0;
            if (bar is null) return;
            bar.Value = 0;
            bar.MaxValue = Math.Max(1, samples);
            bar.Description = Caption();
        }
    }

    public void Report(SampleProgress p)
    {
        lock (gate)
        {
            if (p.Verdict?.IsCorrect == true) correct++;
            if (p.Error is not null) failed++;
            if (bar is not null)
            {
                bar.Increment(1);
                bar.Description = Caption();
                return;
            }
            if (p.Skipped) return;
            var what = p.Error is not null ? "error: " + p.Error : p.Verdict is { } v ? Verdict.KindName(v.Kind) : "?";
            var count = $"{p.Done}/{p.Total}".PadLeft(2 * p.Total.ToString(System.Globalization.CultureInfo.InvariantCulture).Length + 1);
            error.WriteLine(stage is null ? $"[{count}] {p.Task}: {what}" : $"[{stage}: {count}] {p.Task}: {what}");
        }
    }

    /// <summary>A retry of a model call (rate limit, server error, timeout).</summary>
    public void Note(string note)
    {
        lock (gate)
        {
            lastNote = note;
            if (bar is not null) bar.Description = Caption();
            else if (++retryLines <= 20) error.WriteLine($"retry: {note}");
            else if (retryLines == 21) error.WriteLine("retry: (more retries; not shown)");
        }
    }

    private string Caption() =>
        Markup.Escape((stage is null ? "" : stage + ": ") + $"{correct} correct, {failed} failed" + (lastNote is null ? "" : $"; last retry: {Shorten(lastNote)}"));

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
