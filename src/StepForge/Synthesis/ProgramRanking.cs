using StepForge.Tasks;

namespace StepForge.Synthesis;

/// <summary>
/// How the search orders the programs it verified: it returns the least. A cost model plugs in here (a ranking by
/// simulated cycles, say); the default prefers the fewest ops, then the fewest elements streamed.
/// </summary>
public interface IProgramRanking
{
    /// <summary>Short name, for statistics.</summary>
    string Name { get; }

    /// <summary>The order for one task's programs (a cost model may need the task's sizes).</summary>
    IComparer<FoundProgram> For(TaskSpec task);
}

/// <summary>The rankings StepForge has itself.</summary>
public static class ProgramRanking
{
    /// <summary>
    /// Fewest ops, then fewest elements streamed, then the smallest difference from the reference (of two programs that
    /// pass, the one nearer the reference more likely computes what it computes), then the text (so ties always break the same way).
    /// </summary>
    public static readonly IProgramRanking FewestOps = new ByMeasures();

    private sealed class ByMeasures : IProgramRanking, IComparer<FoundProgram>
    {
        public string Name => "fewest ops, then fewest elements streamed, then nearest the reference";

        public IComparer<FoundProgram> For(TaskSpec task) => this;

        public int Compare(FoundProgram? x, FoundProgram? y)
        {
            if (x is null || y is null) return x is null ? (y is null ? 0 : -1) : 1;
            int c = x.Ops.CompareTo(y.Ops);
            if (c == 0) c = x.ElementsStreamed.CompareTo(y.ElementsStreamed);
            if (c == 0) c = x.Error.CompareTo(y.Error);
            return c != 0 ? c : string.CompareOrdinal(x.Program, y.Program);
        }
    }
}
