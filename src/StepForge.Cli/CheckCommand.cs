using System.CommandLine;
using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary><c>stepforge check</c>: the static half of verification (parse, types, affine) for task files.</summary>
public static class CheckCommand
{
    public static Command Create(ConsoleIo io)
    {
        var tasks = new Argument<string[]>("TASK")
        {
            Description = "Task files, or folders searched recursively for *.yaml (files there without impl: are only loaded).",
            Arity = ArgumentArity.OneOrMore,
        };
        var impl = new Option<string?>("--impl")
        {
            Description = "Check this candidate instead of each task's own impl: a YAML file with an impl: key, a bare program, or - for standard input.",
            HelpName = "FILE|-",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per task on standard output." };
        var repair = new Option<bool>("--repair-affine") { Description = "Insert step.Copy where a stream is consumed twice, then check the repaired program." };
        var print = new Option<bool>("--print") { Description = "With --repair-affine: print each repaired program." };
        var strict = new Option<bool>("--strict-affine") { Description = "Count returning a stream as consuming it (stricter than upstream)." };

        var command = new Command("check",
            "Check candidate STeP programs statically: parse, types and shapes against the task's outputs, affine use of streams.\n" +
            "Exit 0 if all pass, 1 if any is rejected, 2 if the invocation or a task file is bad.")
        {
            tasks, impl, json, repair, print, strict,
        };
        command.SetAction(parsed => Run(io,
            parsed.GetValue(tasks) ?? [],
            parsed.GetValue(impl),
            parsed.GetValue(json),
            new StaticCheckOptions(parsed.GetValue(repair), parsed.GetValue(strict) ? AffineMode.Strict : AffineMode.Upstream),
            parsed.GetValue(print)));
        return command;
    }

    private static int Run(ConsoleIo io, string[] paths, string? implPath, bool json, StaticCheckOptions options, bool print)
    {
        if (print && !options.RepairAffine)
        {
            io.Error.WriteLine("stepforge: error: --print goes with --repair-affine");
            return StepForgeCli.ExitBadInput;
        }
        return TaskBatch.Run(io, paths, implPath, json, print, showErrors: false, (task, candidate) => TaskChecker.Check(task, candidate, options));
    }
}
