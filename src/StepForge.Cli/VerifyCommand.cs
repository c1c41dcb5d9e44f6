using System.CommandLine;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary><c>stepforge verify</c>: the whole verification, down to simulation and comparison with the PyTorch reference.</summary>
public static class VerifyCommand
{
    public static Command Create(ConsoleIo io)
    {
        var shared = new CandidateOptions();
        var seed = new Option<int>("--seed") { Description = "Seed of the first trial's data (trial t uses SEED + t).", DefaultValueFactory = _ => 0 };
        var trials = new Option<int>("--trials") { Description = "How many seeds to check; all must match.", DefaultValueFactory = _ => 1 }
            .Refusing(io, n => n < 1 ? "--trials must be at least 1" : null);
        var size = new Option<string[]>("--size")
        {
            Description = "Run at another size, e.g. --size M=16 --size D=32 (repeatable).",
            HelpName = "SYM=VALUE",
            AllowMultipleArgumentsPerToken = false,
        }.Sizes(io);
        var fixedTolerance = new Option<bool>("--fixed-tolerance")
        {
            Description = "Keep rtol 1.3e-6 and atol 1e-5 at every --size (by default both grow in proportion to the largest size ratio, as float32 rounding of longer sums does).",
        };
        var maxMemory = new Option<long>("--max-memory")
        {
            Description = "Memory budget of one verification in MiB: sizes whose data and streams would need more get a limit verdict instead of running.",
            DefaultValueFactory = _ => VerifyOptions.DefaultMaxMemoryBytes >> 20,
        }.Refusing(io, mib => mib is < 1 or > 1L << 30 ? "--max-memory must be a positive number of MiB" : null);
        var command = new Command("verify",
            "Verify candidate STeP programs: parse, types, affine use, then simulate them on seeded data and compare every output " +
            "with the task's PyTorch reference (torch.testing's float32 tolerance, rtol 1.3e-6 and atol 1e-5, at the task's sizes). With --json, " +
            "a correct program's line carries its cost (see stepforge cost).\n" +
            StepForgeCli.ExitCodes("when every candidate is correct", "when some candidate is rejected"))
        {
            seed, trials, size, fixedTolerance, maxMemory,
        };
        shared.AddTo(command, io);
        command.SetAction(parsed =>
        {
            var sizes = OptionValues.Sizes(parsed, size);
            var options = new VerifyOptions(parsed.GetValue(seed), parsed.GetValue(trials), sizes, parsed.GetValue(shared.Repair), shared.AffineMode(parsed),
                FixedTolerance: parsed.GetValue(fixedTolerance), MaxMemoryBytes: parsed.GetValue(maxMemory) << 20,
                // Scripts read the cost of a correct program (at the task's own sizes); people use stepforge cost.
                Cost: parsed.GetValue(shared.Json) ? new CostOptions() : null);
            return TaskBatch.Run(io, parsed.GetValue(shared.Tasks) ?? [], parsed.GetValue(shared.Impl), parsed.GetValue(shared.Json), parsed.GetValue(shared.Print), showErrors: true,
                (task, candidate) =>
                {
                    var unknown = sizes.Keys.Where(k => !task.Sizes.ContainsKey(k)).ToList();
                    if (unknown.Count > 0)
                        throw new TaskFileException(task.SourcePath, "sizes", $"--size names {string.Join(", ", unknown)}, which the task does not have (it has {string.Join(", ", task.Sizes.Keys)})");
                    return Verifier.Verify(task, candidate, options);
                });
        });
        return command;
    }
}
