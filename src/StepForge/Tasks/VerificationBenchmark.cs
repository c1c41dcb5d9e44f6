using System.Collections.Concurrent;
using System.Diagnostics;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <summary>
/// One task's figures: verifications per second on one thread and on several, latencies and allocation, and the rate
/// when the task's data and reference are reused across candidates (<see cref="TaskVerifier"/>, the sampler's case).
/// </summary>
/// <param name="Elements">Tensor elements one verification produces (the execution budget's count): its amount of data.</param>
/// <param name="GcShare">The share of the single-thread phase spent with threads paused by the garbage collector.</param>
/// <param name="MultiGcShare">The same for the phase on several threads: every collection pauses them all, so the share grows with the threads.</param>
/// <param name="Baseline">With other sizes: the same task measured at its own sizes (or the run's base sizes), to compare cost with data.</param>
public sealed record TaskBenchmark(
    string Task,
    double SingleThreadRate,
    double MultiThreadRate,
    double ReuseRate,
    double MedianMilliseconds,
    double WorstMilliseconds,
    long AllocatedBytesPerVerification,
    string? Failure,
    long Elements = 0,
    SizeBaseline? Baseline = null,
    double GcShare = 0,
    double MultiGcShare = 0)
{
    /// <summary>
    /// The mean time of one verification on one thread: what a run of many pays per verification, collections included
    /// (a median leaves out the collections that only some verifications pay for).
    /// </summary>
    public double MeanMilliseconds => SingleThreadRate <= 0 ? 0 : 1000 / SingleThreadRate;

    public double NanosecondsPerElement => Elements == 0 ? 0 : MeanMilliseconds * 1e6 / Elements;

    /// <summary>How many times the data grew from the baseline's sizes.</summary>
    public double DataGrowth => Baseline is { Elements: > 0 } b ? (double)Elements / b.Elements : 0;

    /// <summary>How many times the mean verification time grew from the baseline's sizes.</summary>
    public double TimeGrowth => Baseline is { MeanMilliseconds: > 0 } b ? MeanMilliseconds / b.MeanMilliseconds : 0;
}

/// <summary>A task's median and mean verification time and its data at the sizes growth is measured from.</summary>
public sealed record SizeBaseline(double MedianMilliseconds, double MeanMilliseconds, long Elements);

/// <summary>The whole run: per task, summaries over all tasks, and the collector it ran under.</summary>
public sealed record BenchmarkReport(IReadOnlyList<TaskBenchmark> Tasks, int Threads, double SecondsPerTask, CollectorSettings Collector)
{
    /// <summary>The mean of the per-task single-thread rates (every task weighs the same).</summary>
    public double MeanSingleThreadRate => Tasks.Count == 0 ? 0 : Tasks.Average(t => t.SingleThreadRate);

    public double MeanMultiThreadRate => Tasks.Count == 0 ? 0 : Tasks.Average(t => t.MultiThreadRate);

    public double MeanReuseRate => Tasks.Count == 0 ? 0 : Tasks.Average(t => t.ReuseRate);

    /// <summary>The mean over tasks of the share of time the collector paused the one thread, and the several.</summary>
    public (double Single, double Multi) MeanGcShares => Tasks.Count == 0 ? (0, 0) : (Tasks.Average(t => t.GcShare), Tasks.Average(t => t.MultiGcShare));

    /// <summary>The rate of verifying every task once in turn: the harmonic view, dominated by slow tasks.</summary>
    public double RoundRobinRate => Tasks.Count == 0 ? 0 : Tasks.Count / Tasks.Sum(t => 1.0 / Math.Max(t.SingleThreadRate, 1e-9));

    public TaskBenchmark? Slowest => Tasks.MinBy(t => t.SingleThreadRate);
}

/// <summary>
/// Verifies each task's reference program over and over with fresh seeds, through the whole pipeline (parse, types,
/// affine, data, reference, simulation, compare), first on one thread and then on several at once.
/// </summary>
public static class VerificationBenchmark
{
    /// <summary>What <c>progress</c> is given when the warm-up starts (task paths follow, one per task measured).</summary>
    public const string WarmUpProgress = "(warm-up)";

