using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Simulation;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tensors;

namespace StepForge.Synthesis;

/// <param name="MaxSeconds">Wall-clock budget for the whole search of one task.</param>
/// <param name="MaxCandidates">Op applications tried (typed and, when they type-check, evaluated) before giving up.</param>
/// <param name="Solution">Which distinct verified program to return (0 = the first found): samples of one task differ.</param>
/// <param name="Progress">Told after each level: its number, values kept, candidates tried, seconds.</param>
public sealed record SearchOptions(double MaxSeconds = 30, long MaxCandidates = 5_000_000, int Solution = 0, int MaxPool = 100_000,
    Action<string>? Progress = null);

/// <summary>What a search did: candidates tried, values kept after merging equivalent ones, programs verified.</summary>
public sealed record SearchStats(long Tried, int Kept, int Verified, int Rejected, double Seconds);

/// <summary>The program found (already affine and verified), or null with the reason.</summary>
public sealed record SearchResult(string? Program, SearchStats Stats, string Message)
{
    public bool Found => Program is not null;
}

/// <summary>
/// A model-free proposer: a bottom-up, type-directed search over STeP programs built from the task's input streams,
/// fns and dimension symbols. Every candidate op is typed by the language's own rules and evaluated on the task's
/// seeded data; values with the same type and the same data are merged (observational equivalence), so the pool
/// holds one program per distinct value. Partition → Map per expert → Merge is one step. A value that matches an
/// output's reference is a candidate; the program is made affine by AffineRepair and accepted only when the verifier
/// passes it on two seeds and at other sizes. The task's own <c>impl</c> is never read.
/// </summary>
public sealed class ProgramSearch
{
    private abstract record Origin;

    private sealed record FromInput(string Name) : Origin;

    private sealed record FromOp(StepOp Op, int[] Args) : Origin;

    /// <summary>Bufferize(a) → Repeat(n) → Streamify: every block of the a innermost dims repeated n times, one step.</summary>
    private sealed record FromBroadcast(int X, int A, Dim N) : Origin;

    private sealed record FromExperts(int X, int Idx, Dim N, FnDecl[] Experts, FnDecl Merge) : Origin;

    private sealed record Node(int Id, StreamType Type, Tensor[] Data, Origin Origin, int Cost, int Size, int Structural);

    private static readonly IReadOnlyDictionary<string, long> OtherSizes = new Dictionary<string, long> { ["M"] = 11, ["N"] = 13, ["K"] = 10, ["D"] = 20 };

    private readonly TaskSpec task;
    private readonly SearchOptions options;
    private readonly Stopwatch watch = Stopwatch.StartNew();
    private readonly List<Node> pool = [];
    private readonly Dictionary<(string, long), List<int>> seen = [];
    private readonly ExecutionBudget budget;
    private readonly Simulator simulator;
    private readonly IReadOnlyDictionary<string, long> sizes;
    private readonly List<List<Tensor>> references;
    private readonly List<HashSet<int>> matches;
    private readonly HashSet<string> triedPrograms = [];
    private readonly List<string> solutions = [];
    private readonly TaskVerifier verifier;
    private readonly TaskVerifier? otherSizes;
    private readonly HashSet<DType> usefulTuples = [];
    private readonly List<Dim> repeatDims;
    private readonly int maxRank;
    private readonly long maxElements;
    private long tried;
    private int rejected;

    private ProgramSearch(TaskSpec task, SearchOptions options)
    {
        this.task = task with { Impl = null };
        this.options = options;
        budget = ExecutionBudget.ForSizes(task.Sizes.Values);
        using var _ = Tensor.Use(budget);
        var runtime = new TaskRuntime(this.task, null, budget);
        sizes = runtime.Sizes;
        var data = runtime.SeededData(1);
        var first = data.ToDictionary(kv => kv.Key, kv => kv.Value[0]);
        references = Verifier.ComputeReference(this.task, runtime, first);
        simulator = runtime.NewSimulator(first);
        matches = [.. task.Outputs.Select(_ => new HashSet<int>())];

        verifier = new TaskVerifier(this.task, new VerifyOptions(Seed: 2, Trials: 2, RepairAffine: true));
        var other = OtherSizes.Where(kv => task.Sizes.ContainsKey(kv.Key) && !task.SizeSetByGlobal(kv.Key)).ToDictionary();
        if (other.Count > 0) otherSizes = new TaskVerifier(this.task, new VerifyOptions(Seed: 5, Trials: 1, RepairAffine: true, Sizes: other));

        // Tuples worth building with Zip: prefixes of the fns' tuple inputs.
        foreach (var fn in task.Fns)
            if (fn.Input is TupleType tuple)
                for (int n = 2; n <= tuple.Items.Count; n++)
                    usefulTuples.Add(new TupleType(new ValueList<DType>(tuple.Items.Take(n))));
        repeatDims = [.. task.Sizes.Keys.Order(StringComparer.Ordinal).Select(Dim.Symbol)];
        maxRank = task.Inputs.Select(i => i.Type.Rank).Concat(task.Outputs.Select(o => o.Type.Rank)).Max() + 1;
        // No stream of a benchmark program is larger than its largest input, parameter or output times its largest
        // dim: bigger candidates (repeats of repeats) are costly to evaluate and never needed.
        long largestIo = task.Inputs.Concat(task.Parameters).Select(i => i.Type).Concat(task.Outputs.Select(o => o.Type)).Select(Elements).Max();
        maxElements = largestIo * Math.Max(1, sizes.Values.DefaultIfEmpty(1).Max());

        foreach (var input in task.Inputs)
            Add(input.Type, data[input.Name], new FromInput(input.Name), cost: 0, size: 0, structural: 0);
    }

