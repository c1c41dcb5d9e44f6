using Microsoft.Extensions.AI;
using StepForge.Llm;
using StepForge.Tasks;

namespace StepForge.Agents;

/// <summary>
/// An LLM as proposer: the task and demonstrations become our prompt (<see cref="ProposerPrompt"/>), the model answers
/// through an <see cref="IChatClient"/> (as <see cref="ModelPipeline"/> composes it: retries, cache, token and cost
/// accounting), and the program is extracted from the text. It is also the model guardian of the agent setting.
/// </summary>
/// <param name="id">The model as results name it (<see cref="ModelSpec.Id"/>).</param>
public sealed class LlmProposer(IChatClient chat, string id) : IProposer, IGuardian
{
    public string Id => id;

    /// <summary>Calls that reached the model, as the pipeline's reporting layer counts them (none without one).</summary>
    public long Calls => chat.GetService<CallReportingChatClient>()?.Calls ?? 0;

    public bool HasPrice => chat.GetService<PricingChatClient>()?.Price is not null;

    public async Task<Proposal> ProposeAsync(ProposalRequest request, CancellationToken cancellationToken)
    {
        var prompt = ProposerPrompt.Build(request.Task, request.Setting, request.Demonstrations, request.Feedback);
        var role = request.Round == 0 ? "proposer" : $"proposer-{request.Round}";
        var answer = await chat.AskAsync(new ModelRequest(prompt.System, prompt.User, request.Temperature, request.SampleIndex, role, request.MaxTokens),
            cancellationToken).ConfigureAwait(false);
        var extraction = AnswerExtractor.Extract(answer.Text, request.Setting);
        return Of(prompt, answer, extraction);
    }

    public async Task<Proposal> GuardAsync(TaskSpec task, string impl, double temperature, int sampleIndex, int round, int maxTokens, CancellationToken cancellationToken)
    {
        var prompt = GuardianPrompt.Build(task, impl);
        var role = round == 0 ? "guardian" : $"guardian-{round}";
        var answer = await chat.AskAsync(new ModelRequest(prompt.System, prompt.User, temperature, sampleIndex, role, maxTokens), cancellationToken).ConfigureAwait(false);
        return Of(prompt, answer, AnswerExtractor.ExtractImpl(answer.Text));
    }

    private static Proposal Of(Prompt prompt, ModelAnswer answer, Extraction extraction) =>
        new(prompt, answer.Text, extraction.Impl, extraction.Problem, Unsolved: false, answer.InputTokens, answer.OutputTokens, answer.UsageEstimated,
            answer.Cost, answer.Seconds, answer.Retries, answer.Cached);
}
