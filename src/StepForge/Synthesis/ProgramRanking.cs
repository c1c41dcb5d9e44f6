using System.Collections.Concurrent;
using System.Globalization;
using StepForge.Tasks;

namespace StepForge.Synthesis;

/// <summary>
/// How the search orders the programs it verified: it returns the least. The default is the cost model's cycles
/// (<see cref="ProgramRanking.FewestCycles"/>); <see cref="ProgramRanking.FewestOps"/> needs no cost model.
/// </summary>
public interface IProgramRanking
{
    /// <summary>Short name, for statistics.</summary>
    string Name { get; }

    /// <summary>The order for one task's programs (a cost model may need the task's sizes).</summary>
    ProgramOrder For(TaskSpec task);
}

/// <summary>One task's programs in a ranking's order, and what the order measured of each.</summary>
public abstract class ProgramOrder : IComparer<FoundProgram>
{
    public abstract int Compare(FoundProgram? x, FoundProgram? y);

    /// <summary>What the order measured of a program, for the answer's statistics ("" when it is all in the program's own measures).</summary>
    public virtual string Measure(FoundProgram program) => "";
}

/// <summary>The rankings StepForge has itself.</summary>
public static class ProgramRanking
{
    /// <summary>
    /// Fewest ops, then fewest elements streamed, then the smallest difference from the reference (of two programs that
    /// pass, the one nearer the reference more likely computes what it computes), then the text (so ties always break the same way).
    /// </summary>
    public static readonly IProgramRanking FewestOps = new ByMeasures();

    /// <summary>
    /// Fewest cycles by the cost model (cost-model.md, at the task's sizes on seed 0), then fewest on-chip bytes, then as
    /// <see cref="FewestOps"/>. A program the model cannot cost, or that deadlocks whatever the channels' depth, ranks last.
    /// </summary>
    public static readonly IProgramRanking FewestCycles = new ByCost();

    private sealed class ByMeasures : IProgramRanking
    {
        private static readonly Order Measures = new();

        public string Name => "fewest ops, then fewest elements streamed, then nearest the reference";

        public ProgramOrder For(TaskSpec task) => Measures;

        public static int Compare(FoundProgram? x, FoundProgram? y)
        {
            if (x is null || y is null) return x is null ? (y is null ? 0 : -1) : 1;
            int c = x.Ops.CompareTo(y.Ops);
            if (c == 0) c = x.ElementsStreamed.CompareTo(y.ElementsStreamed);
            if (c == 0) c = x.Error.CompareTo(y.Error);
            return c != 0 ? c : string.CompareOrdinal(x.Program, y.Program);
        }

        private sealed class Order : ProgramOrder
        {
            public override int Compare(FoundProgram? x, FoundProgram? y) => ByMeasures.Compare(x, y);
        }
    }

    private sealed class ByCost : IProgramRanking
    {
        public string Name => "fewest cycles by the cost model, then fewest on-chip bytes, then fewest ops";

        public ProgramOrder For(TaskSpec task) => new Order(new TaskCost(task));

        private sealed class Order(TaskCost cost) : ProgramOrder
        {
            // A program is costed once, however often the sort compares it.
            private readonly ConcurrentDictionary<string, (long Cycles, long OnChip)> _costs = new(StringComparer.Ordinal);

            public (long Cycles, long OnChip) Of(FoundProgram program) => _costs.GetOrAdd(program.Program, text =>
                cost.Estimate(text).Cost is { UnboundedDeadlock: null } c ? (c.Cycles, c.OnChipBytes) : (long.MaxValue, long.MaxValue));

            public override int Compare(FoundProgram? x, FoundProgram? y)
            {
                if (x is null || y is null) return x is null ? (y is null ? 0 : -1) : 1;
                int c = Of(x).CompareTo(Of(y));
                return c != 0 ? c : ByMeasures.Compare(x, y);
            }

            public override string Measure(FoundProgram program) => Of(program) is var (cycles, onChip) && cycles != long.MaxValue
                ? string.Create(CultureInfo.InvariantCulture, $"{cycles:N0} cycles, {onChip:N0} on-chip bytes")
                : "no cost";
        }
    }
}
