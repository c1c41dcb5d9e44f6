using StepForge.PyLite;
using StepForge.Simulation;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Simulation;

/// <summary>
/// The memory estimate counts what the simulator holds: views (Repeat, RepeatRef) and ops that keep the data as it is
/// share their input's storage, a Map read by one fold is computed chunk by chunk and stores nothing, and a returned
/// view is materialized when the run ends.
/// </summary>
public class MemoryEstimateTests
{
    private static readonly TaskSpec Rmsnorm = TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, "norm/rmsnorm.yaml"));

    private static readonly Dictionary<string, long> Sizes = new() { ["N"] = 1000, ["D"] = 1000 };

    /// <summary>One stream of x at <see cref="Sizes"/>: a million floats.</summary>
    private const long X = 4_000_000;

    private static long Peak(string program)
    {
        var env = Rmsnorm.Environment(Sizes);
        var (bound, problem) = ProgramBinder.Bind(Parser.ParseModule(program), env, checkOutputs: false);
        Assert.True(bound is not null, problem?.Message);
        return MemoryEstimate.PeakBytes(bound.Program, env.Sizes);
    }

    [Fact]
    public void ARepeatReadByAFold_IsAView_ButAReturnedRepeatIsMaterialized()
    {
        long folded = Peak("r = step.Repeat(n=1000).apply(x)\ns = step.Accum(fn=fn_add, b=1).apply(r)\nreturn s");
        // x, the working chunks, the fold's output: nothing for the thousand-fold repeat.
        Assert.True(folded < 3 * X + MemoryEstimate.WorkingBytes, $"{folded}");
        long returned = Peak("r = step.Repeat(n=1000).apply(x)\nreturn r");
        Assert.True(returned >= 1000 * X, $"{returned}");
    }

    [Fact]
    public void AMapReadByOneFold_StoresNothing_ButAMapReadTwiceIsStored()
    {
        long deferred = Peak("q = step.Map(fn=fn_square).apply(x)\ns = step.Accum(fn=fn_add, b=1).apply(q)\nreturn s");
        long stored = Peak("q = step.Map(fn=fn_square).apply(x)\na, b = step.Copy().apply(q)\ns = step.Accum(fn=fn_add, b=1).apply(a)\nt = step.Accum(fn=fn_add, b=1).apply(b)\nreturn s, t");
        // x and the fold's output (a thousandth of x) while the Map runs inside the fold.
        Assert.True(deferred <= X + 2 * X / 1000 + MemoryEstimate.WorkingBytes, $"{deferred}");
        Assert.True(stored >= 2 * X, $"{stored}");
    }

    [Fact]
    public void AViewKeepsWhatItReadsAlive()
    {
        // The Repeat is x's last reader, but the view reads x until the fold is done: x and the fold's output together.
        long peak = Peak("r = step.Repeat(n=4).apply(x)\ns = step.Accum(fn=fn_add, b=1).apply(r)\nreturn s");
        Assert.InRange(peak, 2 * X, 2 * X + MemoryEstimate.WorkingBytes);
    }
}