    /// <summary>Searches for a program for the task within the budget.</summary>
    public static SearchResult Run(TaskSpec task, SearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SearchOptions();
        ProgramSearch search;
        try
        {
            search = new ProgramSearch(task, options);
        }
        catch (Exception e) when (e is PyLiteRuntimeException or PyLiteSyntaxException or TensorException or LimitExceededException)
        {
            return new SearchResult(null, new SearchStats(0, 0, 0, 0, 0), $"the task's own PyTorch code failed: {e.Message}");
        }
        return search.Search(cancellationToken);
    }

    private bool OutOfBudget(CancellationToken ct) =>
        ct.IsCancellationRequested || watch.Elapsed.TotalSeconds > options.MaxSeconds || tried >= options.MaxCandidates || pool.Count >= options.MaxPool;

    private SearchResult Search(CancellationToken ct)
    {
        string stop = "no program found: every program the search can build was tried";
        // Level by level (program depth); a level that adds nothing ends the search: the next would see the same values.
        for (int size = 1; ; size++)
        {
            int before = pool.Count;
            Enumerate(size, ct);
            options.Progress?.Invoke($"level {size}: {pool.Count:N0} values kept, {tried:N0} candidates tried, {watch.Elapsed.TotalSeconds:0.0} s");
            if (Done) break;
            if (OutOfBudget(ct))
            {
                stop = ct.IsCancellationRequested ? "no program found: the search was cancelled"
                    : pool.Count >= options.MaxPool ? $"no program found: the pool reached {options.MaxPool:N0} distinct values"
                    : watch.Elapsed.TotalSeconds > options.MaxSeconds ? $"no program found within {options.MaxSeconds:0.#} s"
                    : $"no program found within {options.MaxCandidates:N0} candidates";
                break;
            }
            if (pool.Count == before) break;
        }
        var stats = new SearchStats(tried, pool.Count, triedPrograms.Count, rejected, watch.Elapsed.TotalSeconds);
        if (solutions.Count > 0)
        {
            var program = solutions[Math.Min(options.Solution, solutions.Count - 1)];
            return new SearchResult(program, stats, $"found after {tried:N0} candidates in {stats.Seconds:0.0} s");
        }
        return new SearchResult(null, stats, stop);
    }

    private bool Done => solutions.Count > options.Solution;

