using System.Text;
using StepForge.Tasks;

namespace StepForge.Agents;

/// <summary>The LLM guardian's prompt: the program to make affine, and the task's stream names for context.</summary>
public static class GuardianPrompt
{
    public static Prompt Build(TaskSpec task, string impl)
    {
        var user = new StringBuilder();
        user.Append("Input streams: ").AppendJoin(", ", task.Inputs.Select(i => i.Name)).AppendLine();
        user.Append("Functions: ").AppendJoin(", ", task.Fns.Select(f => f.FuncName)).AppendLine().AppendLine();
        user.AppendLine("Program:").AppendLine("```yaml").AppendLine("impl: |");
        foreach (var line in impl.TrimEnd().Split('\n')) user.Append("  ").AppendLine(line.TrimEnd('\r'));
        user.AppendLine("```");
        return new Prompt(PromptLibrary.Guardian, user.ToString());
    }
}
