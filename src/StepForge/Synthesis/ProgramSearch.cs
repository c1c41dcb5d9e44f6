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

    private readonly TaskSpec _task;
    private readonly SearchOptions _options;
    private readonly SearchKnowledge _knowledge;
    private readonly SearchModel _model;
    private readonly Grammar _grammar;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly List<Value> _pool = [];
    private readonly List<Dictionary<StreamType, List<int>>> _byCost = [];
    private readonly Dictionary<(StreamType, long), List<int>> _seen = [];
    private readonly Dictionary<StreamType, Candidate[]> _unary = [];
    private readonly Dictionary<StreamType, List<(StreamType Second, Candidate[] Candidates)>> _partners = [];
    private readonly List<StreamType> _types = [];
    private readonly HashSet<DType> _usefulDTypes = [];
    private readonly ExecutionBudget _budget;
    private readonly Simulator _simulator;
    private readonly IReadOnlyDictionary<string, long> _sizes;
    private readonly List<List<Tensor>> _references;
    private readonly List<List<int>> _matches;
    private readonly HashSet<string> _triedPrograms = [];
    private readonly List<FoundProgram> _found = [];
    private readonly TaskVerifier _verifier;
    private readonly TaskVerifier? _otherSizes;
    private readonly ProgramOrder _ranking;
    private readonly int _maxRank;
    private readonly long _maxElements;
    private readonly CancellationToken _cancellation;
    private long _tried;
    private long _work;
    private long _keptElements;
    private long _triedAtFirst = -1;
    private int _rejected;
    private int _level;
    private int _dearestStep;
    private string? _stop;

    private ProgramSearch(TaskSpec task, SearchOptions options, SearchKnowledge knowledge, CancellationToken cancellation)
    {
        _task = task with { Impl = null };
        _options = options;
        _knowledge = knowledge;
        _cancellation = cancellation;
        _ranking = (options.Ranking ?? ProgramRanking.FewestCycles).For(_task);
        // Budgets count work (elements, steps), so no candidate's fate, and so no answer, depends on the machine's load;
        // their wall-clock guard stops the whole search as a safety net (see Evaluate).
        _budget = ExecutionBudget.ForSizes(task.Sizes.Values);
        using var _ = Tensor.Use(_budget);
        var runtime = new TaskRuntime(_task, null, _budget);
        _sizes = runtime.Sizes;
        var data = runtime.SeededData(1);
        var first = data.ToDictionary(kv => kv.Key, kv => kv.Value[0]);
        _references = Verifier.ComputeReference(_task, runtime, first);
        _simulator = runtime.NewSimulator(first);
        _matches = [.. task.Outputs.Select(_ => new List<int>())];
        _grammar = new Grammar(_task, _sizes);
        _model = new SearchModel(knowledge, _task);

        _verifier = new TaskVerifier(_task, new VerifyOptions(Seed: 2, Trials: 2, RepairAffine: true));
        var other = OtherSizes.Where(kv => task.Sizes.ContainsKey(kv.Key) && !task.SizeSetByGlobal(kv.Key)).ToDictionary();
        if (other.Count > 0)
            _otherSizes = new TaskVerifier(_task, new VerifyOptions(Seed: 5, Trials: 1, RepairAffine: true, Sizes: other));

        // Element types worth keeping: those of the task's streams and fns, and tuples some fn takes a run of. A value
        // of any other type (a buffer no fn reads, say) can only be viewed back the way it was.
        foreach (var t in task.Inputs.Concat(task.Parameters).Select(i => i.Type.DType).Concat(task.Outputs.Select(o => o.Type.DType))
                     .Concat(task.Fns.SelectMany(f => new[] { f.Input, f.Output })))
        {
            _usefulDTypes.Add(t);
            foreach (var c in t.Components) _usefulDTypes.Add(c);
        }
        _maxRank = task.Inputs.Select(i => i.Type.Rank).Concat(task.Outputs.Select(o => o.Type.Rank)).Max() + 1;
        // No stream of a benchmark program is larger than its largest input, parameter or output times its largest
        // dim: bigger candidates (repeats of repeats) are costly to evaluate and never needed.
        long largestIo = task.Inputs.Concat(task.Parameters).Select(i => i.Type).Concat(task.Outputs.Select(o => o.Type)).Select(Elements).Max();
        _maxElements = largestIo * Math.Max(1, _sizes.Values.DefaultIfEmpty(1).Max());

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
        for (_level = 1; _stop is null; _level++)
        {
            int before = _pool.Count;
            EnumerateLevel();
            if (_pool.Count > before) lastAdded = _level;
            _options.Progress?.Invoke($"level {_level}: {_pool.Count:N0} values kept, {_tried:N0} candidates tried");
            // No value can come from a level further above the last value than the dearest step.
            if (_stop is null && _level - lastAdded > _dearestStep) _stop = "no program found: every program the search can build was tried";
        }
        var stats = new SearchStats(_tried, _work, _pool.Count, _triedPrograms.Count, _rejected, _level - 1, _watch.Elapsed.TotalSeconds);
        var ranked = _found.Order(_ranking).ToList();
        var knows = _knowledge.Describe() + (_knowledge.Tasks.Count > 0 ? $"; {_model.Pieces.Count} piece(s) applied here" : "");
        if (_stop == Cancelled || _stop == SafetyNet)
            return new SearchResult(SearchOutcome.Stopped, null, null, [], stats, _stop == Cancelled ? "the search was cancelled" :
                $"the search was stopped by its wall-clock safety net of {_options.SafetySeconds:0.#} s (its answer would not depend on time, so it is not one)", knows);
        if (ranked.Count == 0) return new SearchResult(SearchOutcome.NotFound, null, null, [], stats, _stop!, knows);
        var answer = ranked[Math.Min(_options.Solution, ranked.Count - 1)];
        var firstFound = _found[0];
        string Measured(FoundProgram p) => _ranking.Measure(p) is { Length: > 0 } m ? ", " + m : "";
        var message = $"found after {_triedAtFirst:N0} candidates; {_found.Count} program(s) verified in {_tried:N0}, the answer has {answer.Ops} ops and streams {answer.ElementsStreamed:N0} elements{Measured(answer)}"
                      + (firstFound != answer ? $" (the first had {firstFound.Ops} ops, {firstFound.ElementsStreamed:N0} elements{Measured(firstFound)})" : "")
                      + (answer.Pieces.Count > 0 ? $"; built with learned piece(s) {string.Join(", ", answer.Pieces)}" : "");
        return new SearchResult(SearchOutcome.Found, answer, firstFound, ranked, stats, message, knows);
    }

    private const string Cancelled = "cancelled";
    private const string SafetyNet = "safety net";

    /// <summary>Checks the budget after a unit of work; sets <see cref="_stop"/> when the search must end.</summary>
    private bool OutOfBudget()
    {
        if (_stop is not null) return true;
        if (_cancellation.IsCancellationRequested) _stop = Cancelled;
        else if (_watch.Elapsed.TotalSeconds > _options.SafetySeconds) _stop = SafetyNet;
        else if (_triedAtFirst >= 0 && _tried >= _triedAtFirst + Math.Max(1000, (long)(_triedAtFirst * _options.MoreAfterFirst))) _stop = "enough";
        else if (_work >= _options.MaxWork) _stop = $"no program found within {_options.MaxWork:N0} units of work";
        else if (_tried >= _options.MaxCandidates) _stop = $"no program found within {_options.MaxCandidates:N0} candidates";
        else if (_pool.Count >= _options.MaxValues) _stop = $"no program found: the pool reached {_options.MaxValues:N0} distinct values";
        else if (_keptElements >= _options.MaxKeptElements) _stop = $"no program found: the pool's values reached {_options.MaxKeptElements:N0} elements";
        return _stop is not null;
    }

    /// <summary>Every value of cost exactly <see cref="_level"/>: a step of cost k applied to arguments whose costs sum to level - k.</summary>
    /// <remarks>
    /// Values made here cost at least <see cref="_level"/>, so the lists of cheaper values read here do not change while
    /// they are read (and pairs of types added meanwhile only concern new, dearer types).
    /// </remarks>
    private void EnumerateLevel()
    {
        // One argument.
        for (int cost = 0; cost < _level && cost < _byCost.Count; cost++)
        {
            int k = _level - cost;
            foreach (var (type, ids) in _byCost[cost])
                foreach (var candidate in Unary(type))
                {
                    if (candidate.Cost != k) continue;
                    foreach (var id in ids)
                    {
                        if (OutOfBudget()) return;
                        var x = _pool[id];
                        if (candidate.Production.Layout && x.Layout >= MaxLayoutRun || Commutes(candidate, x)) continue;
                        TryStep(candidate, [x]);
                    }
                }
        }
        // Two arguments: pairs of types that some step takes, then the values of those types at the right costs.
        for (int ca = 0; ca < _level && ca < _byCost.Count; ca++)
            foreach (var (ta, aIds) in _byCost[ca])
            {
                if (!_partners.TryGetValue(ta, out var list)) continue;
                for (int p = 0, count = list.Count; p < count; p++)
                {
                    var (tb, candidates) = list[p];
                    foreach (var candidate in candidates)
                    {
                        int cb = _level - ca - candidate.Cost;
                        if (cb < 0 || cb >= _byCost.Count || !_byCost[cb].TryGetValue(tb, out var bIds)) continue;
                        foreach (var a in aIds)
                            foreach (var b in bIds)
                            {
                                if (OutOfBudget()) return;
                                var x = _pool[a];
                                var y = _pool[b];
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
                                     && _pool[o.Args[0]].Type == _pool[first.Args[0]].Type);
    }

    /// <summary>A step that keeps every element's value and type and only moves or repeats elements.</summary>
    private static bool Reshapes(Candidate c) =>
        c.Types[0].DType == c.Result.DType
        && c.Production.Fragment.Ops.All(o => o.Op is PromoteOp or FlattenOp or ReshapeOp or RepeatOp or RepeatRefOp or BufferizeOp or StreamifyOp)
        && c.Production.Fragment.Ops.Any(o => o.Op is not BufferizeOp and not StreamifyOp);

    /// <summary>Evaluates a step; returns the value it makes (the one already kept when equal), or null when it fails.</summary>
    private int? TryStep(Candidate candidate, Value[] args)
    {
        _tried++;
        var data = Evaluate(() => candidate.Production.Fragment.Evaluate(_simulator, candidate.Types, [.. args.Select(a => a.Data)], _sizes));
        // A NaN never matches a reference, nor ever goes away: such values only crowd the pool.
        if (data is null || data.Any(t => t.Data.AsSpan().ContainsAnyExceptInRange(float.NegativeInfinity, float.PositiveInfinity))) return null;
        int layout = candidate.Production.Layout ? args.Max(a => a.Layout) + 1 : 0;
        return AddValue(candidate.Result, data, new Step(candidate, [.. args.Select(a => a.Id)]), null, args.Sum(a => a.Cost) + candidate.Cost, layout);
    }

    /// <summary>Work units an interpreter step of a fn body is worth: about the time of computing 25 tensor elements.</summary>
    public const int StepWork = 25;

    private Tensor[]? Evaluate(Func<Tensor[]> run)
    {
        _budget.Restart();
        using var _ = Tensor.Use(_budget);
        try
        {
            return run();
        }
        catch (Exception e) when (e is TensorException or FnFailedException or LimitExceededException or PyLiteRuntimeException)
        {
            // The evaluation's wall-clock guard is no verdict on the candidate: the search stops, with no answer.
            for (Exception? inner = e; inner is not null; inner = inner.InnerException)
                if (inner is LimitExceededException { IsTimeGuard: true }) _stop = SafetyNet;
            return null;
        }
        finally
        {
            _work += _budget.WorkUsed + StepWork * _budget.StepsUsed;
        }
    }

    private int AddValue(StreamType type, Tensor[] data, Step? origin, string? input, int cost, int layout)
    {
        var key = (type, Fingerprint(data));
        if (_seen.TryGetValue(key, out var same))
            foreach (var id in same)
                if (SameValue(_pool[id].Data, data)) return id;
        var value = new Value(_pool.Count, type, data, origin, input, cost, layout);
        _pool.Add(value);
        _keptElements += data.Sum(t => (long)t.Count);
        if (same is null) _seen[key] = [value.Id];
        else same.Add(value.Id);
        while (_byCost.Count <= cost) _byCost.Add([]);
        if (!_byCost[cost].TryGetValue(type, out var ids)) _byCost[cost][type] = ids = [];
        ids.Add(value.Id);
        if (!_unary.ContainsKey(type)) NewType(type);
        for (int o = 0; o < _task.Outputs.Count; o++)
        {
            var output = _task.Outputs[o].Type;
            if (output == type)
            {
                if (!Matches(o, data)) continue;
                _matches[o].Add(value.Id);
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
        var reference = _references[output];
        if (reference.Count != data.Length) return false;
        for (int c = 0; c < data.Length; c++)
            if (!OutputComparison.Compare(_task.Outputs[output].Name, c, reference[c], data[c]).Close) return false;
        return true;
    }

    /// <summary>Whether the data are the output's reference in the same order under another shape (layout ops keep the order).</summary>
    private bool SameLayoutData(int output, Tensor[] data)
    {
        var reference = _references[output];
        if (reference.Count != data.Length) return false;
        for (int c = 0; c < data.Length; c++)
        {
            if (reference[c].Count != data[c].Count) return false;
            var view = new Tensor(reference[c].Shape, data[c].Data, data[c].Kind);
            if (!OutputComparison.Compare(_task.Outputs[output].Name, c, reference[c], view).Close) return false;
        }
        return true;
    }

    /// <summary>Every combination of matching values that uses the new one, cheapest first, is written out and verified.</summary>
    private void TryPrograms(int newId, int output)
    {
        if (_matches.Any(m => m.Count == 0)) return;
        var choices = _matches.Select((m, o) => o == output ? [newId] : m.OrderBy(id => _pool[id].Cost).ThenBy(id => id).Take(4).ToList()).ToList();
        foreach (var combination in Combinations(choices))
        {
            var program = Emit(combination);
            if (!_triedPrograms.Add(program)) continue;
            var verdict = _verifier.Verify(program);
            var atOtherSizes = verdict.IsCorrect ? _otherSizes?.Verify(program) : null;
            if (verdict.IsRetryable || atOtherSizes?.IsRetryable == true)
            {
                // Stopped by the verifier's wall-clock guard: no verdict, so no answer from this search.
                _stop = SafetyNet;
                return;
            }
            if (!verdict.IsCorrect || atOtherSizes is { IsCorrect: false })
            {
                _rejected++;
                continue;
            }
            var final = verdict.RepairedImpl ?? program;
            var (ops, elements) = Measure(final);
            double error = verdict.Outputs?.Select(o => o.MaxAbsError).DefaultIfEmpty(0).Max() ?? 0;
            _found.Add(new FoundProgram(final, ops, elements, error, PiecesIn(combination)));
            if (_triedAtFirst < 0) _triedAtFirst = _tried;
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
            if (!visited.Add(id) || _pool[id].Origin is not { } step) return;
            foreach (var a in step.Args) Walk(a);
            if (step.Candidate.Piece is { } piece && !names.Contains(piece)) names.Add(piece);
        }
        foreach (var o in outputs) Walk(o);
        return names;
    }

    /// <summary>Ops in the program and elements all its streams carry on the search's data, op by op.</summary>
    private (int Ops, long Elements) Measure(string program)
    {
        var (bound, _) = StaticChecker.Bind(program, _task.Environment());
        if (bound is null) return (int.MaxValue, long.MaxValue);
        var p = bound.Program;
        var data = new Tensor[p.Streams.Count][];
        var inputs = _task.Inputs.ToList();
        for (int i = 0; i < p.InputStreams.Count; i++) data[p.InputStreams[i]] = _pool.First(v => v.Input == inputs[i].Name).Data;
        long elements = 0;
        var result = Evaluate(() =>
        {
            foreach (var op in p.Ops)
            {
                var outs = _simulator.Apply(op.Op, [.. op.Inputs.Select(s => p.Streams[s])], [.. op.Inputs.Select(s => data[s])], [.. op.Outputs.Select(s => p.Streams[s])]);
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
        type.TensorDims()[0].Aggregate(1L, (acc, d) => d.Evaluate(_sizes) is { } v ? acc * v : 0);

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
