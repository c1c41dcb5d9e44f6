namespace StepForge.Agents;

/// <summary>The two texts of one request.</summary>
public sealed record Prompt(string System, string User);
