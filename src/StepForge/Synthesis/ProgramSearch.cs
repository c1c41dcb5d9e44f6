using System.Diagnostics;
using System.Runtime.InteropServices;
using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Simulation;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tensors;

namespace StepForge.Synthesis;

/// <summary>
/// The model-free proposer: a bottom-up search over STeP programs built from the task's input streams, fns and dims,
/// cheapest first by the cost its grammar gives (<see cref="SearchModel"/>, learned from demonstrations). Every
/// candidate step (an op, a fused pattern, or a learned piece) is typed by the language's own rules and run on the
/// task's seeded data; values with the same type and data are kept once (observational equivalence), so the pool
/// holds one program, the cheapest, per distinct value. A value whose data is an output's reference laid out another
/// way gets the layout ops that make it the output. When every output has a match, the program is written out, made
/// affine by AffineRepair and accepted only when the verifier passes it on two more seeds and at other sizes. The
/// search goes on a while after the first program and returns the cheapest by <see cref="IProgramRanking"/>.
/// The budget is work, never time; the task's own <c>impl</c> is never read.
/// </summary>
public sealed partial class ProgramSearch
{
    private sealed class Value(int id, StreamType type, Tensor[] data, Step? origin, string? input, int cost, int layout)
    {
        public int Id { get; } = id;
        public StreamType Type { get; } = type;
        public Tensor[] Data { get; } = data;
        public Step? Origin { get; } = origin;
        public string? Input { get; } = input;
        public int Cost { get; } = cost;

        /// <summary>Layout steps in a row that end in this value.</summary>
        public int Layout { get; } = layout;
    }

    /// <summary>How a value was made: a candidate applied to earlier values.</summary>
    private sealed record Step(Candidate Candidate, int[] Args);

    /// <summary>A typed way to extend the pool: the production, the types of its arguments and ops, its cost, the piece it came from.</summary>
    private sealed record Candidate(Production Production, StreamType[] Types, int Cost, string? Piece)
    {
        public StreamType Result => Types[^1];
    }

    private static readonly IReadOnlyDictionary<string, long> OtherSizes = new Dictionary<string, long> { ["M"] = 11, ["N"] = 13, ["K"] = 10, ["D"] = 20 };

    /// <summary>Layout steps allowed in a row: they only view data another way, and long runs of them are never needed.</summary>
    private const int MaxLayoutRun = 2;

    private readonly TaskSpec task;
    private readonly SearchOptions options;
    private readonly SearchKnowledge knowledge;
    private readonly SearchModel model;
    private readonly Grammar grammar;
    private readonly Stopwatch watch = Stopwatch.StartNew();
    private readonly List<Value> pool = [];
    private readonly List<Dictionary<StreamType, List<int>>> byCost = [];
    private readonly Dictionary<(StreamType, long), List<int>> seen = [];
    private readonly Dictionary<StreamType, Candidate[]> unary = [];
    private readonly Dictionary<StreamType, List<(StreamType Second, Candidate[] Candidates)>> partners = [];
    private readonly List<StreamType> types = [];
    private readonly HashSet<DType> usefulDTypes = [];
    private readonly ExecutionBudget budget;
    private readonly Simulator simulator;
    private readonly IReadOnlyDictionary<string, long> sizes;
    private readonly List<List<Tensor>> references;
    private readonly List<List<int>> matches;
    private readonly HashSet<string> triedPrograms = [];
    private readonly List<FoundProgram> found = [];
    private readonly TaskVerifier verifier;
    private readonly TaskVerifier? otherSizes;
    private readonly IComparer<FoundProgram> ranking;
    private readonly int maxRank;
    private readonly long maxElements;
    private readonly CancellationToken cancellation;
    private long tried;
    private long work;
    private long keptElements;
    private long triedAtFirst = -1;
    private int rejected;
    private int level;
    private int dearestStep;
    private string? stop;

