using StepForge.Agents;
using StepForge.Diagnostics;
using StepForge.PyLite.Runtime;
using StepForge.Tasks;
using StepForge.Tensors;
using StepForge.Tests.Support;

namespace StepForge.Tests.Tasks;

/// <summary>
/// Seeded mutation fuzzing of task files and model answers: whatever the text, reading and verifying it ends in a
/// task-file error or a verdict, never in an unforeseen failure, an internal error or the clock. The suite runs a few
/// thousand inputs; STEPFORGE_FUZZ=N runs N of each (the closing note of a hardening change reports a long run).
/// </summary>
public class FuzzTests
{
    private static int Count(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("STEPFORGE_FUZZ"), out var n) && n > 0 ? n : fallback;

    /// <summary>Small budgets keep each input fast; what is tested is that every input ends in a verdict.</summary>
    private static readonly VerifyOptions Options = new(Trials: 1, MaxMemoryBytes: 64L << 20, Budget: () => new ExecutionBudget
    {
        MaxTensorElements = 1 << 20, MaxWork = 20_000_000, MaxSteps = 300_000, MaxAllocatedBytes = 128L << 20,
    });

    private static readonly string[] Sources = [.. Directory.EnumerateFiles(TestPaths.ProjectBenchmark, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    /// <summary>Text that has broken readers and interpreters before: sizes near the integer limits, odd characters, nesting.</summary>
    private static readonly string[] Tokens =
    [
        "0", "-1", "1", "2147483647", "-2147483648", "9223372036854775807", "99999999999999999999", "1e308", "-inf", "nan", "0.5",
        "[", "]", "{", "}", "(", ")", ":", "- ", "|", ">", "'", "\"", "#", "&a", "*a", "!!str", "\t", "\n", "  ", "\u0085", "\u2028",
        "\u2029", "\0", "\uffff", "\ud800", "M", "N", "K", "D", "E", "E_value", "x", "input[0]", "state[0]", "step.Repeat(n=M*M*M*M)",
        "step.Zip()", "step.Partition(N=E)", "torch.zeros(65536, 65536)", "[0] * 99999", "**", "@", "None", "lambda", "__class__",
        "fp32", "Buffer(fp32, [D, D])", "Multihot(fp32, E)", "[fp32, fp32]", "dims", "dtype", "impl", "fns", "outputs", "global",
    ];

    private static string Mutate(string text, Random rng, int maxEdits)
    {
        int edits = 1 + rng.Next(maxEdits);
        for (int e = 0; e < edits && text.Length > 0; e++)
        {
            int at = rng.Next(text.Length);
            switch (rng.Next(6))
            {
                case 0:
                    text = text.Remove(at, Math.Min(text.Length - at, 1 + rng.Next(40)));
                    break;
                case 1:
                    text = text.Insert(at, Tokens[rng.Next(Tokens.Length)]);
                    break;
                case 2:
                {
                    // Replace a word with a token.
                    int end = at;
                    while (end < text.Length && char.IsLetterOrDigit(text[end])) end++;
                    text = text[..at] + Tokens[rng.Next(Tokens.Length)] + text[end..];
                    break;
                }
                case 3:
                {
                    var lines = text.Split('\n').ToList();
                    int i = rng.Next(lines.Count);
                    lines.Insert(rng.Next(lines.Count), lines[i]);
                    text = string.Join('\n', lines);
                    break;
                }
                case 4:
                {
                    var lines = text.Split('\n').ToList();
                    int i = rng.Next(lines.Count), j = rng.Next(lines.Count);
                    (lines[i], lines[j]) = (lines[j], lines[i]);
                    text = string.Join('\n', lines);
                    break;
                }
                default:
                    text = text.Insert(at, new string(text[rng.Next(text.Length)], 1 + rng.Next(8)));
                    break;
            }
        }
        return text;
    }

    private static void AssertAVerdict(Verdict verdict, string input)
    {
        Assert.True(verdict.Rule != "internal", $"internal failure on:\n{input}\n{verdict.Message}");
        Assert.True(verdict.Rule != Rules.LimitTime.Id, $"stopped by the clock on:\n{input}");
        Assert.True(!verdict.Message.Contains(Interpreter.UnforeseenMarker, StringComparison.Ordinal), $"unforeseen failure on:\n{input}\n{verdict.Message}");
    }

    [Fact]
    public void MutatedTaskFiles_AreBadTaskFilesOrGetVerdicts()
    {
        var rng = new Random(20261201);
        int verdicts = 0, badFiles = 0;
        for (int n = 0; n < Count(1500); n++)
        {
            var text = Mutate(File.ReadAllText(Sources[rng.Next(Sources.Length)]), rng, maxEdits: 2);
            TaskSpec task;
            try
            {
                task = TaskReader.Read(text, "fuzzed.yaml");
            }
            catch (TaskFileException)
            {
                badFiles++;
                continue;
            }
            if (task.Impl is null) continue;
            AssertAVerdict(Sampler.VerifySafely(new TaskVerifier(task, Options), task, task.Impl), text);
            verdicts++;
        }
        // The mutations must reach verification often enough to mean something.
        Assert.True(verdicts > Count(1500) / 4, $"{verdicts} verdicts, {badFiles} bad files");
    }

    [Fact]
    public void MutatedAnswers_GetVerdicts()
    {
        var rng = new Random(7);
        var tasks = Sources.Select(TaskReader.ReadFile).ToList();
        var verifiers = tasks.Select(t => new TaskVerifier(t with { Impl = null }, Options with { RepairAffine = true })).ToList();
        int programs = 0;
        for (int n = 0; n < Count(1500); n++)
        {
            int k = rng.Next(tasks.Count);
            var answer = Mutate("```yaml\nimpl: |\n" + string.Concat(tasks[k].Impl!.Split('\n').Select(l => "  " + l + "\n")) + "```\n", rng, maxEdits: 4);
            var extraction = AnswerExtractor.Extract(answer, Setting.Single);
            if (extraction.Impl is null) continue;
            programs++;
            AssertAVerdict(Sampler.VerifySafely(verifiers[k], tasks[k], extraction.Impl), answer);
        }
        Assert.True(programs > Count(1500) / 2, $"{programs} programs extracted");
    }
}
