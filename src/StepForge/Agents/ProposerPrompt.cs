using System.Text;
using StepForge.Tasks;

namespace StepForge.Agents;

/// <summary>
/// Builds the proposer's prompt: our language guide, the op examples and any demonstrations (each a task with a
/// verified program), then the task itself, as YAML (the structural IR) or, in the single-ws setting, as Python source.
/// </summary>
public static class ProposerPrompt
{
    public static Prompt Build(TaskSpec task, Setting setting, IReadOnlyList<Demonstration>? demonstrations = null, string? feedback = null)
    {
        var shown = PromptLibrary.Examples.Select(e => new Demonstration(e, e.Impl!)).Concat(demonstrations ?? []).ToList();
        var user = new StringBuilder();
        bool ws = setting == Setting.SingleWs;
        user.AppendLine(ws ? "Solved examples:" : "Solved examples (each a task with a correct program):").AppendLine();
        foreach (var demo in shown)
        {
            if (ws) user.AppendLine("```python").Append(PythonSource.Render(demo.Task, demo.Impl)).AppendLine("```").AppendLine();
            else user.AppendLine("```yaml").Append(StructuredTask(demo.Task, demo.Impl)).AppendLine("```").AppendLine();
        }
        user.AppendLine("Your task:").AppendLine();
        if (ws) user.AppendLine("```python").Append(PythonSource.Render(task, null)).AppendLine("```");
        else user.AppendLine("```yaml").Append(StructuredTask(task, null)).AppendLine("```");
        if (feedback is not null)
            user.AppendLine().AppendLine("Your previous answer was rejected by the verifier:").AppendLine(feedback)
                .AppendLine("Correct the program and answer again in the same format.");
        return new Prompt(ws ? PromptLibrary.ProposerWithoutStructure : PromptLibrary.Proposer, user.ToString());
    }

    /// <summary>The task as the model sees it: no source path, and no program unless one is being shown.</summary>
    public static string StructuredTask(TaskSpec task, string? impl) =>
        TaskWriter.Write(task with { Impl = impl, Upstream = null, Group = null });
}