    private ProgramSearch(TaskSpec task, SearchOptions options, SearchKnowledge knowledge, CancellationToken cancellation)
    {
        this.task = task with { Impl = null };
        this.options = options;
        this.knowledge = knowledge;
        this.cancellation = cancellation;
        ranking = (options.Ranking ?? ProgramRanking.FewestOps).For(this.task);
        // Budgets count work (elements, steps), so no candidate's fate, and so no answer, depends on the machine's load;
        // their wall-clock guard stops the whole search as a safety net (see Evaluate).
        budget = ExecutionBudget.ForSizes(task.Sizes.Values);
        using var _ = Tensor.Use(budget);
        var runtime = new TaskRuntime(this.task, null, budget);
        sizes = runtime.Sizes;
        var data = runtime.SeededData(1);
        var first = data.ToDictionary(kv => kv.Key, kv => kv.Value[0]);
        references = Verifier.ComputeReference(this.task, runtime, first);
        simulator = runtime.NewSimulator(first);
        matches = [.. task.Outputs.Select(_ => new List<int>())];
        grammar = new Grammar(this.task, sizes);
        model = new SearchModel(knowledge, this.task);

        verifier = new TaskVerifier(this.task, new VerifyOptions(Seed: 2, Trials: 2, RepairAffine: true));
        var other = OtherSizes.Where(kv => task.Sizes.ContainsKey(kv.Key) && !task.SizeSetByGlobal(kv.Key)).ToDictionary();
        if (other.Count > 0)
            otherSizes = new TaskVerifier(this.task, new VerifyOptions(Seed: 5, Trials: 1, RepairAffine: true, Sizes: other));

        // Element types worth keeping: those of the task's streams and fns, and tuples some fn takes a run of. A value
        // of any other type (a buffer no fn reads, say) can only be viewed back the way it was.
        foreach (var t in task.Inputs.Concat(task.Parameters).Select(i => i.Type.DType).Concat(task.Outputs.Select(o => o.Type.DType))
                     .Concat(task.Fns.SelectMany(f => new[] { f.Input, f.Output })))
        {
            usefulDTypes.Add(t);
            foreach (var c in t.Components) usefulDTypes.Add(c);
        }
        maxRank = task.Inputs.Select(i => i.Type.Rank).Concat(task.Outputs.Select(o => o.Type.Rank)).Max() + 1;
        // No stream of a benchmark program is larger than its largest input, parameter or output times its largest
        // dim: bigger candidates (repeats of repeats) are costly to evaluate and never needed.
        long largestIo = task.Inputs.Concat(task.Parameters).Select(i => i.Type).Concat(task.Outputs.Select(o => o.Type)).Select(Elements).Max();
        maxElements = largestIo * Math.Max(1, sizes.Values.DefaultIfEmpty(1).Max());

        foreach (var input in task.Inputs) AddValue(input.Type, data[input.Name], null, input.Name, cost: 0, layout: 0);
        StartGoals();
    }

    /// <summary>Searches for a program for the task, learning from the demonstrations' programs when given.</summary>
    public static SearchResult Run(TaskSpec task, SearchOptions? options = null, SearchKnowledge? knowledge = null, CancellationToken cancellationToken = default)
    {
        options ??= new SearchOptions();
        knowledge ??= SearchKnowledge.None;
        ProgramSearch search;
        try
        {
            search = new ProgramSearch(task, options, knowledge, cancellationToken);
        }
        catch (Exception e) when (e is PyLiteRuntimeException or PyLiteSyntaxException or TensorException or LimitExceededException)
        {
            return new SearchResult(SearchOutcome.NotFound, null, null, [], new SearchStats(0, 0, 0, 0, 0, 0, 0),
                $"no program found: the task's own PyTorch code failed: {e.Message}", knowledge.Describe());
        }
        return search.Search();
    }

