using System.CommandLine;
using System.Globalization;
using StepForge.Tasks;

namespace StepForge.Cli;

/// <summary><c>stepforge verify</c>: the whole verification, down to simulation and comparison with the PyTorch reference.</summary>
public static class VerifyCommand
{
    public static Command Create(ConsoleIo io)
    {
        var shared = new CandidateOptions();
        var seed = new Option<int>("--seed") { Description = "Seed of the first trial's data (trial t uses SEED + t).", DefaultValueFactory = _ => 0 };
        var trials = new Option<int>("--trials") { Description = "How many seeds to check; all must match.", DefaultValueFactory = _ => 1 };
        var size = new Option<string[]>("--size")
        {
            Description = "Run at another size, e.g. --size M=16 --size D=32 (repeatable).",
            HelpName = "SYM=VALUE",
            AllowMultipleArgumentsPerToken = false,
        };
        var fixedTolerance = new Option<bool>("--fixed-tolerance")
        {
            Description = "Keep rtol 1.3e-6 and atol 1e-5 at every --size (by default both grow in proportion to the largest size ratio, as float32 rounding of longer sums does).",
        };
        var maxMemory = new Option<long>("--max-memory")
        {
            Description = "Memory budget of one verification in MiB: sizes whose data and streams would need more get a limit verdict instead of running.",
            DefaultValueFactory = _ => VerifyOptions.DefaultMaxMemoryBytes >> 20,
        };
        var command = new Command("verify",
            "Verify candidate STeP programs: parse, types, affine use, then simulate them on seeded data and compare every output " +
            "with the task's PyTorch reference (torch.testing's float32 tolerance, rtol 1.3e-6 and atol 1e-5, at the task's sizes). With --json, " +
            "a correct program's line carries its cost (see stepforge cost).\n" +
            "Exit 0 if all are correct, 1 if any is rejected, 2 if the invocation or a task file is bad.")
        {
            seed, trials, size, fixedTolerance, maxMemory,
        };
        shared.AddTo(command);
        command.SetAction(parsed =>
        {
            if (!shared.Validate(parsed, io)) return StepForgeCli.ExitBadInput;
            if (parsed.GetValue(trials) < 1)
            {
                io.Error.WriteLine("stepforge: error: --trials must be at least 1");
                return StepForgeCli.ExitBadInput;
            }
            if (!TryParseSizes(parsed.GetValue(size) ?? [], io, out var sizes)) return StepForgeCli.ExitBadInput;
            if (parsed.GetValue(maxMemory) is < 1 or > 1L << 30)
            {
                io.Error.WriteLine("stepforge: error: --max-memory must be a positive number of MiB");
                return StepForgeCli.ExitBadInput;
            }
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

    /// <summary>Reads --size SYM=VALUE options; false (after saying why) when one is malformed.</summary>
    public static bool TryParseSizes(IEnumerable<string> items, ConsoleIo io, out Dictionary<string, long> sizes)
    {
        sizes = [];
        foreach (var item in items)
        {
            var parts = item.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0 || !parts[0].All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
                || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v <= 0 || v > 1_000_000)
            {
                io.Error.WriteLine($"stepforge: error: --size {item}: expected SYM=VALUE with a positive integer value, as in --size M=16");
                return false;
            }
            sizes[parts[0]] = v;
        }
        return true;
    }
}
