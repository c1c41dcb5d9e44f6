using System.Diagnostics;
using StepForge.Diagnostics;
using StepForge.Llm;
using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Agents;

/// <param name="Samples">Samples per task and temperature.</param>
/// <param name="FeedbackRounds">Extra proposer answers a rejected sample may get, each shown the verdict of the last.</param>
/// <param name="Verify">How candidates are verified (seeds, sizes); affine repair is the guardian's to decide.</param>
public sealed record SamplerOptions(
    Setting Setting,
    int Samples,
    IReadOnlyList<double> Temperatures,
    GuardianKind Guardian = GuardianKind.Repair,
    int FeedbackRounds = 0,
    int Concurrency = 8,
    int MaxTokens = 4096,
    string Experiment = "run",
    VerifyOptions? Verify = null);

/// <summary>One finished (or failed) sample, for progress displays.</summary>
public sealed record SampleProgress(string Task, int Done, int Total, Verdict? Verdict, string? Error, bool Skipped);

/// <summary>What a sampling run did.</summary>
/// <param name="Retries">Retried HTTP requests (rate limits, server errors, timeouts) of the finished samples.</param>
public sealed record SamplerSummary(int Planned, int Skipped, int Finished, int Failed, long ModelCalls, int Retries);

/// <summary>
/// Samples n programs per task and temperature in parallel: proposer (→ guardian) → verifier, each sample stored as it
/// finishes. Samples the log already holds are skipped, so a rerun continues where a killed run stopped.
/// </summary>
public sealed class Sampler(IProposer proposer, ISampleLog log, SamplerOptions options)
{
    /// <exception cref="ModelCallException">a fatal model failure (unreachable server, bad key): the run stops.</exception>
    public async Task<SamplerSummary> RunAsync(IReadOnlyList<TaskSpec> tasks, Func<TaskSpec, IReadOnlyList<Demonstration>>? demonstrations = null,
        IProgress<SampleProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var duplicate = tasks.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"two tasks are named {duplicate.Key} ({string.Join(", ", duplicate.Select(t => t.SourcePath))}); samples are stored by task name");
        if (options.Setting == Setting.Agent && options.Guardian == GuardianKind.Model && proposer is not IGuardian)
            throw new ArgumentException($"{proposer.Id} cannot be the model guardian: use --guardian repair");
        // The store keeps every correct program's cost (at the task's own sizes, on the default machine).
        var verifyOptions = options.Verify ?? new VerifyOptions(Trials: 2);
        verifyOptions = verifyOptions with { Cost = verifyOptions.Cost ?? new CostOptions() };
        // StepForge's own guardian is AffineRepair inside the verifier; every other setting verifies the program as it is.
        bool repair = options.Setting == Setting.Agent && options.Guardian == GuardianKind.Repair;
        var verifiers = tasks.ToDictionary(t => t.Name, t => new TaskVerifier(t, verifyOptions with { RepairAffine = repair }));
        var work = (from task in tasks
                    from temperature in options.Temperatures
                    from index in Enumerable.Range(0, options.Samples)
                    select (Task: task, Key: new SampleKey(options.Experiment, task.Name, proposer.Id, Settings.Name(options.Setting), temperature, index))).ToList();
        int done = 0, skipped = 0, finished = 0, failed = 0, retried = 0;
        long callsBefore = proposer.Calls;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ModelCallException? fatal = null;
        try
        {
            await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency), CancellationToken = stop.Token },
                async (item, ct) =>
                {
                    if (log.IsDone(item.Key))
                    {
                        Interlocked.Increment(ref skipped);
                        progress?.Report(new SampleProgress(item.Task.Name, Interlocked.Increment(ref done), work.Count, null, null, Skipped: true));
                        return;
                    }
                    try
                    {
                        var demos = demonstrations?.Invoke(item.Task) ?? [];
                        var record = await SampleAsync(item.Task, item.Key, demos, verifiers[item.Task.Name], ct).ConfigureAwait(false);
                        log.Record(record);
                        Interlocked.Increment(ref finished);
                        Interlocked.Add(ref retried, record.Retries);
                        progress?.Report(new SampleProgress(item.Task.Name, Interlocked.Increment(ref done), work.Count, record.Verdict, null, Skipped: false));
                    }
                    catch (Exception e) when (e is ModelCallException { Fatal: false } or SampleNotCheckedException)
                    {
                        log.RecordError(item.Key, e.Message);
                        Interlocked.Increment(ref failed);
                        progress?.Report(new SampleProgress(item.Task.Name, Interlocked.Increment(ref done), work.Count, null, e.Message, Skipped: false));
                    }
                    catch (ModelCallException e)
                    {
                        Interlocked.CompareExchange(ref fatal, e, null);
                        await stop.CancelAsync().ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (fatal is not null && !cancellationToken.IsCancellationRequested)
        {
            // Stopped because of the fatal failure below.
        }
        if (fatal is not null) throw fatal;
        return new SamplerSummary(work.Count, skipped, finished, failed, proposer.Calls - callsBefore, retried);
    }

    private async Task<SampleRecord> SampleAsync(TaskSpec task, SampleKey key, IReadOnlyList<Demonstration> demos,
        TaskVerifier verifier, CancellationToken ct)
    {
        long input = 0, output = 0;
        decimal? cost = 0m;
        bool estimated = false, cached = true;
        double modelSeconds = 0, verifySeconds = 0;
        int calls = 0, retries = 0;
        void Account(Proposal a)
        {
            input += a.InputTokens;
            output += a.OutputTokens;
            cost = cost is null || a.Cost is null ? null : cost + a.Cost;
            estimated |= a.UsageEstimated;
            cached &= a.Cached;
            modelSeconds += a.Seconds;
            calls++;
            retries += a.Retries;
        }

        string? feedback = null;
        Prompt prompt = null!;
        string response = "";
        string? guardianResponse = null, impl = null, finalImpl = null;
        Verdict verdict = null!;
        int round = 0;
        for (; round <= options.FeedbackRounds; round++)
        {
            var proposal = await proposer.ProposeAsync(new ProposalRequest(task, options.Setting, demos, feedback, key.Temperature, key.Index, round, options.MaxTokens), ct)
                .ConfigureAwait(false);
            Account(proposal);
            prompt = proposal.Prompt;
            response = proposal.Response;
            impl = finalImpl = proposal.Impl;
            guardianResponse = null;
            var watch = Stopwatch.StartNew();
            if (impl is null)
            {
                verdict = proposal.Unsolved
                    ? new Verdict(VerdictKind.Unsolved, task.SourcePath, task.Name, proposal.Problem ?? "the proposer found no program", Rule: Rules.Unsolved.Id)
                    : new Verdict(VerdictKind.Parse, task.SourcePath, task.Name, proposal.Problem ?? "the answer holds no program", Rule: Rules.Answer.Id);
            }
            else
            {
                if (options.Setting == Setting.Agent && options.Guardian == GuardianKind.Model)
                {
                    watch.Stop();
                    var guarded = await ((IGuardian)proposer).GuardAsync(task, impl, key.Temperature, key.Index, round, options.MaxTokens, ct).ConfigureAwait(false);
                    watch.Start();
                    Account(guarded);
                    guardianResponse = guarded.Response;
                    // A guardian that answers nothing usable leaves the proposer's program as it was.
                    finalImpl = guarded.Impl ?? impl;
                }
                verdict = await Task.Run(() => VerifySafely(verifier, task, finalImpl ?? impl), ct).ConfigureAwait(false);
                if (verdict.IsRetryable) throw new SampleNotCheckedException($"{task.Name}: {verdict.Message}");
                finalImpl = verdict.RepairedImpl ?? finalImpl;
            }
            verifySeconds += watch.Elapsed.TotalSeconds;
            // A proposer that found nothing would find nothing again: feedback is for rejected programs.
            if (verdict.IsCorrect || proposal.Unsolved || round == options.FeedbackRounds) break;
            feedback = Feedback(impl, verdict);
        }
        return new SampleRecord(key, task.Group, prompt, response, guardianResponse, impl, finalImpl, verdict,
            impl is null ? null : ProgramFingerprint.Of(finalImpl ?? impl), input, output, estimated, cost, modelSeconds, verifySeconds,
            calls, retries, Math.Min(round, options.FeedbackRounds) + 1, cached);
    }

    /// <summary>
    /// The verdict of one answer, whatever happens while checking it: an answer is untrusted input, and a failure of
    /// the checker on it must stop neither the run nor a rerun (which checks the cached answer again).
    /// </summary>
    internal static Verdict VerifySafely(TaskVerifier verifier, TaskSpec task, string impl)
    {
        try
        {
            return verifier.Verify(impl);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            return new Verdict(VerdictKind.Runtime, task.SourcePath, task.Name,
                $"the checker failed on this answer ({e.GetType().Name}: {e.Message}); this is a bug in StepForge, please report it", Rule: Rules.Internal.Id);
        }
    }

    /// <summary>What the proposer is told about its last answer: the program and the verdict as data.</summary>
    internal static string Feedback(string? impl, Verdict verdict)
    {
        var lines = new List<string>();
        if (impl is not null) lines.AddRange(["Program:", "```", impl.TrimEnd(), "```"]);
        lines.Add($"Verdict: {Verdict.KindName(verdict.Kind)}" + (verdict.Line is { } line ? $" at line {line}" : "") + (verdict.Op is { } op ? $", op {op}" : "")
            + (verdict.Rule is { } rule ? $", rule {rule}" : ""));
        lines.Add(verdict.Message);
        if (verdict.Expected is { } expected) lines.Add($"Expected: {expected}");
        if (verdict.Actual is { } actual) lines.Add($"Actual: {actual}");
        return string.Join("\n", lines);
    }
}

/// <summary>A sample whose answer could not be checked this time (the wall-clock safety net): recorded as failed and retried.</summary>
public sealed class SampleNotCheckedException(string message) : Exception(message);
