using System.CommandLine;
using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary><c>stepforge check</c>: the static half of verification (parse, types, affine) for task files.</summary>
public static class CheckCommand
{
    public static Command Create(ConsoleIo io)
    {
        var shared = new CandidateOptions();
        var command = new Command("check",
            "Check candidate STeP programs statically: parse, types and shapes against the task's outputs, affine use of streams.\n" +
            "Exit 0 if all pass, 1 if any is rejected, 2 if the invocation or a task file is bad.");
        shared.AddTo(command);
        command.SetAction(parsed =>
        {
            if (!shared.Validate(parsed, io)) return StepForgeCli.ExitBadInput;
            var options = new StaticCheckOptions(parsed.GetValue(shared.Repair), shared.AffineMode(parsed));
            return TaskBatch.Run(io, parsed.GetValue(shared.Tasks) ?? [], parsed.GetValue(shared.Impl), parsed.GetValue(shared.Json),
                parsed.GetValue(shared.Print), showErrors: false, (task, candidate) => TaskChecker.Check(task, candidate, options));
        });
        return command;
    }
}
