namespace StepForge.Agents;

/// <summary>Who makes a program affine in the agent setting.</summary>
public enum GuardianKind
{
    /// <summary>StepForge's AffineRepair: the fewest Copy ops, no model call.</summary>
    Repair,

    /// <summary>A second model call with the guardian prompt (the paper's agentic setting: two calls per sample).</summary>
    Model,
}
