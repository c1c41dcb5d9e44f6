using StepForge.Learning;
using StepForge.Tests.Agents;
using StepForge.Tests.Support;

namespace StepForge.Tests.Cli;

/// <summary>
/// No model answer can stop a run: answers that once crashed the checker (and, cached, crashed every rerun at the same
/// sample) are recorded with their verdicts, and a rerun asks nothing and gets the same verdicts from the cache.
/// </summary>
public class HostileAnswerRunTests
{
    private static string Program(string program) =>
        "```yaml\nimpl: |\n" + string.Concat(program.Split('\n').Select(l => "  " + l + "\n")) + "```\n";

    private static readonly (string Answer, string Verdict)[] Answers =
    [
        ("impl: " + new string('[', 50_000), "parse"),
        ("impl: {\u0085p", "parse"),
        ("impl: [\u2028x", "parse"),
        (string.Concat(Enumerable.Repeat("- ", 50_000)) + "x", "parse"),
        (Program("y = step.Repeat(n=M*2147483647*2147483647*2147483647).apply(x)\nreturn y"), "limit"),
        (Program("r = list(range(100000))\nq = [enumerate(r) for i in range(1000)]\nreturn x"), "limit"),
        (Program("y = " + new string('(', 100_000) + "x" + new string(')', 100_000) + "\nreturn y"), "parse"),
        (new string('x', 200_000), "parse"),
    ];

    [Fact]
    public void EveryHostileAnswer_IsRecordedWithItsVerdict_AndARerunAsksNothing()
    {
        var dir = Scratch.Folder("stepforge-hostile-");
        for (int i = 0; i < Answers.Length; i++)
            File.WriteAllText(Path.Combine(dir, $"h{i}.yaml"), AgentScenario.Source.Replace("name: norm-rmsnorm", $"name: h{i}", StringComparison.Ordinal));
        using var server = new FakeModelServer((r, _) => new FakeReply.Answer(Answers[int.Parse(AgentScenario.TaskOf(r)[1..], System.Globalization.CultureInfo.InvariantCulture)].Answer));
        var db = Path.Combine(Scratch.Folder(), "hostile.sqlite");
        string[] args = ["run", "--model", "openai:fake", "--base-url", server.OpenAIUrl, "--tasks", dir, "--samples", "1", "--db", db];

        var (exit, _, err) = Support.Cli.Run(args);
        Assert.True(exit == 0, err);
        Assert.DoesNotContain("internal error", err, StringComparison.Ordinal);
        int asked = server.Requests;
        Assert.Equal(Answers.Length, asked);
        using (var store = new ExperienceStore(db))
        {
            var samples = store.Samples();
            Assert.Equal(Answers.Length, samples.Count);
            for (int i = 0; i < Answers.Length; i++)
                Assert.Equal(Answers[i].Verdict, samples.Single(s => s.Key.Task == $"h{i}").Verdict);
        }

        // The rerun finds every sample stored and asks nothing; the cache holds each answer as text only.
        (exit, _, err) = Support.Cli.Run(args);
        Assert.True(exit == 0, err);
        Assert.Equal(asked, server.Requests);
        Assert.DoesNotContain("internal error", err, StringComparison.Ordinal);
    }
}
