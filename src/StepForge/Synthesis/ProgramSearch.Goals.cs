using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Synthesis;

/// <summary>
/// Goal-directed search from the outputs: an output's reference is undone step by step into targets for the values
/// that would make it. Undoing a Map of an elementwise fn, or a binary fn whose other operand the pool already holds,
/// is solved numerically (Newton's method, elementwise, on the fn as the task defines it); undoing a Repeat keeps one
/// copy of data that is constant along the repeated dim. A pool value that comes close to a target is then carried
/// back up by the steps that were undone; the program it makes is verified like any other.
/// </summary>
public sealed partial class ProgramSearch
{
    /// <summary>How a goal's value becomes its parent's: a Map, a binary Map with a known other operand, or a repeat.</summary>
    private sealed record Undo(FnDecl? Fn, int Known, bool KnownFirst, int RepeatAt, Dim? RepeatDim);

    /// <summary>A target value: a type, the data a value must be close to, and the way back to an output.</summary>
    /// <param name="Free">Elements the output does not depend on (any value will do), or null.</param>
    /// <param name="Unaries">Map undos in a row at the end of the way back (each is a guess; long runs of guesses are not made).</param>
    private sealed record Goal(StreamType Type, Tensor[] Data, bool[]? Free, Goal? Parent, Undo? Undo, int Depth, int Unaries);

    /// <summary>Targets a search keeps at most, and how many steps back from an output they go.</summary>
    private const int MaxGoals = 400;
    private const int MaxGoalDepth = 6;
    private const int MaxUnaries = 3;

    /// <summary>Known operands of a binary fn that an output is undone with: values no dearer than this (in half-bits).</summary>
    private const int KnownCostLimit = 24;

    /// <summary>Binary undos tried at most (each is a few dozen fn evaluations).</summary>
    private const int MaxBinaryUndos = 200;

    private const int NewtonSteps = 12;

    private readonly List<Goal> _goals = [];
    private readonly Dictionary<StreamType, List<Goal>> _goalsByType = [];
    private readonly List<int> _knownValues = [];
    private int _binaryUndos;

    private readonly PriorityQueue<Goal, (int, int)> _unexpanded = new();

    private void StartGoals()
    {
        for (int o = 0; o < _task.Outputs.Count; o++)
            if (_task.Outputs[o].Type.DType is not TupleType)
                AddGoal(new Goal(_task.Outputs[o].Type, [.. _references[o]], null, null, null, 0, 0));
        ExpandGoals();
    }

    private void AddGoal(Goal goal)
    {
        if (_goals.Count >= MaxGoals) return;
        // A target most of whose elements are free says little about a value: too many values would reach it.
        if (goal.Free is { } free && free.Count(f => f) * 2 > free.Length) return;
        _goals.Add(goal);
        if (!_goalsByType.TryGetValue(goal.Type, out var list)) _goalsByType[goal.Type] = list = [];
        list.Add(goal);
        // Repeats first: a target that lost a dim is smaller and nearer the inputs; then by depth.
        _unexpanded.Enqueue(goal, (goal.Depth + 2 * goal.Unaries, _goals.Count));
    }

    /// <summary>Undoes the goals not yet undone, nearest the outputs first, and carries back any value already close to one.</summary>
    private void ExpandGoals()
    {
        while (_unexpanded.TryDequeue(out var goal, out _))
        {
            if (_stop is not null) return;
            if (goal.Depth > 0 && _typesByShape.ContainsKey(goal.Type.Shape))
                foreach (var value in _pool.Where(v => v.Type == goal.Type).ToList())
                    if (Near(value.Data, goal)) Reach(goal, value.Id);
            if (goal.Depth >= MaxGoalDepth) continue;
            UndoRepeats(goal);
            // An output is not undone by guessing a Map (a one-op program is found forward anyway), nor a run of more than a few.
            if (goal.Depth > 0 && goal.Unaries < MaxUnaries) UndoMaps(goal);
            if (goal.Depth == 0)
                foreach (var known in _knownValues.ToList()) UndoBinary(goal, known);
        }
    }

    /// <summary>Set while a value is carried back: the values on the way do not set off more carrying (it could go on forever).</summary>
    private bool _reaching;

