using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Synthesis;

/// <summary>One production used by a verified program: its kind, its fns and dim, the streams it reads and the one it makes.</summary>
/// <param name="Args">Stream ids it reads (after Copy ops are seen through).</param>
internal sealed record ProductionUse(string Kind, IReadOnlyList<FnDecl> Fns, Dim? Dim, IReadOnlyList<int> Args, int Result);

/// <summary>
/// A verified program read back in the search's own terms: its ops grouped into the grammar's productions (Zip → Map
/// is one ZipMap, Bufferize → Repeat → Streamify one Broadcast, Partition → Maps → Merge one Experts step), with Copy
/// ops seen through. This is what learning counts and cuts pieces from.
/// </summary>
internal sealed class ProductionGraph
{
    private ProductionGraph(IReadOnlyList<ProductionUse> uses, IReadOnlyList<int> returns) => (Uses, Returns) = (uses, returns);

    /// <summary>The productions, each after those whose results it reads.</summary>
    public IReadOnlyList<ProductionUse> Uses { get; }

    /// <summary>The streams the program returns.</summary>
    public IReadOnlyList<int> Returns { get; }

    /// <summary>The program as productions, or null when it does not bind in its task (a demonstration from another version).</summary>
    public static ProductionGraph? Read(TaskSpec task, string program)
    {
        var (bound, problem) = StaticChecker.Bind(program, task.Environment());
        if (bound is null || problem is not null) return null;
        var p = bound.Program;
        // Copy outputs are the stream copied.
        var alias = Enumerable.Range(0, p.Streams.Count).ToArray();
        int Resolve(int s)
        {
            while (alias[s] != s) s = alias[s];
            return s;
        }
        foreach (var op in p.Ops)
            if (op.Op is CopyOp)
                foreach (var o in op.Outputs) alias[o] = op.Inputs[0];
        var consumers = new Dictionary<int, List<int>>();
        for (int i = 0; i < p.Ops.Count; i++)
            foreach (var s in p.Ops[i].Inputs)
            {
                var r = Resolve(s);
                if (!consumers.TryGetValue(r, out var list)) consumers[r] = list = [];
                list.Add(i);
            }
        int? OnlyConsumer(int stream) => consumers.TryGetValue(stream, out var list) && list.Count == 1 ? list[0] : null;

        var uses = new List<ProductionUse>();
        var done = new bool[p.Ops.Count];
        for (int i = 0; i < p.Ops.Count; i++)
        {
            if (done[i]) continue;
            var op = p.Ops[i];
            var args = op.Inputs.Select(Resolve).ToList();
            switch (op.Op)
            {
                case CopyOp:
                    done[i] = true;
                    continue;
                case PartitionOp:
                {
                    // Partition → one Map per part → Merge over the mapped parts.
                    var maps = op.Outputs.Select(o => OnlyConsumer(o)).ToList();
                    if (maps.Any(m => m is null || p.Ops[m.Value].Op is not MapOp)) return null;
                    var merges = maps.Select(m => OnlyConsumer(p.Ops[m!.Value].Outputs[0])).Distinct().ToList();
                    if (merges is not [{ } merge] || p.Ops[merge].Op is not MergeOp mergeOp) return null;
                    var experts = maps.Select(m => ((MapOp)p.Ops[m!.Value].Op).Fn).ToList();
                    foreach (var m in maps) done[m!.Value] = true;
                    done[merge] = done[i] = true;
                    uses.Add(new ProductionUse("Experts", [.. experts, mergeOp.Fn], null, [args[0], Resolve(p.Ops[merge].Inputs[^1])], p.Ops[merge].Outputs[0]));
                    continue;
                }
                case ZipOp when args.Count >= 2:
                {
                    // n-ary Zips nest as binary ones; a Zip read only by a Map, Accum or Scan fuses with it.
                    int left = args[0];
                    for (int k = 1; k < args.Count - 1; k++)
                    {
                        int nested = -(uses.Count + 1) - 1_000_000;
                        uses.Add(new ProductionUse("Zip", [], null, [left, args[k]], nested));
                        left = nested;
                    }
                    int result = op.Outputs[0];
                    if (OnlyConsumer(result) is { } next && Fusable(p.Ops[next].Op) is { } kind && !done[next])
                    {
                        done[next] = true;
                        uses.Add(new ProductionUse(kind, [FnOf(p.Ops[next].Op)], null, [left, args[^1]], p.Ops[next].Outputs[0]));
                    }
                    else uses.Add(new ProductionUse("Zip", [], null, [left, args[^1]], result));
                    done[i] = true;
                    continue;
                }
                case MapOp map when args.Count >= 2:
                {
                    int left = args[0];
                    for (int k = 1; k < args.Count - 1; k++)
                    {
                        int nested = -(uses.Count + 1) - 1_000_000;
                        uses.Add(new ProductionUse("Zip", [], null, [left, args[k]], nested));
                        left = nested;
                    }
                    uses.Add(new ProductionUse("ZipMap", [map.Fn], null, [left, args[^1]], op.Outputs[0]));
                    done[i] = true;
                    continue;
                }
                case BufferizeOp bufferize when OnlyConsumer(op.Outputs[0]) is { } r && p.Ops[r].Op is RepeatOp repeat
                                                && OnlyConsumer(p.Ops[r].Outputs[0]) is { } s && p.Ops[s].Op is StreamifyOp:
                    done[i] = done[r] = done[s] = true;
                    uses.Add(new ProductionUse($"Broadcast{bufferize.A}", [], repeat.N, args, p.Ops[s].Outputs[0]));
                    continue;
                default:
                    if (Kind(op.Op) is not { } single) return null;
                    done[i] = true;
                    uses.Add(new ProductionUse(single, op.Op switch { MapOp m => [m.Fn], AccumOp a => [a.Fn], ScanOp sc => [sc.Fn], _ => [] },
                        op.Op switch { RepeatOp rep => rep.N, ReshapeOp re => re.S, _ => null }, args, op.Outputs[0]));
                    continue;
            }
        }
        return new ProductionGraph(uses, [.. p.Returns.Select(Resolve)]);
    }

    private static string? Fusable(StepOp op) => op switch
    {
        MapOp => "ZipMap",
        AccumOp a => $"ZipAccum{a.B}",
        ScanOp s => $"ZipScan{s.B}",
        _ => null,
    };

    private static FnDecl FnOf(StepOp op) => op switch
    {
        MapOp m => m.Fn,
        AccumOp a => a.Fn,
        ScanOp s => s.Fn,
        _ => throw new ArgumentException("no fn", nameof(op)),
    };

    /// <summary>The grammar's name for a single op, as <see cref="Grammar"/> writes it.</summary>
    public static string? Kind(StepOp op) => op switch
    {
        MapOp => "Map",
        ZipOp => "Zip",
        AccumOp a => $"Accum{a.B}",
        ScanOp s => $"Scan{s.B}",
        BufferizeOp b => $"Bufferize{b.A}",
        StreamifyOp => "Streamify",
        PromoteOp p => $"Promote{p.B}",
        FlattenOp f => $"Flatten{f.L[0]}-{f.L[^1]}",
        ReshapeOp => "Reshape",
        RepeatOp => "Repeat",
        RepeatRefOp => "RepeatRef",
        _ => null,
    };
}
