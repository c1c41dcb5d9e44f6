using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary><c>stepforge bench verify</c>: how fast the verifier is, measured on the tasks' reference programs.</summary>
public static class BenchCommand
{
    public static Command Create(ConsoleIo io)
    {
        var paths = new Argument<string[]>("PATH") { Description = "Task files or folders (their reference programs are verified).", Arity = ArgumentArity.OneOrMore }
            .RefusingUnknownOptions(io);
        var seconds = new Option<double>("--seconds") { Description = "Measuring time per task and per phase (one thread, then all threads), at least 0.05.", DefaultValueFactory = _ => 1.0 }
            .Refusing(io, s => s >= 0.05 && double.IsFinite(s) ? null : "--seconds must be at least 0.05");
        var threads = new Option<int>("--threads") { Description = "Threads for the parallel phase (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount }
            .Refusing(io, n => n >= 1 ? null : "--threads must be at least 1");
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object." };
        var size = new Option<string[]>("--size") { Description = "Run at other sizes, e.g. --size M=64 (repeatable).", HelpName = "SYM=VALUE" }.Sizes(io);
        var repair = new Option<bool>("--repair-affine") { Description = "Insert Copy where a reference program consumes a stream twice (for the upstream corpus)." };
        var baseSize = new Option<string[]>("--base-size")
        {
            Description = "With --size: measure how time grows with data from these sizes instead of each task's own (repeatable).",
            HelpName = "SYM=VALUE",
        }.Sizes(io);
        var fixedTolerance = new Option<bool>("--fixed-tolerance") { Description = "With --size: keep the float32 tolerance instead of widening it with the sizes (as verify --fixed-tolerance)." };
        var verify = new Command("verify",
            "Verify every task's reference program over and over with fresh seeds (the whole pipeline) and print verifications per " +
            "second on one thread and on several, median and worst latency per task, bytes allocated per verification, and the rate when " +
            "a task's data and reference are reused across candidates (reuse/s). With --size, each task is also timed at its own sizes, " +
            "to show how the time grows with the data. Its collector: line names the garbage collector the figures were taken under. See bench/README.md.\n" +
            StepForgeCli.ExitCodes("when every task was measured", "when some task could not be measured"))
        {
            paths, seconds, threads, json, size, baseSize, repair, fixedTolerance,
        };
        verify.Validators.Add(result =>
        {
            if (result.GetValue(baseSize) is { Length: > 0 } && result.GetValue(size) is not { Length: > 0 })
                io.Refuse(result, "--base-size needs --size (the sizes to measure at)");
        });
        verify.SetAction(parsed =>
        {
            var sizes = OptionValues.Sizes(parsed, size);
            var baseSizes = OptionValues.Sizes(parsed, baseSize);
            var tasks = new List<TaskSpec>();
            try
            {
                foreach (var file in TaskLocator.Expand(parsed.GetValue(paths) ?? []))
                {
                    if (!file.Named && !TaskLocator.LooksLikeTask(file.Path)) continue;
                    var task = TaskReader.ReadFile(file.Path);
                    if (task.Impl is not null) tasks.Add(task);
                }
            }
            catch (TaskFileException e)
            {
                io.Error.WriteLine($"stepforge: error: {e.Message}");
                return StepForgeCli.ExitBadInput;
            }
            if (tasks.Count == 0)
            {
                io.Error.WriteLine("stepforge: error: no task with a reference program (impl:) found");
                return StepForgeCli.ExitBadInput;
            }
            int threadCount = parsed.GetValue(threads);
            double perTask = parsed.GetValue(seconds);
            io.Error.WriteLine($"measuring {tasks.Count} task(s), {perTask:0.##} s each on 1 thread and on {threadCount}...");
            var report = VerificationBenchmark.Run(tasks, perTask, threadCount, new VerifyOptions(Sizes: sizes, RepairAffine: parsed.GetValue(repair), FixedTolerance: parsed.GetValue(fixedTolerance)),
                step => io.Error.Write(step == VerificationBenchmark.WarmUpProgress ? "warming up until the runtime has compiled the hot code; " : "."), baseSizes);
            io.Error.WriteLine();
            if (parsed.GetValue(json)) io.Out.WriteLine(Json(report));
            else Print(io.Out, report, baseSizes.Count > 0 ? string.Join(" ", baseSizes.Select(kv => $"{kv.Key}={kv.Value}")) : "the task's sizes");
            return report.Tasks.Any(t => t.Failure is not null) ? StepForgeCli.ExitRejected : StepForgeCli.ExitOk;
        });
        return new Command("bench", "Performance measurements.\n" + StepForgeCli.ExitCodes("when every task was measured", "when some task could not be measured")) { verify };
    }

    private static string F(double v, string format = "0") => v.ToString(format, CultureInfo.InvariantCulture);

    private static void Print(TextWriter output, BenchmarkReport report, string baseline)
    {
        int width = Math.Max(4, report.Tasks.Max(t => t.Task.Length));
        bool scaled = report.Tasks.Any(t => t.Baseline is not null);
        bool several = report.Threads > 1;
        output.WriteLine($"{"task".PadRight(width)}  {"1 thread/s",10}  {$"{report.Threads} threads/s",11}  {"speedup",7}  {"median ms",9}  {"worst ms",8}  {"KiB/verify",10}  {"reuse/s",8}  {"elements",9}  {"ns/elem",7}  {"gc %",5}" + (several ? $"  {$"gc % {report.Threads}",6}" : "")
            + (scaled ? $"  {"x data",7}  {"x time",7}  {"x ns/elem",9}" : ""));
        foreach (var t in report.Tasks)
        {
            if (t.Failure is not null)
            {
                output.WriteLine($"{t.Task.PadRight(width)}  not measured: {t.Failure}");
                continue;
            }
            output.WriteLine($"{t.Task.PadRight(width)}  {F(t.SingleThreadRate, t.SingleThreadRate < 10 ? "0.00" : "0"),10}  {F(t.MultiThreadRate, t.MultiThreadRate < 10 ? "0.00" : "0"),11}  {F(t.MultiThreadRate / t.SingleThreadRate, "0.00"),6}x  " +
                $"{F(t.MedianMilliseconds, "0.000"),9}  {F(t.WorstMilliseconds, "0.00"),8}  {F(t.AllocatedBytesPerVerification / 1024.0, "0.0"),10}  {F(t.ReuseRate, t.ReuseRate < 10 ? "0.00" : "0"),8}  " +
                $"{Count(t.Elements),9}  {F(t.NanosecondsPerElement, "0.0"),7}  {F(100 * t.GcShare, "0"),5}" + (several ? $"  {F(100 * t.MultiGcShare, "0"),6}" : "")
                + (t.Baseline is null ? "" : $"  {F(t.DataGrowth, "0"),7}  {F(t.TimeGrowth, "0.0"),7}  {F(t.TimeGrowth / t.DataGrowth, "0.00"),9}"));
        }
        var measured = report.Tasks.Where(t => t.Failure is null).ToList();
        if (measured.Count == 0) return;
        var slowest = report.Slowest!;
        output.WriteLine();
        output.WriteLine($"one thread:  {F(report.MeanSingleThreadRate)} verifications/s, mean over {measured.Count} tasks; slowest task {slowest.Task} at {F(slowest.SingleThreadRate, "0.##")}/s; " +
            $"all tasks in turn {F(report.RoundRobinRate, "0.##")}/s");
        var (pausedSingle, pausedMulti) = report.MeanGcShares;
        if (several) output.WriteLine($"{report.Threads} threads:   {F(report.MeanMultiThreadRate)} verifications/s, mean over {measured.Count} tasks ({F(report.MeanMultiThreadRate / report.MeanSingleThreadRate, "0.00")}x one thread); " +
            $"the collector paused the threads {F(100 * pausedSingle, "0.0")}% of the time on one thread, {F(100 * pausedMulti, "0.0")}% on {report.Threads}");
        output.WriteLine($"reuse:       {F(report.MeanReuseRate)} verifications/s on one thread, mean over {measured.Count} tasks, with each seed's data and reference computed once");
        output.WriteLine($"collector:   {report.Collector.Describe()}");
        if (scaled)
        {
            var grown = measured.Where(t => t.Baseline is not null).ToList();
            if (grown.Count == 0) return;
            var perElement = grown.Select(t => t.TimeGrowth / t.DataGrowth).Order().ToList();
            var over = grown.Where(t => t.TimeGrowth / t.DataGrowth > GrowthBound).Select(t => Path.GetFileNameWithoutExtension(t.Task)).ToList();
            output.WriteLine($"sizes:       {grown.Count} task(s), {F(grown.Min(t => t.DataGrowth))}x to {F(grown.Max(t => t.DataGrowth))}x the data: " +
                $"time per element {F(perElement[0], "0.00")}x to {F(perElement[^1], "0.00")}x that at {baseline}, median {F(perElement[perElement.Count / 2], "0.00")}x, " +
                (over.Count == 0 ? $"none over {F(GrowthBound, "0.0")}x" : $"{over.Count} over {F(GrowthBound, "0.0")}x ({string.Join(", ", over)})") + "; " +
                $"slowest verification {F(measured.Max(t => t.MedianMilliseconds) / 1000, "0.0")} s ({measured.MaxBy(t => t.MedianMilliseconds)!.Task}); " +
                $"time paused by the collector {F(100 * measured.Min(t => t.GcShare))}% to {F(100 * measured.Max(t => t.GcShare))}%");
        }
    }

    /// <summary>How much more a verification may cost per element at larger sizes before the summary names it.</summary>
    private const double GrowthBound = 1.3;

    private static string Count(long n) => n switch
    {
        >= 1_000_000_000 => F(n / 1e9, "0.0") + "G",
        >= 1_000_000 => F(n / 1e6, "0.0") + "M",
        >= 1_000 => F(n / 1e3, "0.0") + "k",
        _ => F(n),
    };

    private static string Json(BenchmarkReport r) => JsonSerializer.Serialize(
        new BenchJson(r.Threads, r.SecondsPerTask, r.MeanSingleThreadRate, r.MeanMultiThreadRate, r.RoundRobinRate, r.MeanReuseRate, r.Slowest?.Task,
            [.. r.Tasks.Select(t => new BenchTaskJson(t.Task, t.SingleThreadRate, t.MultiThreadRate, t.ReuseRate, t.MedianMilliseconds, t.WorstMilliseconds,
                t.AllocatedBytesPerVerification, t.Elements, t.NanosecondsPerElement, t.Baseline is { } b ? new BaselineJson(b.MedianMilliseconds, b.MeanMilliseconds, b.Elements) : null, t.GcShare, t.MultiGcShare, t.Failure))],
            new CollectorJson(r.Collector.Server, r.Collector.Heaps, r.Collector.Concurrent, r.Collector.Gen0Size, r.Collector.Gen0MaxBudget, r.Collector.RegionSize, r.Collector.Describe())),
        CliJson.Style.BenchJson);
}