    /// <summary>A new value: does it reach a goal, and can goals be undone with it as a known operand?</summary>
    private void GoalsMeet(Value value)
    {
        if (_reaching) return;
        if (_goalsByType.TryGetValue(value.Type, out var list))
            foreach (var goal in list.ToList())
                if (goal.Depth > 0 && Near(value.Data, goal)) Reach(goal, value.Id);
        if (value.Cost <= KnownCostLimit && value.Type.DType is not TupleType)
        {
            _knownValues.Add(value.Id);
            foreach (var goal in _goals.Where(g => g.Depth == 0).ToList()) UndoBinary(goal, value.Id);
            ExpandGoals();
        }
    }

    /// <summary>Carries a value that reached a goal back up to the output, one undone step at a time.</summary>
    private readonly Dictionary<Goal, int> _reached = new(ReferenceEqualityComparer.Instance);

    /// <summary>Values carried back from one goal at most: the first few that reach it are the cheapest.</summary>
    private const int MaxReachesPerGoal = 8;

    private void Reach(Goal goal, int id)
    {
        if (_reaching) return;
        int times = _reached.GetValueOrDefault(goal);
        if (times >= MaxReachesPerGoal) return;
        _reached[goal] = times + 1;
        _reaching = true;
        try
        {
            ReachUp(goal, id);
        }
        finally
        {
            _reaching = false;
        }
    }

    private void ReachUp(Goal goal, int id)
    {
        var current = id;
        for (var g = goal; g.Parent is not null && g.Undo is { } undo; g = g.Parent)
        {
            var x = _pool[current];
            Candidate? step;
            Value[] args;
            if (undo.RepeatDim is { } n)
            {
                var kind = undo.RepeatAt == 0 ? "Repeat" : $"Broadcast{undo.RepeatAt}";
                step = Unary(x.Type).FirstOrDefault(c => c.Production.Kind == kind && c.Production.Dim == n && c.Result == g.Parent.Type);
                args = [x];
            }
            else if (undo.Known < 0)
            {
                step = Unary(x.Type).FirstOrDefault(c => c.Production.Kind == "Map" && c.Production.Fns[0] == undo.Fn && c.Result == g.Parent.Type);
                args = [x];
            }
            else
            {
                var known = _pool[undo.Known];
                args = undo.KnownFirst ? [known, x] : [x, known];
                step = BinaryCandidates(args[0].Type, args[1].Type)
                    .FirstOrDefault(c => c.Production.Kind == "ZipMap" && c.Production.Fns[0] == undo.Fn && c.Result == g.Parent.Type);
            }
            if (step is null || TryStep(step, args) is not { } next) return;
            current = next;
        }
    }

    private IEnumerable<Candidate> BinaryCandidates(StreamType first, StreamType second)
    {
        Pair(first, second);
        return _partners.TryGetValue(first, out var list) ? list.Where(p => p.Second == second).SelectMany(p => p.Candidates) : [];
    }

    /// <summary>Undoes a Map of each elementwise fn (one whose input and output are the goal's element type).</summary>
    private void UndoMaps(Goal goal)
    {
        foreach (var fn in _task.Fns)
        {
            if (fn.HasInit || fn.Input != goal.Type.DType || fn.Output != goal.Type.DType) continue;
            // The same fn undone twice in a row is rarely what a program did, and chains of it crowd the targets out.
            if (goal.Undo is { Known: < 0, RepeatDim: null } last && last.Fn == fn) continue;
            if (Solve([goal.Type], Fragment.Unary(new MapOp(fn)), [], goal) is { } solution)
                AddGoal(new Goal(goal.Type, solution.Data, solution.Free, goal, new Undo(fn, -1, false, 0, null), goal.Depth + 1, goal.Unaries + 1));
        }
    }

    /// <summary>Undoes a binary fn whose other operand is a known value of the goal's shape.</summary>
    private void UndoBinary(Goal goal, int knownId)
    {
        if (goal.Depth >= MaxGoalDepth || _binaryUndos >= MaxBinaryUndos) return;
        var known = _pool[knownId];
        if (known.Type.Shape != goal.Type.Shape) return;
        foreach (var fn in _task.Fns)
        {
            if (fn.HasInit || fn.Output != goal.Type.DType || fn.Input is not TupleType { Items.Count: 2 } pair) continue;
            for (int side = 0; side < 2; side++)
            {
                // The known operand is the fn's input component `side`; the unknown one must be laid out like the output.
                if (pair.Items[side] != known.Type.DType || pair.Items[1 - side] != goal.Type.DType) continue;
                if (_binaryUndos++ >= MaxBinaryUndos) return;
                bool knownFirst = side == 0;
                var solution = Solve([known.Type, goal.Type], Fragment.Of(2,
                        new FragmentOp(new ZipOp(), new ValueList<int>(knownFirst ? [0, 1] : [1, 0])),
                        new FragmentOp(new MapOp(fn), new ValueList<int>([2]))),
                    [known.Data], goal);
                // Only an operand simpler than the output is worth a target (a statistic broadcast along a row, say): any
                // other the forward search finds as easily as the output itself.
                if (solution is { } found && DistinctShare(found.Data[0], found.Free) <= 0.5)
                    AddGoal(new Goal(goal.Type, found.Data, found.Free, goal, new Undo(fn, knownId, knownFirst, 0, null), goal.Depth + 1, 0));
            }
        }
    }