    /// <param name="baseSizes">With <see cref="VerifyOptions.Sizes"/>: the sizes to measure growth from (default: each task's own).</param>
    public static BenchmarkReport Run(IReadOnlyList<TaskSpec> tasks, double secondsPerTask, int threads, VerifyOptions options,
        Action<string>? progress = null, IReadOnlyDictionary<string, long>? baseSizes = null)
    {
        var results = new List<TaskBenchmark>();
        int seed = options.Seed;
        WarmUp(tasks, secondsPerTask, options, ref seed, progress);
        foreach (var task in tasks)
        {
            progress?.Invoke(task.SourcePath);
            var (counted, elements) = CountingElements(task, options with { Seed = seed++ });
            var check = Verifier.Verify(task, options: counted);
            if (!check.IsCorrect)
            {
                results.Add(new TaskBenchmark(task.SourcePath, 0, 0, 0, 0, 0, 0, $"{Verdict.KindName(check.Kind)}: {check.Message}"));
                continue;
            }
            // A verification slower than the measuring time needs no warm-up and is measured once (large sizes).
            bool slow = check.Seconds > secondsPerTask;
            int least = slow ? 1 : 3;
            if (!slow) for (int i = 0; i < 3; i++) Verifier.Verify(task, options: options with { Seed = seed++ });
            // Both sizes are timed alike: with the code warmed up at both, each after a full collection, so neither
            // pays for compiling the code nor for the heap the other (or an earlier task) left behind.
            var baseline = options.Sizes is { Count: > 0 } ? MeasureBaseline(task, options with { Sizes = baseSizes is { Count: > 0 } ? baseSizes : null, Seed = seed++ }, secondsPerTask / 2) : null;
            GC.Collect();

            var latencies = new List<double>();
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var pausedBefore = GC.GetTotalPauseDuration();
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < secondsPerTask || latencies.Count < least)
            {
                long start = Stopwatch.GetTimestamp();
                Verifier.Verify(task, options: options with { Seed = seed++ });
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            double single = latencies.Count / watch.Elapsed.TotalSeconds;
            double gcShare = (GC.GetTotalPauseDuration() - pausedBefore) / watch.Elapsed;
            long allocated = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / latencies.Count;

            double multi = single, multiGcShare = gcShare;
            if (threads > 1)
            {
                var pausedBeforeMulti = GC.GetTotalPauseDuration();
                long count = 0;
                int baseSeed = seed;
                seed += 1_000_000;
                var deadline = Stopwatch.StartNew();
                var workers = Enumerable.Range(0, threads).Select(w => new Thread(() =>
                {
                    int local = baseSeed + w * 100_000;
                    long done = 0;
                    // At least one each, so a loaded machine gives a slow rate rather than none.
                    while (deadline.Elapsed.TotalSeconds < secondsPerTask || done == 0)
                    {
                        Verifier.Verify(task, options: options with { Seed = local++ });
                        done++;
                    }
                    Interlocked.Add(ref count, done);
                })).ToList();
                workers.ForEach(t => t.Start());
                workers.ForEach(t => t.Join());
                multi = count / deadline.Elapsed.TotalSeconds;
                multiGcShare = (GC.GetTotalPauseDuration() - pausedBeforeMulti) / deadline.Elapsed;
            }
            // The sampler's case: one seed's data and reference computed once, each candidate only parsed, checked,
            // simulated and compared.
            var reuse = new TaskVerifier(task, options with { Seed = seed++ });
            reuse.Verify();
            long reused = 0;
            var reuseWatch = Stopwatch.StartNew();
            while (reuseWatch.Elapsed.TotalSeconds < secondsPerTask / 2 || reused < least)
            {
                reuse.Verify();
                reused++;
            }
            double reuseRate = reused / reuseWatch.Elapsed.TotalSeconds;

            latencies.Sort();
            results.Add(new TaskBenchmark(task.SourcePath, single, multi, reuseRate, latencies[latencies.Count / 2], latencies[^1], allocated, null,
                elements(), baseline, gcShare, multiGcShare));
        }
        return new BenchmarkReport(results, threads, secondsPerTask, CollectorSettings.Current());
    }

    /// <summary>
    /// Verifies every task in turn, pass after pass, until two whole passes compile no method (or the warm-up has
    /// taken eight measuring times). The runtime compiles hot code again, profiled and then optimized, on a
    /// background thread (tiered compilation); on a small machine that takes seconds, and until it is done the first
    /// tasks measured run partly unoptimized (4 to 10 times slower, measured) and share the cores with the compiler.
    /// </summary>
    private static void WarmUp(IReadOnlyList<TaskSpec> tasks, double secondsPerTask, VerifyOptions options, ref int seed, Action<string>? progress)
    {
        if (tasks.Count == 0) return;
        progress?.Invoke(WarmUpProgress);
        double perTask = Math.Min(1, secondsPerTask) / 2 / tasks.Count;
        var total = Stopwatch.StartNew();
        int quiet = 0;
        while (quiet < 2 && total.Elapsed.TotalSeconds < 8 * secondsPerTask)
        {
            long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            foreach (var task in tasks)
            {
                var watch = Stopwatch.StartNew();
                do Verifier.Verify(task, options: options with { Seed = seed++ });
                while (watch.Elapsed.TotalSeconds < perTask);
            }
            quiet = System.Runtime.JitInfo.GetCompiledMethodCount() == compiled ? quiet + 1 : 0;
        }
    }

    /// <summary>The median and mean latency and the data of the task at the options' sizes, measured as the task itself is.</summary>
    private static SizeBaseline MeasureBaseline(TaskSpec task, VerifyOptions options, double seconds)
    {
        var (counted, elements) = CountingElements(task, options with { Seed = options.Seed + 1000 });
        Verifier.Verify(task, options: counted);
        for (int i = 1; i < 3; i++) Verifier.Verify(task, options: options with { Seed = options.Seed + 1000 + i });
        GC.Collect();
        var latencies = new List<double>();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds || latencies.Count < 5)
        {
            long start = Stopwatch.GetTimestamp();
            Verifier.Verify(task, options: options with { Seed = options.Seed + 2000 + latencies.Count });
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        double mean = watch.Elapsed.TotalMilliseconds / latencies.Count;
        latencies.Sort();
        return new SizeBaseline(latencies[latencies.Count / 2], mean, elements());
    }

    /// <summary>
    /// Options whose budgets (the default ones) are kept, and the tensor elements they have counted: for one
    /// verification with them, its data, reference and simulation.
    /// </summary>
    private static (VerifyOptions Options, Func<long> Elements) CountingElements(TaskSpec task, VerifyOptions options)
    {
        var budgets = new ConcurrentBag<ExecutionBudget>();
        var environment = task.Environment(options.Sizes);
        return (options with
        {
            Budget = () =>
            {
                var budget = TaskVerifier.DefaultBudget(environment);
                budgets.Add(budget);
                return budget;
            },
        }, () => budgets.Sum(b => b.WorkUsed));
    }
}