    /// <summary>
    /// One level of the search: every op applied to values where at least one argument is from the last level, so
    /// level d holds the programs of depth d (sizes vary; deep, narrow programs come early).
    /// </summary>
    private void Enumerate(int level, CancellationToken ct)
    {
        var fresh = pool.Where(n => n.Size == level - 1).ToList();
        foreach (var x in fresh)
        {
            if (Done || OutOfBudget(ct)) return;
            Unary(x, level);
        }
        var older = pool.Where(n => n.Size < level).ToList();
        var byShape = older.GroupBy(n => n.Type.Shape).ToDictionary(g => g.Key, g => g.ToList());
        var routes = older.Where(n => n.Type.DType is MultihotType).ToList();
        // RepeatRef (x, ref) needs ref's dims without its innermost to equal x's dims.
        var byOuterShape = older.Where(n => n.Type.Shape.Count > 1).GroupBy(n => new ValueList<Dim>(n.Type.Shape.Skip(1))).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var x in fresh)
        {
            if (Done || OutOfBudget(ct)) return;
            if (byShape.TryGetValue(x.Type.Shape, out var partners))
                foreach (var y in partners)
                {
                    if (y.Id == x.Id) continue;
                    Zip(x, y, level);
                    // Both orders; a pair of two fresh values is met twice, so only once from here.
                    if (y.Size < level - 1 || y.Id > x.Id) Zip(y, x, level);
                }
            if (x.Structural < 2 && byOuterShape.TryGetValue(x.Type.Shape, out var references))
                foreach (var reference in references) Try(new RepeatRefOp(), [x, reference], level, structural: true);
            foreach (var idx in routes)
                if (idx.Id != x.Id) Experts(x, idx, (MultihotType)idx.Type.DType, level);
            if (x.Type.DType is MultihotType route)
                foreach (var y in older)
                    if (y.Size < level - 1 && y.Id != x.Id) Experts(y, x, route, level);
        }
    }

    private void Zip(Node x, Node y, int size)
    {
        if (usefulTuples.Contains(new TupleType(new ValueList<DType>([.. x.Type.DType.Components, .. y.Type.DType.Components]))))
            Try(new ZipOp(), [x, y], size, structural: false);
    }

    private void Unary(Node x, int size)
    {
        var type = x.Type;
        foreach (var fn in task.Fns)
        {
            if (fn.Input != type.DType) continue;
            Try(new MapOp(fn), [x], size, structural: false);
            // Folds take the innermost dim (b = 1), as every benchmark program does (deeper folds are reached through
            // Flatten), and not a flattened product dim: each step of a fold is an evaluation of the fn, so long folds
            // are the search's most expensive candidates and the least likely.
            if (fn.HasInit && type.Rank >= 1 && type.Shape[0] is not ProductDim)
            {
                Try(new AccumOp(fn, 1), [x], size, structural: false);
                Try(new ScanOp(fn, 1), [x], size, structural: false);
            }
        }
        // Layout ops change how data is viewed, not the data: at most two in a row.
        if (x.Structural >= 2) return;
        bool madeByBufferize = x.Origin is FromOp { Op: BufferizeOp };
        if (!madeByBufferize && type.DType is not TupleType)
            for (int a = 1; a <= type.Rank; a++) Try(new BufferizeOp(a), [x], size, structural: true);
        if (type.DType is BufferType && !madeByBufferize) Try(new StreamifyOp(), [x], size, structural: true);
        if (type.Rank + 1 <= maxRank)
        {
            foreach (var n in repeatDims)
            {
                Try(new RepeatOp(n), [x], size, structural: true);
                if (type.DType is not TupleType and not BufferType)
                    for (int a = 1; a <= type.Rank; a++) Broadcast(x, a, n, size);
            }
            for (int b = 0; b <= type.Rank + 1; b++) Try(new PromoteOp(b), [x], size, structural: true);
        }
        for (int first = 1; first <= type.Rank; first++)
            for (int last = first; last <= type.Rank; last++)
                Try(new FlattenOp(new ValueList<int>(Enumerable.Range(first, last - first + 1))), [x], size, structural: true);
    }

    private void Broadcast(Node x, int a, Dim n, int size)
    {
        tried++;
        StreamType buffered, repeated, type;
        try
        {
            buffered = TypeRules.Apply(new BufferizeOp(a), [x.Type], sizes, "c")[0];
            repeated = TypeRules.Apply(new RepeatOp(n), [buffered], sizes, "c")[0];
            type = TypeRules.Apply(new StreamifyOp(), [repeated], sizes, "c")[0];
        }
        catch (TypeRuleException)
        {
            return;
        }
        if (type.Rank > maxRank || Elements(type) > maxElements) return;
        var data = Evaluate(() =>
        {
            var b = simulator.Apply(new BufferizeOp(a), [x.Type], [x.Data], [buffered])[0];
            var r = simulator.Apply(new RepeatOp(n), [buffered], [b], [repeated])[0];
            return simulator.Apply(new StreamifyOp(), [repeated], [r], [type])[0];
        });
        if (data is not null) Add(type, data, new FromBroadcast(x.Id, a, n), x.Cost + 3, size, x.Structural + 1);
    }

    /// <summary>Partition → a Map per expert → Merge, as one step.</summary>
    private void Experts(Node x, Node idx, MultihotType multihot, int size)
    {
        if (multihot.Width.Evaluate(sizes) is not { } width || width < 1 || width > 16) return;
        var candidates = task.Fns.Where(f => f.Input == x.Type.DType).ToList();
        var assignments = new List<FnDecl[]>();
        for (int start = 0; start + width <= candidates.Count; start++)
        {
            var window = candidates.Skip(start).Take((int)width).ToArray();
            if (window.All(f => f.Output == window[0].Output)) assignments.Add(window);
        }
        assignments.AddRange(candidates.Select(f => Enumerable.Repeat(f, (int)width).ToArray()));
        foreach (var experts in assignments)
            foreach (var merge in task.Fns.Where(f => f.HasInit && f.Input == experts[0].Output))
            {
                tried++;
                StreamType type;
                IReadOnlyList<StreamType> parts;
                try
                {
                    parts = TypeRules.Apply(new PartitionOp(multihot.Width), [x.Type, idx.Type], sizes, "c");
                    var mapped = parts.Select((p, i) => TypeRules.Apply(new MapOp(experts[i]), [p], sizes, "c")[0]).ToList();
                    type = TypeRules.Apply(new MergeOp(merge), [.. mapped, idx.Type], sizes, "c")[0];
                }
                catch (TypeRuleException)
                {
                    continue;
                }
                Tensor[]? data = Evaluate(() =>
                {
                    var split = simulator.Apply(new PartitionOp(multihot.Width), [x.Type, idx.Type], [x.Data, idx.Data], parts);
                    var done = split.Select((p, i) => simulator.Apply(new MapOp(experts[i]), [parts[i]], [p],
                        TypeRules.Apply(new MapOp(experts[i]), [parts[i]], sizes, "c"))[0]).ToList();
                    var doneTypes = done.Select((_, i) => TypeRules.Apply(new MapOp(experts[i]), [parts[i]], sizes, "c")[0]).ToList();
                    return simulator.Apply(new MergeOp(merge), [.. doneTypes, idx.Type], [.. done, idx.Data], [type])[0];
                });
                if (data is not null)
                    Add(type, data, new FromExperts(x.Id, idx.Id, multihot.Width, experts, merge), x.Cost + idx.Cost + 1, size, 0);
            }
    }

    private void Try(StepOp op, Node[] args, int size, bool structural)
    {
        tried++;
        IReadOnlyList<StreamType> types;
        try
        {
            types = TypeRules.Apply(op, [.. args.Select(a => a.Type)], sizes, "c");
        }
        catch (TypeRuleException)
        {
            return;
        }
        if (types.Count != 1 || types[0].Rank > maxRank || Elements(types[0]) > maxElements) return;
        var data = Evaluate(() => simulator.Apply(op, [.. args.Select(a => a.Type)], [.. args.Select(a => a.Data)], types)[0]);
        if (data is null) return;
        int depth = structural ? args.Max(a => a.Structural) + 1 : 0;
        Add(types[0], data, new FromOp(op, [.. args.Select(a => a.Id)]), args.Sum(a => a.Cost) + 1, size, depth);
    }

    private Tensor[]? Evaluate(Func<Tensor[]> run)
    {
        budget.Restart();
        using var _ = Tensor.Use(budget);
        try
        {
            return run();
        }
        catch (Exception e) when (e is TensorException or FnFailedException or LimitExceededException or PyLiteRuntimeException)
        {
            return null;
        }
    }

    private void Add(StreamType type, Tensor[] data, Origin origin, int cost, int size, int structural)
    {
        var key = (type.ToString(), Fingerprint(data));
        if (seen.TryGetValue(key, out var same) && same.Any(id => SameData(pool[id].Data, data))) return;
        var node = new Node(pool.Count, type, data, origin, cost, size, structural);
        pool.Add(node);
        if (same is null) seen[key] = [node.Id];
        else same.Add(node.Id);
        for (int o = 0; o < task.Outputs.Count; o++)
        {
            if (task.Outputs[o].Type != type || !Matches(o, data)) continue;
            matches[o].Add(node.Id);
            TryPrograms(node.Id, o);
        }
    }

    private bool Matches(int output, Tensor[] data)
    {
        var reference = references[output];
        if (reference.Count != data.Length) return false;
        for (int c = 0; c < data.Length; c++)
            if (!OutputComparison.Compare(task.Outputs[output].Name, c, reference[c], data[c]).Close) return false;
        return true;
    }

    /// <summary>Every combination of matching values that uses the new one, shortest first, is written out and verified.</summary>
    private void TryPrograms(int newId, int output)
    {
        if (matches.Any(m => m.Count == 0)) return;
        var choices = matches.Select((m, o) => o == output ? [newId] : m.OrderBy(id => pool[id].Cost).Take(4).ToList()).ToList();
        foreach (var combination in Combinations(choices))
        {
            if (Done) return;
            var program = Emit(combination);
            if (!triedPrograms.Add(program)) continue;
            var verdict = verifier.Verify(program);
            if (!verdict.IsCorrect || (otherSizes is not null && !otherSizes.Verify(program).IsCorrect))
            {
                rejected++;
                continue;
            }
            solutions.Add(verdict.RepairedImpl ?? program);
        }
    }

    private static IEnumerable<int[]> Combinations(List<List<int>> choices)
    {
        IEnumerable<int[]> result = [[]];
        foreach (var options in choices)
            result = result.SelectMany(prefix => options.Select(o => (int[])[.. prefix, o]));
        return result;
    }

    /// <summary>The program that computes the given values, one line per op, values named in order of definition.</summary>
    private string Emit(int[] outputs)
    {
        var names = new Dictionary<int, string>();
        var lines = new StringBuilder();
        int counter = 0;
        string Name(int id)
        {
            if (names.TryGetValue(id, out var known)) return known;
            var node = pool[id];
            string name;
            switch (node.Origin)
            {
                case FromInput input:
                    name = input.Name;
                    break;
                case FromOp op:
                    var args = op.Args.Select(Name).ToList();
                    name = $"t{counter++}";
                    var apply = args.Count == 1 ? args[0] : $"({string.Join(", ", args)})";
                    lines.Append(CultureInfo.InvariantCulture, $"{name} = step.{Call(op.Op)}.apply({apply})\n");
                    break;
                case FromBroadcast broadcast:
                    var source = Name(broadcast.X);
                    int m = counter;
                    counter += 3;
                    lines.Append(CultureInfo.InvariantCulture, $"t{m} = step.Bufferize(a={broadcast.A}).apply({source})\n");
                    lines.Append(CultureInfo.InvariantCulture, $"t{m + 1} = step.Repeat(n={broadcast.N}).apply(t{m})\n");
                    lines.Append(CultureInfo.InvariantCulture, $"t{m + 2} = step.Streamify().apply(t{m + 1})\n");
                    name = $"t{m + 2}";
                    break;
                case FromExperts e:
                    var x = Name(e.X);
                    var idx = Name(e.Idx);
                    int k = counter++;
                    lines.Append(CultureInfo.InvariantCulture, $"parts{k} = step.Partition(N={(e.N is SymbolDim symbol ? symbol.Name + "_value" : e.N.ToString())}).apply(({x}, {idx}))\n");
                    lines.Append(CultureInfo.InvariantCulture,
                        $"done{k} = [step.Map(fn=f).apply(p) for f, p in zip([{string.Join(", ", e.Experts.Select(f => f.FuncName))}], parts{k})]\n");
                    name = $"t{k}";
                    lines.Append(CultureInfo.InvariantCulture, $"{name} = step.Merge(fn={e.Merge.FuncName}).apply((done{k}, {idx}))\n");
                    break;
                default:
                    throw new InvalidOperationException("unknown origin");
            }
            names[id] = name;
            return name;
        }
        var returned = outputs.Select(Name).ToList();
        lines.Append("return ").Append(string.Join(", ", returned)).Append('\n');
        return lines.ToString();
    }

    private static string Call(StepOp op) => op switch
    {
        MapOp m => $"Map(fn={m.Fn.FuncName})",
        ZipOp => "Zip()",
        AccumOp a => $"Accum(fn={a.Fn.FuncName}, b={a.B})",
        ScanOp s => $"Scan(fn={s.Fn.FuncName}, b={s.B})",
        BufferizeOp b => $"Bufferize(a={b.A})",
        StreamifyOp => "Streamify()",
        PromoteOp p => $"Promote(b={p.B})",
        FlattenOp f => $"Flatten(L=[{string.Join(", ", f.L)}])",
        RepeatOp r => $"Repeat(n={r.N})",
        RepeatRefOp => "RepeatRef()",
        _ => throw new InvalidOperationException($"the search does not build {op.Name}"),
    };

    /// <summary>Elements of a stream's first component at the search's sizes (0 when a dim is dynamic).</summary>
    private long Elements(StreamType type) =>
        type.TensorDims()[0].Aggregate(1L, (acc, d) => d.Evaluate(sizes) is { } v ? acc * v : 0);

    private static long Fingerprint(Tensor[] data)
    {
        var hash = new HashCode();
        foreach (var t in data)
        {
            foreach (var d in t.Shape) hash.Add(d);
            var span = MemoryMarshal.Cast<float, int>(t.Data.AsSpan());
            for (int i = 0; i < span.Length; i++) hash.Add(span[i]);
        }
        return hash.ToHashCode();
    }

    private static bool SameData(Tensor[] a, Tensor[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (!a[i].Shape.SequenceEqual(b[i].Shape) || !a[i].Data.AsSpan().SequenceEqual(b[i].Data)) return false;
        return true;
    }
}
