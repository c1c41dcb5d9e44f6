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
            StepForgeCli.ExitCodes("when every candidate passes", "when some candidate is rejected"));
        shared.AddTo(command, io);
        command.SetAction(parsed =>
        {
            var options = new StaticCheckOptions(parsed.GetValue(shared.Repair), shared.AffineMode(parsed));
            return TaskBatch.Run(io, parsed.GetValue(shared.Tasks) ?? [], parsed.GetValue(shared.Impl), parsed.GetValue(shared.Json),
                parsed.GetValue(shared.Print), showErrors: false, (task, candidate) => TaskChecker.Check(task, candidate, options));
        });
        return command;
    }
}
