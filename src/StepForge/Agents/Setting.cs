namespace StepForge.Agents;

/// <summary>How a sample is produced: the paper's three settings.</summary>
public enum Setting
{
    /// <summary>The proposer alone, shown the task's structured YAML.</summary>
    Single,

    /// <summary>The proposer, then a guardian that makes the program affine.</summary>
    Agent,

    /// <summary>The proposer alone, shown the task as Python source ("without structure"); it answers <c>def body(...)</c>.</summary>
    SingleWs,
}

public static class Settings
{
    public static string Name(Setting setting) => setting switch
    {
        Setting.Single => "single",
        Setting.Agent => "agent",
        _ => "single-ws",
    };

    public static bool TryParse(string text, out Setting setting)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "single": setting = Setting.Single; return true;
            case "agent": setting = Setting.Agent; return true;
            case "single-ws": setting = Setting.SingleWs; return true;
            default: setting = default; return false;
        }
    }
}
