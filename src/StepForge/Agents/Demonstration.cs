using StepForge.Tasks;

namespace StepForge.Agents;

/// <summary>A solved task shown in a prompt: the task and one of its verified programs.</summary>
public sealed record Demonstration(TaskSpec Task, string Impl);