    private SearchResult Search()
    {
        int lastAdded = 0;
        for (level = 1; stop is null; level++)
        {
            int before = pool.Count;
            EnumerateLevel();
            if (pool.Count > before) lastAdded = level;
            options.Progress?.Invoke($"level {level}: {pool.Count:N0} values kept, {tried:N0} candidates tried");
            // No value can come from a level further above the last value than the dearest step.
            if (stop is null && level - lastAdded > dearestStep) stop = "no program found: every program the search can build was tried";
        }
        var stats = new SearchStats(tried, work, pool.Count, triedPrograms.Count, rejected, level - 1, watch.Elapsed.TotalSeconds);
        var ranked = found.Order(ranking).ToList();
        var knows = knowledge.Describe() + (knowledge.Tasks.Count > 0 ? $"; {model.Pieces.Count} piece(s) applied here" : "");
        if (stop == Cancelled || stop == SafetyNet)
            return new SearchResult(SearchOutcome.Stopped, null, null, [], stats, stop == Cancelled ? "the search was cancelled" :
                $"the search was stopped by its wall-clock safety net of {options.SafetySeconds:0.#} s (its answer would not depend on time, so it is not one)", knows);
        if (ranked.Count == 0) return new SearchResult(SearchOutcome.NotFound, null, null, [], stats, stop!, knows);
        var answer = ranked[Math.Min(options.Solution, ranked.Count - 1)];
        var firstFound = found[0];
        var message = $"found after {triedAtFirst:N0} candidates; {found.Count} program(s) verified in {tried:N0}, the answer has {answer.Ops} ops and streams {answer.ElementsStreamed:N0} elements"
                      + (firstFound != answer ? $" (the first had {firstFound.Ops} ops, {firstFound.ElementsStreamed:N0} elements)" : "")
                      + (answer.Pieces.Count > 0 ? $"; built with learned piece(s) {string.Join(", ", answer.Pieces)}" : "");
        return new SearchResult(SearchOutcome.Found, answer, firstFound, ranked, stats, message, knows);
    }

    private const string Cancelled = "cancelled";
    private const string SafetyNet = "safety net";

    /// <summary>Checks the budget after a unit of work; sets <see cref="stop"/> when the search must end.</summary>
    private bool OutOfBudget()
    {
        if (stop is not null) return true;
        if (cancellation.IsCancellationRequested) stop = Cancelled;
        else if (watch.Elapsed.TotalSeconds > options.SafetySeconds) stop = SafetyNet;
        else if (triedAtFirst >= 0 && tried >= triedAtFirst + Math.Max(1000, (long)(triedAtFirst * options.MoreAfterFirst))) stop = "enough";
        else if (work >= options.MaxWork) stop = $"no program found within {options.MaxWork:N0} units of work";
        else if (tried >= options.MaxCandidates) stop = $"no program found within {options.MaxCandidates:N0} candidates";
        else if (pool.Count >= options.MaxValues) stop = $"no program found: the pool reached {options.MaxValues:N0} distinct values";
        else if (keptElements >= options.MaxKeptElements) stop = $"no program found: the pool's values reached {options.MaxKeptElements:N0} elements";
        return stop is not null;
    }