    /// <summary>Undoes a Repeat (a new innermost dim) or a Broadcast (a new dim after the a innermost): data constant along it.</summary>
    private void UndoRepeats(Goal goal)
    {
        var shape = goal.Type.Shape;
        if (goal.Type.DType is TupleType || goal.Data.Length != 1) return;
        int elementAxes = StreamType.ElementRank(goal.Type.DType);
        var tensor = goal.Data[0];
        // Repeat takes away the innermost dim (j = 0); Broadcast(a = j) the dim after the j innermost, which needs j <= rank - 1.
        for (int j = 0; j <= shape.Count - 2; j++)
        {
            if (!_grammar.RepeatDims.Contains(shape[j])) continue;
            if (j > 0 && goal.Type.DType is not ScalarType) continue;
            // Tensor axes are the reversed element dims then stream dims: stream dim j is axis rank-1-elementAxes-j.
            int axis = tensor.Rank - 1 - elementAxes - j;
            if (axis < 0 || !ConstantAlong(tensor, goal.Free, axis, out var slice, out var free)) continue;
            var smaller = new StreamType(goal.Type.DType, new ValueList<Dim>(shape.Take(j).Concat(shape.Skip(j + 1))));
            AddGoal(new Goal(smaller, [slice], free, goal, new Undo(null, -1, false, j, shape[j]), goal.Depth + 1, 0));
        }
    }

