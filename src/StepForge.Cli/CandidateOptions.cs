using System.CommandLine;
using StepForge.Step;

namespace StepForge.Cli;

/// <summary>The arguments and options that check and verify share: the tasks, the candidate, output and affine handling.</summary>
public sealed class CandidateOptions
{
    public Argument<string[]> Tasks { get; } = new("TASK")
    {
        Description = "Task files, or folders searched recursively for *.yaml (files there without impl: are only loaded).",
        Arity = ArgumentArity.OneOrMore,
    };

    public Option<string?> Impl { get; } = new("--impl")
    {
        Description = "Use this candidate instead of each task's own impl: a YAML file with an impl: key, a bare program, or - for standard input.",
        HelpName = "FILE|-",
    };

    public Option<bool> Json { get; } = new("--json") { Description = "Print one JSON object per task on standard output." };

    public Option<bool> Repair { get; } = new("--repair-affine") { Description = "Insert step.Copy where a stream is consumed twice, then use the repaired program." };

    public Option<bool> Print { get; } = new("--print") { Description = "With --repair-affine: print each repaired program." };

    public Option<bool> Strict { get; } = new("--strict-affine") { Description = "Count returning a stream as consuming it (stricter than upstream)." };

    public void AddTo(Command command, ConsoleIo io)
    {
        command.Add(Tasks.RefusingUnknownOptions(io));
        foreach (var option in new Option[] { Impl, Json, Repair, Print, Strict }) command.Add(option);
        command.Validators.Add(result =>
        {
            if (result.TryGet(Print, out var print) && print && result.TryGet(Repair, out var repair) && !repair)
                io.Refuse(result, "--print goes with --repair-affine");
        });
    }

    public AffineMode AffineMode(ParseResult parsed) => parsed.GetValue(Strict) ? Step.AffineMode.Strict : Step.AffineMode.Upstream;
}
