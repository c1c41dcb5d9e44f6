using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using StepForge.Cost;
using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary><c>stepforge cost</c>: what a task's reference program (and a candidate) would cost on the accelerator of cost-model.md.</summary>
public static class CostCommand
{
    /// <summary>A costed program: its verdict, and its cost or why it has none.</summary>
    private sealed record Costed(string Role, Verdict Verdict, CostEstimate Estimate);

    public static Command Create(ConsoleIo io)
    {
        var tasks = new Argument<string[]>("TASK")
        {
            Description = "Task files, or folders searched recursively for *.yaml (files there without impl: are only loaded).",
            Arity = ArgumentArity.ZeroOrMore,
        }.RefusingUnknownOptions(io);
        var impl = new Option<string?>("--impl")
        {
            Description = "Also cost this candidate, beside each task's own impl: (a YAML file with an impl: key, a bare program, or - for standard input).",
            HelpName = "FILE|-",
        };
        var machine = new Option<string?>("--machine") { Description = "A YAML file overriding machine parameters (see --rules for the keys and defaults).", HelpName = "FILE" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per task, with the per-op and per-channel breakdown." };
        var ops = new Option<bool>("--ops") { Description = "Print the per-op breakdown under each task (the default when one task file is given)." };
        var rules = new Option<bool>("--rules") { Description = "Print the flop rules and the machine parameters, and exit." };
        var repair = new Option<bool>("--repair-affine") { Description = "Insert step.Copy where a stream is consumed twice, then cost the repaired program." };
        var command = new Command("cost",
            "Estimate what programs would cost on a dataflow accelerator (../shared/docs/cost-model.md): cycles of a timed run of the dataflow graph " +
            "at the task's sizes, on-chip bytes (buffers, Buffer states, channels the program jams on at fifo_depth), off-chip bytes, flops, the lower bound, " +
            "whether the program deadlocks with fifo_depth channels (where, and how deep they must be), and the busiest op. With --impl, the candidate " +
            "beside the task's reference program and the speedup (reference cycles / candidate cycles).\n" +
            "Flops of an fn call, counted over its apply body:\n" + RulesText() +
            StepForgeCli.ExitCodes("when every program is correct and costed", "when one is not"))
        {
            tasks, impl, machine, json, ops, rules, repair,
        };
        command.Validators.Add(result =>
        {
            if (result.TryGet(rules, out var onlyRules) && !onlyRules && result.GetValue(tasks) is not { Length: > 0 })
                io.Refuse(result, "give at least one TASK file or folder (or --rules)");
        });
        command.SetAction(parsed =>
        {
            var chosen = Machine.Default;
            if (parsed.GetValue(machine) is { } machinePath)
            {
                try
                {
                    chosen = Machine.ReadFile(machinePath);
                }
                catch (MachineFileException e)
                {
                    io.Error.WriteLine($"stepforge: error: --machine {e.Message}");
                    return StepForgeCli.ExitBadInput;
                }
            }
            if (parsed.GetValue(rules))
            {
                PrintRules(io.Out, chosen);
                return StepForgeCli.ExitOk;
            }
            var paths = parsed.GetValue(tasks) ?? [];
            string? candidate = null;
            if (parsed.GetValue(impl) is { } implPath)
            {
                try
                {
                    candidate = CandidateText.FromText(implPath == "-" ? io.In.ReadToEnd() : File.ReadAllText(implPath));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    io.Error.WriteLine($"stepforge: error: --impl {implPath}: {(e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message)}");
                    return StepForgeCli.ExitBadInput;
                }
            }
            IReadOnlyList<TaskFile> files;
            try
            {
                files = TaskLocator.Expand(paths);
            }
            catch (TaskFileException e)
            {
                io.Error.WriteLine($"stepforge: error: {e.Message}");
                if (parsed.GetValue(json)) io.Out.WriteLine(Verdict.Invalid(e.Path, e.Message).ToJson());
                return StepForgeCli.ExitBadInput;
            }
            return Run(io, files, candidate, chosen, parsed.GetValue(json), parsed.GetValue(ops) || files.Count == 1, parsed.GetValue(repair));
        });
        return command;
    }

    private static int Run(ConsoleIo io, IReadOnlyList<TaskFile> files, string? candidate, Machine machine, bool json, bool showOps, bool repair)
    {
        bool invalid = false, rejected = false;
        int loadedOnly = 0;
        var rows = new List<(TaskSpec Task, IReadOnlyList<Costed> Programs)>();
        foreach (var file in files)
        {
            if (!file.Named && !TaskLocator.LooksLikeTask(file.Path)) continue;
            TaskSpec task;
            try
            {
                task = TaskReader.ReadFile(file.Path);
                if (task.Impl is null && candidate is null)
                {
                    if (!file.Named)
                    {
                        loadedOnly++;
                        continue;
                    }
                    throw new TaskFileException(task.SourcePath, "impl", "missing: the task has no impl: and no --impl was given");
                }
            }
            catch (TaskFileException e)
            {
                invalid = true;
                io.Error.WriteLine($"stepforge: error: {e.Message}");
                if (json) io.Out.WriteLine(Verdict.Invalid(file.Path, e.Message).ToJson());
                continue;
            }
            var coster = new TaskCost(task, new CostOptions(machine, RepairAffine: repair));
            var verify = new VerifyOptions(RepairAffine: repair);
            var programs = new List<Costed>();
            if (task.Impl is not null) programs.Add(new Costed("reference", Verifier.Verify(task, task.Impl, verify), coster.Reference!));
            if (candidate is not null) programs.Add(new Costed("candidate", Verifier.Verify(task, candidate, verify), coster.Estimate(candidate)));
            if (programs.Any(p => p.Verdict.Kind == VerdictKind.Invalid))
            {
                invalid = true;
                io.Error.WriteLine($"stepforge: error: {programs.First(p => p.Verdict.Kind == VerdictKind.Invalid).Verdict.Message}");
            }
            rejected |= programs.Any(p => !p.Verdict.IsCorrect || !p.Estimate.HasCost);
            rows.Add((task, programs));
            if (json) io.Out.WriteLine(Json(task, programs, machine));
        }
        if (!json) Print(io.Out, rows, machine, showOps, candidate is not null);
        if (loadedOnly > 0)
            io.Error.WriteLine($"note: {loadedOnly} task file(s) found in folders have no impl: they were loaded and validated, not costed (give --impl to cost a candidate against them)");
        return invalid ? StepForgeCli.ExitBadInput : rejected ? StepForgeCli.ExitRejected : StepForgeCli.ExitOk;
    }

    private static double? Speedup(IReadOnlyList<Costed> programs)
    {
        var reference = programs.FirstOrDefault(p => p.Role == "reference")?.Estimate.Cost;
        var candidate = programs.FirstOrDefault(p => p.Role == "candidate")?.Estimate.Cost;
        return reference is null || candidate is null || candidate.Cycles == 0 ? null : (double)reference.Cycles / candidate.Cycles;
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static void Print(TextWriter output, IReadOnlyList<(TaskSpec Task, IReadOnlyList<Costed> Programs)> rows, Machine machine, bool showOps, bool withCandidate)
    {
        int width = Math.Max(4, rows.Select(r => r.Task.Name.Length).DefaultIfEmpty(0).Max());
        string Header() =>
            $"{"task".PadRight(width)}  {"program",-9}  {"verdict",-7}  {"cycles",9}  {"time us",8}  {"on-chip B",9}  {"off-chip B",10}  {"flops",10}  {"bound",9}  " +
            $"{"fifo_depth " + machine.FifoDepth,-20}" + (withCandidate ? $"  {"speedup",8}" : "") + "  bottleneck";
        output.WriteLine(Header());
        var notes = new List<string>();
        foreach (var (task, programs) in rows)
        {
            foreach (var p in programs)
            {
                var line = new StringBuilder($"{task.Name.PadRight(width)}  {p.Role,-9}  {Verdict.KindName(p.Verdict.Kind),-7}  ");
                if (p.Estimate.Cost is { } c)
                {
                    var fifo = c.FifoDeadlock is null ? "ok" : c.RequiredFifoDepth is long d ? $"deadlock, needs {d}" : "deadlock";
                    line.Append(CultureInfo.InvariantCulture,
                        $"{N(c.Cycles),9}  {c.Microseconds,8:0.000}  {N(c.OnChipBytes),9}  {N(c.OffChipBytes),10}  {N(c.Flops),10}  {N(c.LowerBound),9}  {fifo,-20}");
                    if (withCandidate)
                        line.Append(CultureInfo.InvariantCulture, $"  {(p.Role == "candidate" && Speedup(programs) is { } s ? s.ToString("0.00", CultureInfo.InvariantCulture) + "x" : ""),8}");
                    line.Append("  ").Append(c.Bottleneck.Label);
                    if (c.FifoDeadlock is { } dead)
                        notes.Add($"{task.Name} ({p.Role}): {dead.Message}; it runs through with " +
                            string.Join(", ", c.Channels.Where(ch => ch.RequiredDepth > machine.FifoDepth).Select(ch => $"{ch.Stream} {ch.RequiredDepth} deep")) +
                            (c.RequiredFifoDepth is long need ? $" (or every channel {need} deep)" : ""));
                    if (c.UnboundedDeadlock is { } stuck) notes.Add($"{task.Name} ({p.Role}): deadlocks even with unbounded channels: {stuck.Message}");
                }
                else line.Append(p.Estimate.Problem is { } problem ? $"not costed: [{problem.Rule}] {problem.Message}" : "not costed");
                output.WriteLine(line.ToString().TrimEnd());
            }
            if (showOps)
                foreach (var p in programs)
                    if (p.Estimate.Cost is { } c) PrintOps(output, task, p.Role, c);
        }
        var costed = rows.SelectMany(r => r.Programs).Where(p => p.Estimate.HasCost).ToList();
        output.WriteLine($"{costed.Count} program(s) costed on the machine: lanes {machine.Lanes}, on-chip {machine.OnChipBytesPerCycle} B/cycle, off-chip {machine.OffChipBytesPerCycle} B/cycle, " +
            $"fifo_depth {machine.FifoDepth}, double_buffer {(machine.DoubleBuffer ? "true" : "false")}, clock {machine.ClockGhz.ToString(CultureInfo.InvariantCulture)} GHz");
        int stuckUnbounded = costed.Count(p => p.Estimate.Cost!.UnboundedDeadlock is not null);
        int deep = costed.Count(p => p.Estimate.Cost!.FifoDeadlock is not null);
        output.WriteLine(stuckUnbounded == 0
            ? $"with unbounded channels every program runs through; with fifo_depth {machine.FifoDepth}, {deep} deadlock" + (deep > 0 ? ":" : "")
            : $"{stuckUnbounded} program(s) deadlock even with unbounded channels; {deep} with fifo_depth {machine.FifoDepth}:");
        foreach (var note in notes) output.WriteLine("  " + note);
    }

    private static void PrintOps(TextWriter output, TaskSpec task, string role, ProgramCost c)
    {
        output.WriteLine($"  {task.Name} ({role}): per op (* the bottleneck; bound {N(c.LowerBound)} cycles by {c.BoundBy}); on-chip {N(c.BufferBytes)} B buffers, " +
            $"{N(c.StateBytes)} B states, {N(c.ChannelBytes)} B channels");
        int width = Math.Max(2, c.Ops.Max(o => o.Label.Length));
        output.WriteLine($"    {"op".PadRight(width)}  {"elements",9}  {"cyc/elem",8}  {"busy",9}  {"flops",10}  {"flops/call",10}  {"storage B",9}  {"start",9}  {"finish",9}");
        foreach (var o in c.Ops)
            output.WriteLine($"  {(o.Bottleneck ? "*" : " ")} {o.Label.PadRight(width)}  {N(o.Elements),9}  {ProgramCost.ServiceText(o),8}  {N(o.Busy),9}  {N(o.Flops),10}  " +
                $"{N(o.FlopsPerCall),10}  {N(o.StorageBytes),9}  {N(o.FirstStart),9}  {N(o.LastFinish),9}");
        var deep = c.Channels.Where(ch => ch.RequiredDepth > c.Machine.FifoDepth).ToList();
        if (deep.Count > 0)
            output.WriteLine("    channels deeper than fifo_depth: " + string.Join("; ", deep.Select(ch =>
                $"{ch.Stream} needs {N(ch.RequiredDepth)}, peaks at {N(ch.Peak)} element(s) of {N(ch.ElementBytes)} B ({N(ch.Bytes)} B on chip)")));
        var ahead = c.Channels.Where(ch => ch.RequiredDepth <= c.Machine.FifoDepth && ch.Peak > c.Machine.FifoDepth).ToList();
        if (ahead.Count > 0)
            output.WriteLine("    fuller only because a producer runs ahead (not counted): " + string.Join("; ", ahead.Select(ch =>
                $"{ch.Stream} peaks at {N(ch.Peak)} element(s) of {N(ch.ElementBytes)} B")));
    }

    private static string Json(TaskSpec task, IReadOnlyList<Costed> programs, Machine machine)
    {
        static CostProgramJson Program(Costed p) => new(Verdict.KindName(p.Verdict.Kind), p.Verdict.Message, p.Estimate.Cost?.Json(details: true),
            p.Estimate.Cost is null ? p.Estimate.Problem?.Message ?? "not costed" : null);
        var reference = programs.FirstOrDefault(p => p.Role == "reference");
        var candidate = programs.FirstOrDefault(p => p.Role == "candidate");
        return reference is not null && candidate is not null
            ? JsonSerializer.Serialize(new CostComparisonJson(task.SourcePath, task.Name, MachineJson.Of(machine), Program(reference), Program(candidate),
                Speedup(programs) is { } s ? Math.Round(s, 6) : null), CliJson.Style.CostComparisonJson)
            : JsonSerializer.Serialize(new CostTaskJson(task.SourcePath, task.Name, MachineJson.Of(machine),
                reference is null ? null : Program(reference), candidate is null ? null : Program(candidate)), CliJson.Style.CostTaskJson);
    }

    /// <summary>The flop table as indented lines, for --help and --rules.</summary>
    public static string RulesText()
    {
        var s = new StringBuilder();
        foreach (var rule in FlopRules.Table) s.AppendLine(CultureInfo.InvariantCulture, $"  {rule.Covers}: {rule.Charge}");
        return s.ToString();
    }

    private static void PrintRules(TextWriter output, Machine machine)
    {
        output.WriteLine("Flops of an fn call (the sum over the calls its apply body makes, on the shapes it sees):");
        int width = FlopRules.Table.Max(r => r.Charge.Length);
        foreach (var rule in FlopRules.Table) output.WriteLine($"  {rule.Charge.PadRight(width)}  {rule.Covers}");
        output.WriteLine("  (arithmetic on plain Python numbers is configuration and costs nothing)");
        output.WriteLine();
        output.WriteLine("Cycles per element consumed:");
        output.WriteLine("  Map, Accum, Scan, Merge (per folded element)     max(1, ceil(flops / lanes), ceil(buffer_bytes / onchip_bytes_per_cycle))");
        output.WriteLine("  Bufferize                                        max(1, ceil(element_bytes / onchip_bytes_per_cycle))");
        output.WriteLine("  Streamify, Repeat, RepeatRef                     1 per element emitted");
        output.WriteLine("  Zip, Copy, Promote, Flatten, Reshape, Partition  1");
        output.WriteLine("  program inputs and outputs                       ceil(element_bytes * S / offchip_bytes_per_cycle), S = input and output streams");
        output.WriteLine();
        output.WriteLine("Machine (a --machine YAML file overrides any of these):");
        foreach (var (key, meaning) in Machine.Keys) output.WriteLine($"  {key + ": " + machine.Value(key),-30}  {meaning}");
    }
}