    /// <summary>Every value of cost exactly <see cref="level"/>: a step of cost k applied to arguments whose costs sum to level - k.</summary>
    /// <remarks>
    /// Values made here cost at least <see cref="level"/>, so the lists of cheaper values read here do not change while
    /// they are read (and pairs of types added meanwhile only concern new, dearer types).
    /// </remarks>
    private void EnumerateLevel()
    {
        // One argument.
        for (int cost = 0; cost < level && cost < byCost.Count; cost++)
        {
            int k = level - cost;
            foreach (var (type, ids) in byCost[cost])
                foreach (var candidate in Unary(type))
                {
                    if (candidate.Cost != k) continue;
                    foreach (var id in ids)
                    {
                        if (OutOfBudget()) return;
                        var x = pool[id];
                        if (candidate.Production.Layout && x.Layout >= MaxLayoutRun || Commutes(candidate, x)) continue;
                        TryStep(candidate, [x]);
                    }
                }
        }
        // Two arguments: pairs of types that some step takes, then the values of those types at the right costs.
        for (int ca = 0; ca < level && ca < byCost.Count; ca++)
            foreach (var (ta, aIds) in byCost[ca])
            {
                if (!partners.TryGetValue(ta, out var list)) continue;
                for (int p = 0, count = list.Count; p < count; p++)
                {
                    var (tb, candidates) = list[p];
                    foreach (var candidate in candidates)
                    {
                        int cb = level - ca - candidate.Cost;
                        if (cb < 0 || cb >= byCost.Count || !byCost[cb].TryGetValue(tb, out var bIds)) continue;
                        foreach (var a in aIds)
                            foreach (var b in bIds)
                            {
                                if (OutOfBudget()) return;
                                var x = pool[a];
                                var y = pool[b];
                                if (candidate.Production.Layout && x.Layout >= MaxLayoutRun || Commutes(candidate, x, y)) continue;
                                TryStep(candidate, [x, y]);
                            }
                    }
                }
            }
    }

    /// <summary>
    /// Whether an elementwise step (Map, or a fused Zip → Map) would follow ops that only reshape or repeat all its
    /// arguments: the same value comes, as cheap, from the step first and the reshape after, so this order is skipped.
    /// </summary>
    private bool Commutes(Candidate candidate, params Value[] args)
    {
        if (candidate.Production.Kind is not ("Map" or "ZipMap" or "Zip")) return false;
        if (args[0].Origin is not { Args.Length: 1 } first || !Reshapes(first.Candidate)) return false;
        // For two arguments, only when both are the same reshape of values of one type.
        return args.Skip(1).All(a => a.Origin is { Args.Length: 1 } o && o.Candidate.Production.Fragment == first.Candidate.Production.Fragment
                                     && pool[o.Args[0]].Type == pool[first.Args[0]].Type);
    }

    /// <summary>A step that keeps every element's value and type and only moves or repeats elements.</summary>
    private static bool Reshapes(Candidate c) =>
        c.Types[0].DType == c.Result.DType
        && c.Production.Fragment.Ops.All(o => o.Op is PromoteOp or FlattenOp or ReshapeOp or RepeatOp or RepeatRefOp or BufferizeOp or StreamifyOp)
        && c.Production.Fragment.Ops.Any(o => o.Op is not BufferizeOp and not StreamifyOp);

    /// <summary>Evaluates a step; returns the value it makes (the one already kept when equal), or null when it fails.</summary>
    private int? TryStep(Candidate candidate, Value[] args)
    {
        tried++;
        var data = Evaluate(() => candidate.Production.Fragment.Evaluate(simulator, candidate.Types, [.. args.Select(a => a.Data)], sizes));
        // A NaN never matches a reference, nor ever goes away: such values only crowd the pool.
        if (data is null || data.Any(t => t.Data.AsSpan().ContainsAnyExceptInRange(float.NegativeInfinity, float.PositiveInfinity))) return null;
        int layout = candidate.Production.Layout ? args.Max(a => a.Layout) + 1 : 0;
        return AddValue(candidate.Result, data, new Step(candidate, [.. args.Select(a => a.Id)]), null, args.Sum(a => a.Cost) + candidate.Cost, layout);
    }