    /// <summary>Whether the data are the same along an axis (free elements aside); the slice and which of its elements are free.</summary>
    private static bool ConstantAlong(Tensor t, bool[]? freeIn, int axis, out Tensor slice, out bool[]? free)
    {
        var shape = t.Shape;
        int outer = 1, inner = 1, n = shape[axis];
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        var data = new float[outer * inner];
        var freeOut = new bool[outer * inner];
        slice = new Tensor([.. shape.Take(axis), .. shape.Skip(axis + 1)], data);
        free = null;
        if (n < 2) return false;
        bool anyFree = false;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                bool found = false;
                float first = 0;
                for (int k = 0; k < n; k++)
                {
                    int at = (o * n + k) * inner + i;
                    if (freeIn is not null && freeIn[at]) continue;
                    float v = t.Data[at];
                    if (!found) (found, first) = (true, v);
                    else if (Math.Abs(v - first) > 1e-4f + 1e-3f * Math.Abs(first)) return false;
                }
                data[o * inner + i] = first;
                freeOut[o * inner + i] = !found;
                anyFree |= !found;
            }
        free = anyFree ? freeOut : null;
        return true;
    }

    /// <summary>
    /// The unknown operand y with fragment(known..., y) close to the goal's data, elementwise by damped Newton steps
    /// with finite differences, from the target itself and then from 1 and -1 for elements not yet solved; null when
    /// some element is not solved (the fn is not elementwise, or not invertible there). Elements where the result does
    /// not depend on y (a product with zero, say) are free: any y will do.
    /// </summary>
    private (Tensor[] Data, bool[]? Free)? Solve(StreamType[] types, Fragment frag, Tensor[][] known, Goal goal)
    {
        if (goal.Data.Length != 1) return null;
        var target = goal.Data[0];
        var fragTypes = frag.Types(types, _sizes);
        if (fragTypes is null || fragTypes[^1] != goal.Type) return null;
        _tried++;
        int count = target.Count;
        var t = target.Data;
        float Tolerance(int i) => 1e-6f + 1e-6f * Math.Abs(t[i]);

        // Free elements: the result is the same for y = 1 and y = 2.
        var free = new bool[count];
        if (goal.Free is not null) Array.Copy(goal.Free, free, count);
        var one = Run(Filled(1f));
        var two = Run(Filled(2f));
        if (one is null || two is null) return null;
        for (int i = 0; i < count; i++)
            if (Math.Abs(one[i] - two[i]) <= Tolerance(i)) free[i] = true;

        var y = t.ToArray();
        var solved = (bool[])free.Clone();
        foreach (var start in new float?[] { null, 1f, -1f })
        {
            if (solved.All(s => s)) break;
            if (start is { } s0)
                for (int i = 0; i < count; i++)
                    if (!solved[i]) y[i] = s0;
            if (!Newton(y, solved)) return null;
        }
        if (!solved.All(s => s)) return null;
        return ([new Tensor(target.Shape, y, target.Kind)], free.Any(f => f) ? free : null);

        float[] Filled(float v)
        {
            var a = new float[count];
            Array.Fill(a, v);
            return a;
        }

        // Newton steps on the unsolved elements; a step that makes an element worse is halved (up to three times).
        bool Newton(float[] yv, bool[] done)
        {
            var fy = Run(yv);
            if (fy is null) return false;
            var next = new float[count];
            for (int step = 0; step < NewtonSteps; step++)
            {
                bool all = true;
                for (int i = 0; i < count; i++)
                {
                    if (done[i]) continue;
                    if (float.IsFinite(fy[i]) && Math.Abs(fy[i] - t[i]) <= Tolerance(i)) done[i] = true;
                    else all = false;
                }
                if (all) return true;
                var shifted = (float[])yv.Clone();
                for (int i = 0; i < count; i++)
                    if (!done[i]) shifted[i] = yv[i] + 1e-3f * Math.Max(1f, Math.Abs(yv[i]));
                var fh = Run(shifted);
                if (fh is null) return false;
                var delta = new float[count];
                for (int i = 0; i < count; i++)
                {
                    next[i] = yv[i];
                    if (done[i]) continue;
                    float h = shifted[i] - yv[i];
                    float slope = (fh[i] - fy[i]) / h;
                    if (float.IsFinite(slope) && slope != 0) delta[i] = -(fy[i] - t[i]) / slope;
                    next[i] = yv[i] + delta[i];
                }
                float[]? fn = null;
                for (int halving = 0; halving < 3; halving++)
                {
                    fn = Run(next);
                    if (fn is null) return false;
                    bool worse = false;
                    for (int i = 0; i < count; i++)
                    {
                        if (done[i]) continue;
                        bool better = float.IsFinite(fn[i]) && Math.Abs(fn[i] - t[i]) < Math.Abs(fy[i] - t[i]) || !float.IsFinite(fy[i]) && float.IsFinite(fn[i]);
                        if (!better && delta[i] != 0)
                        {
                            delta[i] /= 2;
                            next[i] = yv[i] + delta[i];
                            worse = true;
                        }
                    }
                    if (!worse) break;
                }
                Array.Copy(next, yv, count);
                fy = fn!;
            }
            return true;
        }

        float[]? Run(float[] candidate)
        {
            Tensor[][] args = [.. known, [new Tensor(target.Shape, candidate, target.Kind)]];
            var result = Evaluate(() => frag.Evaluate(_simulator, fragTypes, args, _sizes));
            return result is { Length: 1 } r && r[0].Count == candidate.Length ? r[0].Data : null;
        }
    }

    /// <summary>The share of distinct values (to four significant digits) among the data's elements that are not free.</summary>
    private static double DistinctShare(Tensor t, bool[]? free)
    {
        var seen = new HashSet<float>();
        int count = 0;
        for (int i = 0; i < t.Count; i++)
        {
            if (free is not null && free[i]) continue;
            count++;
            float v = t.Data[i];
            if (v == 0 || !float.IsFinite(v))
            {
                seen.Add(v);
                continue;
            }
            // Four significant digits: the mantissa scaled to [1000, 10000) and rounded, with the exponent.
            int exponent = (int)Math.Floor(Math.Log10(Math.Abs(v)));
            seen.Add((float)(Math.Round(v / Math.Pow(10, exponent - 3)) * 100 + exponent));
        }
        return count == 0 ? 1 : (double)seen.Count / count;
    }

    /// <summary>Whether a value is close enough to a target to be carried back (loosely: targets are solved numerically).</summary>
    private static bool Near(Tensor[] data, Goal goal)
    {
        if (data.Length != goal.Data.Length) return false;
        for (int c = 0; c < data.Length; c++)
        {
            var a = data[c].Data;
            var b = goal.Data[c].Data;
            if (a.Length != b.Length) return false;
            var free = c == 0 ? goal.Free : null;
            for (int i = 0; i < a.Length; i++)
                if (!(free is not null && free[i]) && !(Math.Abs(a[i] - b[i]) <= 1e-4f + 1e-3f * Math.Abs(b[i]))) return false;
        }
        return true;
    }
}
