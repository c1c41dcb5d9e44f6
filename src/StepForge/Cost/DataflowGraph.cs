namespace StepForge.Cost;

/// <summary>A FIFO channel between units: one stream of the program.</summary>
internal sealed class Channel(string name, long count, long elementBytes)
{
    public string Name { get; } = name;

    /// <summary>Elements the producer puts into it over the whole run.</summary>
    public long Count { get; } = count;

    public long ElementBytes { get; } = elementBytes;

    public int Producer { get; set; } = -1;

    /// <summary>The units (and their input ports) that read it: one in an affine program, plus a sink when it is also returned.</summary>
    public List<(int Unit, int Port)> Readers { get; } = [];
}

/// <summary>The typed program as units joined by channels, in an order where every producer comes before its readers.</summary>
internal sealed class DataflowGraph(IReadOnlyList<Unit> units, IReadOnlyList<Channel> channels)
{
    public IReadOnlyList<Unit> Units { get; } = units;

    /// <summary>By stream id.</summary>
    public IReadOnlyList<Channel> Channels { get; } = channels;

    /// <summary>For each unit and input port, its position among the channel's readers.</summary>
    public int ReaderIndex(int unit, int port)
    {
        var readers = Channels[Units[unit].Inputs[port]].Readers;
        for (int r = 0; r < readers.Count; r++)
            if (readers[r] == (unit, port)) return r;
        throw new InvalidOperationException($"unit {unit} port {port} is not a reader of its channel");
    }

    public static DataflowGraph Link(IReadOnlyList<Unit> units, IReadOnlyList<Channel> channels)
    {
        for (int u = 0; u < units.Count; u++)
        {
            for (int p = 0; p < units[u].Inputs.Length; p++) channels[units[u].Inputs[p]].Readers.Add((u, p));
            foreach (var c in units[u].Outputs) channels[c].Producer = u;
        }
        return new DataflowGraph(units, channels);
    }
}
