using System.Globalization;
using System.Runtime;

namespace StepForge.Tasks;

/// <summary>
/// The garbage collector a measurement ran under. Verification allocates fast enough that the collector's settings move
/// the figures by several percent (bench/README.md), so a published figure says which settings it was taken with.
/// </summary>
/// <param name="Gen0Size">
/// The youngest generation's budget set by <c>DOTNET_GCgen0size</c>, which the runtime reads only from the environment;
/// null when unset or not a number it accepts, and then the runtime sizes it itself.
/// </param>
/// <param name="Gen0MaxBudget">The cap on that budget from the runtime configuration (0: none).</param>
public sealed record CollectorSettings(bool Server, int Heaps, bool Concurrent, long? Gen0Size, long Gen0MaxBudget, long RegionSize)
{
    public const string Gen0SizeVariable = "DOTNET_GCgen0size";

    /// <summary>The settings of this process.</summary>
    public static CollectorSettings Current()
    {
        var variables = GC.GetConfigurationVariables();
        long Number(string name) => variables.TryGetValue(name, out var v) ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : 0;
        bool server = GCSettings.IsServerGC;
        return new CollectorSettings(server, server ? (int)Math.Max(1, Number("HeapCount")) : 1,
            variables.TryGetValue("ConcurrentGC", out var concurrent) && concurrent is true,
            ParseGen0Size(Gen0SizeSetting(Environment.GetEnvironmentVariable)),
            Number("GCGen0MaxBudget"), Number("GCRegionSize"));
    }

    /// <summary>The gen0 budget's text in an environment, under the runtime's prefix or its older one; null when neither is set.</summary>
    public static string? Gen0SizeSetting(Func<string, string?> environment) =>
        environment(Gen0SizeVariable) ?? environment("COMPlus_GCgen0size");

    /// <summary>The value as the runtime reads it: hexadecimal, with or without 0x; zero or anything else leaves the budget to the runtime.</summary>
    public static long? ParseGen0Size(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var digits = text.Trim();
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) digits = digits[2..];
        return long.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long bytes) && bytes > 0 ? bytes : null;
    }

    /// <summary>One line for people, e.g. "server, 2 heaps, non-concurrent; gen0 budget the runtime's, at most 16 MiB; regions of 16 MiB".</summary>
    public string Describe()
    {
        var kind = Server ? $"server, {Heaps} heap{(Heaps == 1 ? "" : "s")}" : "workstation";
        var gen0 = Gen0Size is { } size ? $"gen0 budget {Mib(size)} ({Gen0SizeVariable})" : $"gen0 budget the runtime's ({Gen0SizeVariable} unset)";
        var cap = Gen0MaxBudget > 0 ? $", at most {Mib(Gen0MaxBudget)}" : "";
        var regions = RegionSize > 0 ? $"; regions of {Mib(RegionSize)}" : "";
        return $"{kind}, {(Concurrent ? "concurrent" : "non-concurrent")}; {gen0}{cap}{regions}";
    }

    private static string Mib(long bytes) => bytes % (1 << 20) == 0
        ? $"{bytes >> 20} MiB"
        : (bytes / (double)(1 << 20)).ToString("0.##", CultureInfo.InvariantCulture) + " MiB";
}
