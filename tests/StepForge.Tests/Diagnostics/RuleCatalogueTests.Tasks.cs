using System.Text.Json;
using StepForge.Agents;
using StepForge.Synthesis;
using StepForge.Tasks;
using StepForge.Tensors;
using StepForge.Tests.Support;

namespace StepForge.Tests.Diagnostics;

/// <summary>
/// Cases of the rules reported outside the static checker: each goes through the public path that reports it (the
/// verifier on a whole task, the cost model, the task reader behind the command line, the sampler with its proposers).
/// </summary>
public partial class RuleCatalogueTests
{
    /// <summary>A small task file: x, one fn fn_f (x * 2 unless given), one output out of x's shape, and its impl.</summary>
    private static string TaskText(string reference = "input_data['x'] * 2", string body = "return [input[0] * 2]",
        string impl = "return step.Map(fn=fn_f).apply(x)", string sizes = "{N: 4, M: 3}") => $"""
        name: rule-case
        sizes: {sizes}
        inputs:
          - name: x
            dtype: fp32
            dims: [N, M]
            data_gen: torch.rand
        fns:
          - name: F
            func_name: fn_f
            input_dtype: fp32
            output_dtype: fp32
            apply: |
        {TaskYaml.Indent(body, 6)}
        outputs:
          - name: out
            dtype: fp32
            dims: [N, M]
            data_transform: |
        {TaskYaml.Indent(reference, 6)}
        impl: |
        {TaskYaml.Indent(impl)}

        """;

    private static TaskSpec TaskOf(string text) => TaskReader.Read(text, "rule-case.yaml");

    /// <summary>The task's own impl through the verifier.</summary>
    private static Func<string?> Verified(string text, VerifyOptions? options = null) => () => Verifier.Verify(TaskOf(text), options: options).Rule;

    /// <summary>The task's own impl through the cost model at the task's sizes.</summary>
    private static Func<string?> Costed(string text) => () =>
    {
        var task = TaskOf(text);
        return TaskCost.Estimate(task, task.Impl!).Problem?.Rule;
    };

    /// <summary><c>stepforge verify --json</c> on the text as a task file: the rule of its verdict line.</summary>
    private static Func<string?> VerifiedFile(string text) => () =>
    {
        var dir = Scratch.Folder("stepforge-rule-");
        try
        {
            var path = Path.Combine(dir, "rule-case.yaml");
            File.WriteAllText(path, text);
            var (_, output, _) = Support.Cli.Run("verify", "--json", path);
            var rule = JsonDocument.Parse(output.Split('\n')[0]).RootElement.GetProperty("rule");
            return rule.ValueKind == JsonValueKind.Null ? null : rule.GetString();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    };

    /// <summary>One sample of the task by the sampler with this proposer: the rule of the stored verdict.</summary>
    private static Func<string?> Sampled(Func<IProposer> proposer, Func<TaskSpec> task) => () =>
    {
        var log = new KeptSamples();
        new Sampler(proposer(), log, new SamplerOptions(Setting.Single, 1, [0.7], Concurrency: 1)).RunAsync([task()]).GetAwaiter().GetResult();
        return log.Last!.Verdict.Rule;
    };

    /// <summary>One sample by the built-in search with a small budget.</summary>
    private static Func<string?> Searched(Func<TaskSpec> task) => Sampled(() => new SearchProposer(new SearchOptions(MaxCandidates: 300)), task);

    /// <summary>A candidate checked as the sampler checks an answer, with the budget the verifier is given.</summary>
    private static Func<string?> CheckedSafely(Func<ExecutionBudget> budget) => () =>
    {
        var task = TaskOf(TaskText());
        return Sampler.VerifySafely(new TaskVerifier(task, new VerifyOptions(Budget: budget)), task, task.Impl!).Rule;
    };

    /// <summary>A model that answers this text, read as <see cref="LlmProposer"/> reads a model's answer.</summary>
    private sealed class Said(string text) : IProposer
    {
        public string Id => "test:said";

        public long Calls => 0;

        public bool HasPrice => false;

        public Task<Proposal> ProposeAsync(ProposalRequest request, CancellationToken cancellationToken)
        {
            var extraction = AnswerExtractor.Extract(text, request.Setting);
            return Task.FromResult(new Proposal(new Prompt("", ""), text, extraction.Impl, extraction.Problem, Unsolved: false,
                0, 0, UsageEstimated: false, Cost: 0m, Seconds: 0, Retries: 0, Cached: false));
        }
    }

    /// <summary>The sampler's log kept in memory: the last sample recorded.</summary>
    private sealed class KeptSamples : ISampleLog
    {
        public SampleRecord? Last { get; private set; }

        public bool IsDone(SampleKey key) => false;

        public void Record(SampleRecord record) => Last = record;

        public void RecordError(SampleKey key, string message) => throw new InvalidOperationException(message);
    }

    private const string TwoMaps = "y = step.Map(fn=fn_f).apply(x)\nreturn step.Map(fn=fn_f).apply(y)";

    /// <summary>x through 60 Copies, one after the other (programs have no for statement, so the lines are written out).</summary>
    private static string CopyChain => "s0 = x\n"
        + string.Concat(Enumerable.Range(0, 60).Select(k => $"s{k + 1}, t{k + 1} = step.Copy().apply(s{k})\n")) + "return s60";

    /// <summary>An fn body handing torch a list that holds itself, so it nests without end; or a plain list.</summary>
    private static string Nested(bool cyclic) => "l = [0]\n" + (cyclic ? "l[0] = l\n" : "") + "t = torch.tensor(l)\nreturn [input[0] * 2]";
}