    /// <summary>Work units an interpreter step of a fn body is worth: about the time of computing 25 tensor elements.</summary>
    public const int StepWork = 25;

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
            // The evaluation's wall-clock guard is no verdict on the candidate: the search stops, with no answer.
            for (Exception? inner = e; inner is not null; inner = inner.InnerException)
                if (inner is LimitExceededException { IsTimeGuard: true }) stop = SafetyNet;
            return null;
        }
        finally
        {
            work += budget.WorkUsed + StepWork * budget.StepsUsed;
        }
    }

    private int AddValue(StreamType type, Tensor[] data, Step? origin, string? input, int cost, int layout)
    {
        var key = (type, Fingerprint(data));
        if (seen.TryGetValue(key, out var same))
            foreach (var id in same)
                if (SameValue(pool[id].Data, data)) return id;
        var value = new Value(pool.Count, type, data, origin, input, cost, layout);
        pool.Add(value);
        keptElements += data.Sum(t => (long)t.Count);
        if (same is null) seen[key] = [value.Id];
        else same.Add(value.Id);
        while (byCost.Count <= cost) byCost.Add([]);
        if (!byCost[cost].TryGetValue(type, out var ids)) byCost[cost][type] = ids = [];
        ids.Add(value.Id);
        if (!unary.ContainsKey(type)) NewType(type);
        for (int o = 0; o < task.Outputs.Count; o++)
        {
            var output = task.Outputs[o].Type;
            if (output == type)
            {
                if (!Matches(o, data)) continue;
                matches[o].Add(value.Id);
                TryPrograms(value.Id, o);
            }
            else if (origin is not null && SameLayoutData(o, data) && LayoutPath(type, output) is { } path)
            {
                // The output's values laid out another way: the layout ops that make them the output are one more step.
                TryStep(path, [value]);
            }
        }
        GoalsMeet(value);
        return value.Id;
    }

    private bool Matches(int output, Tensor[] data)
    {
        var reference = references[output];
        if (reference.Count != data.Length) return false;
        for (int c = 0; c < data.Length; c++)
            if (!OutputComparison.Compare(task.Outputs[output].Name, c, reference[c], data[c]).Close) return false;
        return true;
    }

    /// <summary>Whether the data are the output's reference in the same order under another shape (layout ops keep the order).</summary>
    private bool SameLayoutData(int output, Tensor[] data)
    {
        var reference = references[output];
        if (reference.Count != data.Length) return false;
        for (int c = 0; c < data.Length; c++)
        {
            if (reference[c].Count != data[c].Count) return false;
            var view = new Tensor(reference[c].Shape, data[c].Data, data[c].Kind);
            if (!OutputComparison.Compare(task.Outputs[output].Name, c, reference[c], view).Close) return false;
        }
        return true;
    }

    /// <summary>Every combination of matching values that uses the new one, cheapest first, is written out and verified.</summary>
    private void TryPrograms(int newId, int output)
    {
        if (matches.Any(m => m.Count == 0)) return;
        var choices = matches.Select((m, o) => o == output ? [newId] : m.OrderBy(id => pool[id].Cost).ThenBy(id => id).Take(4).ToList()).ToList();
        foreach (var combination in Combinations(choices))
        {
            var program = Emit(combination);
            if (!triedPrograms.Add(program)) continue;
            var verdict = verifier.Verify(program);
            var atOtherSizes = verdict.IsCorrect ? otherSizes?.Verify(program) : null;
            if (verdict.IsRetryable || atOtherSizes?.IsRetryable == true)
            {
                // Stopped by the verifier's wall-clock guard: no verdict, so no answer from this search.
                stop = SafetyNet;
                return;
            }
            if (!verdict.IsCorrect || atOtherSizes is { IsCorrect: false })
            {
                rejected++;
                continue;
            }
            var final = verdict.RepairedImpl ?? program;
            var (ops, elements) = Measure(final);
            double error = verdict.Outputs?.Select(o => o.MaxAbsError).DefaultIfEmpty(0).Max() ?? 0;
            found.Add(new FoundProgram(final, ops, elements, error, PiecesIn(combination)));
            if (triedAtFirst < 0) triedAtFirst = tried;
        }
    }

    private static IEnumerable<int[]> Combinations(List<List<int>> choices)
    {
        IEnumerable<int[]> result = [[]];
        foreach (var options in choices)
            result = result.SelectMany(prefix => options.Select(o => (int[])[.. prefix, o]));
        return result;
    }

    /// <summary>The learned pieces the values of a program were built with, by name, in order of first use.</summary>
    private List<string> PiecesIn(int[] outputs)
    {
        var names = new List<string>();
        var visited = new HashSet<int>();
        void Walk(int id)
        {
            if (!visited.Add(id) || pool[id].Origin is not { } step) return;
            foreach (var a in step.Args) Walk(a);
            if (step.Candidate.Piece is { } piece && !names.Contains(piece)) names.Add(piece);
        }
        foreach (var o in outputs) Walk(o);
        return names;
    }

    /// <summary>Ops in the program and elements all its streams carry on the search's data, op by op.</summary>
    private (int Ops, long Elements) Measure(string program)
    {
        var (bound, _) = StaticChecker.Bind(program, task.Environment());
        if (bound is null) return (int.MaxValue, long.MaxValue);
        var p = bound.Program;
        var data = new Tensor[p.Streams.Count][];
        var inputs = task.Inputs.ToList();
        for (int i = 0; i < p.InputStreams.Count; i++) data[p.InputStreams[i]] = pool.First(v => v.Input == inputs[i].Name).Data;
        long elements = 0;
        var result = Evaluate(() =>
        {
            foreach (var op in p.Ops)
            {
                var outs = simulator.Apply(op.Op, [.. op.Inputs.Select(s => p.Streams[s])], [.. op.Inputs.Select(s => data[s])], [.. op.Outputs.Select(s => p.Streams[s])]);
                for (int o = 0; o < op.Outputs.Count; o++)
                {
                    data[op.Outputs[o]] = outs[o];
                    if (op.Op is not CopyOp) elements += outs[o].Sum(t => (long)t.Count);
                }
            }
            return [];
        });
        return (p.Ops.Count, result is null ? long.MaxValue : elements);
    }

    /// <summary>Elements of a stream's first component at the search's sizes (0 when a dim is dynamic).</summary>
    private long Elements(StreamType type) =>
        type.TensorDims()[0].Aggregate(1L, (acc, d) => d.Evaluate(sizes) is { } v ? acc * v : 0);

    /// <summary>
    /// A hash of the data rounded to 18 bits of mantissa, so values that differ only by float rounding (the same sum
    /// taken in another order) usually fall together; <see cref="SameValue"/> decides.
    /// </summary>
    private static long Fingerprint(Tensor[] data)
    {
        var hash = new HashCode();
        foreach (var t in data)
        {
            foreach (var d in t.Shape) hash.Add(d);
            var span = MemoryMarshal.Cast<float, int>(t.Data.AsSpan());
            for (int i = 0; i < span.Length; i++) hash.Add((span[i] + (1 << 4)) & ~((1 << 5) - 1));
        }
        return hash.ToHashCode();
    }

    /// <summary>Equal up to float rounding: two programs computing these compute the same thing, as far as float32 can tell.</summary>
    private static bool SameValue(Tensor[] a, Tensor[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
        {
            if (!a[i].Shape.SequenceEqual(b[i].Shape)) return false;
            var x = a[i].Data;
            var y = b[i].Data;
            for (int k = 0; k < x.Length; k++)
                if (x[k] != y[k] && !(float.IsFinite(x[k]) && float.IsFinite(y[k]) && Math.Abs(x[k] - y[k]) <= 1e-8f + 2e-6f * Math.Max(Math.Abs(x[k]), Math.Abs(y[k]))))
                    return false;
        }
        return true;
    }

    private static bool SameData(Tensor[] a, Tensor[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (!a[i].Shape.SequenceEqual(b[i].Shape) || !a[i].Data.AsSpan().SequenceEqual(b[i].Data)) return false;
        return true;
    }
}
