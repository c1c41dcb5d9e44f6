using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace StepForge.Cost;

/// <summary>A machine file that cannot be used: which file, which key, what is wrong.</summary>
public sealed class MachineFileException(string path, string message) : Exception($"{path}: {message}")
{
    public string Path { get; } = path;
}

/// <summary>
/// The accelerator the cost model assumes (cost-model.md, "The machine"). The defaults are the doc's; a YAML file
/// with the same keys overrides any of them.
/// </summary>
/// <param name="Lanes">fp32 operations a compute unit does per cycle.</param>
/// <param name="OnChipBytesPerCycle">Bytes a unit reads or writes from an on-chip buffer per cycle.</param>
/// <param name="OffChipBytesPerCycle">Bytes per cycle between off-chip memory and the chip, for the whole program.</param>
/// <param name="FifoDepth">Elements each channel holds, for the deadlock check.</param>
/// <param name="DoubleBuffer">Bufferize and Accum/Scan buffers count twice.</param>
/// <param name="ClockGhz">Only to print a time beside the cycles.</param>
public sealed record Machine(
    int Lanes = 16,
    int OnChipBytesPerCycle = 64,
    int OffChipBytesPerCycle = 64,
    int FifoDepth = 2,
    bool DoubleBuffer = true,
    double ClockGhz = 1.0)
{
    public static Machine Default { get; } = new();

    /// <summary>The keys of a machine file, as cost-model.md names them, with what each means.</summary>
    public static IReadOnlyList<(string Key, string Meaning)> Keys { get; } =
    [
        ("lanes", "fp32 operations a compute unit does per cycle"),
        ("onchip_bytes_per_cycle", "bytes a unit reads or writes from an on-chip buffer per cycle"),
        ("offchip_bytes_per_cycle", "bytes per cycle between off-chip memory and the chip, for the whole program"),
        ("fifo_depth", "elements each channel holds (for the deadlock check)"),
        ("double_buffer", "Bufferize and Accum/Scan buffers count twice"),
        ("clock_ghz", "only to print a time beside the cycles"),
    ];

    /// <summary>The value of a key as a machine file writes it.</summary>
    public string Value(string key) => key switch
    {
        "lanes" => Lanes.ToString(CultureInfo.InvariantCulture),
        "onchip_bytes_per_cycle" => OnChipBytesPerCycle.ToString(CultureInfo.InvariantCulture),
        "offchip_bytes_per_cycle" => OffChipBytesPerCycle.ToString(CultureInfo.InvariantCulture),
        "fifo_depth" => FifoDepth.ToString(CultureInfo.InvariantCulture),
        "double_buffer" => DoubleBuffer ? "true" : "false",
        "clock_ghz" => ClockGhz.ToString(CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"unknown machine key {key}", nameof(key)),
    };

    public static Machine ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MachineFileException(path, e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"cannot read the file ({e.Message})");
        }
        return Read(text, path);
    }

    /// <summary>Reads a YAML mapping of the keys above; a key it does not set keeps its default.</summary>
    public static Machine Read(string yaml, string path)
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count == 0) return Default;
            root = stream.Documents[0].RootNode as YamlMappingNode
                ?? throw new MachineFileException(path, "a machine file is a YAML mapping such as 'lanes: 32'");
        }
        catch (YamlException e)
        {
            throw new MachineFileException(path, $"not valid YAML: {e.Message.Split('\n')[0]}");
        }
        var machine = Default;
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            var text = (valueNode as YamlScalarNode)?.Value
                ?? throw new MachineFileException(path, $"{key}: expected a number or true/false");
            int Positive()
            {
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v <= 0)
                    throw new MachineFileException(path, $"{key}: expected a positive integer, got '{text}'");
                return v;
            }
            machine = key switch
            {
                "lanes" => machine with { Lanes = Positive() },
                "onchip_bytes_per_cycle" => machine with { OnChipBytesPerCycle = Positive() },
                "offchip_bytes_per_cycle" => machine with { OffChipBytesPerCycle = Positive() },
                "fifo_depth" => machine with { FifoDepth = Positive() },
                "double_buffer" => machine with
                {
                    DoubleBuffer = text switch
                    {
                        "true" or "True" or "yes" => true,
                        "false" or "False" or "no" => false,
                        _ => throw new MachineFileException(path, $"{key}: expected true or false, got '{text}'"),
                    },
                },
                "clock_ghz" => machine with
                {
                    ClockGhz = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ghz) && ghz > 0 && double.IsFinite(ghz)
                        ? ghz
                        : throw new MachineFileException(path, $"{key}: expected a positive number, got '{text}'"),
                },
                _ => throw new MachineFileException(path, $"unknown key '{key}'; a machine file has {string.Join(", ", Keys.Select(k => k.Key))}"),
            };
        }
        return machine;
    }
}
