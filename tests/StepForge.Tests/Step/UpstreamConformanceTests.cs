using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;
using Xunit.Abstractions;

namespace StepForge.Tests.Step;

/// <summary>
/// The upstream reference programs against the static checker. step-semantics.md says every reference program
/// type-checks and the ones that consume a stream twice are affine errors that pass once Copy is inserted.
/// Counting by the spec's rule gives 12 such programs: the 11 benchmark tasks whose benchcard "Affine" count
/// is non-zero without a Copy already in place, plus the extra layer norm norm/G_0_8_02, which is not in the
/// benchcard and consumes E0 and E6 twice.
/// </summary>
public class UpstreamConformanceTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string[]> NonAffine = new()
    {
        ["moe/G_0_10_ref.yaml"] = ["E1", "E4"],
        ["moe/G_0_12_01_ref.yaml"] = ["E1", "E2", "E8"],
        ["moe/G_0_5_02_ref.yaml"] = ["E3"],
        ["moe/G_0_6_05_ref.yaml"] = ["E1"],
        ["moe/G_0_7_01_ref.yaml"] = ["E2", "E1"],
        ["moe/G_0_9_01_ref.yaml"] = ["E1", "E2"],
        ["moe/G_0_9_02_ref.yaml"] = ["E1", "E2"],
        ["norm/G_0_16_01_ref.yaml"] = ["E0", "E5"],
        ["norm/G_0_8_01_ref.yaml"] = ["E0"],
        ["norm/G_0_8_02_ref.yaml"] = ["E0", "E6"],
        ["norm/G_0_9_02_ref.yaml"] = ["E0", "E3"],
        ["rope/G_0_4_01_ref.yaml"] = ["E1"],
    };

    public static TheoryData<string> RefFiles() => [.. TestPaths.UpstreamFiles("_ref.yaml").Select(TestPaths.Relative)];

    private static TaskSpec Load(string file) => TaskReader.ReadFile(Path.Combine(TestPaths.Upstream, file));

    [UpstreamTheory]
    [MemberData(nameof(RefFiles))]
    public void ReferenceProgram_TypeChecks_AndIsAffineExactlyWhenItUsesNoStreamTwice(string file)
    {
        var task = Load(file);
        var (bound, problem) = StaticChecker.Bind(task.Impl!, task.Environment());
        Assert.True(bound is not null, $"{file}: {problem}");
        var verdict = TaskChecker.Check(task);
        if (!NonAffine.TryGetValue(file, out var streams))
        {
            Assert.True(verdict.IsCorrect, verdict.Message);
            return;
        }
        Assert.Equal(VerdictKind.Affine, verdict.Kind);
        Assert.Contains($"stream {streams[0]} is consumed", verdict.Message, StringComparison.Ordinal);
        foreach (var s in streams.Skip(1)) Assert.Contains($"{s} (lines", verdict.Message, StringComparison.Ordinal);
        var violations = AffineChecker.FindViolations(bound);
        Assert.Equal(streams.Order(), violations.Select(v => v.Handle.Name).Order());
        foreach (var v in violations)
            Assert.Contains(string.Join(", ", v.Uses.Select(u => u.Span.Line)), verdict.Message, StringComparison.Ordinal);
    }

    [UpstreamFact]
    public void TwelveReferencePrograms_AreNotAffine()
    {
        var affine = TestPaths.UpstreamFiles("_ref.yaml").Select(TestPaths.Relative).Where(f => TaskChecker.Check(Load(f)).Kind == VerdictKind.Affine).ToList();
        Assert.Equal(NonAffine.Keys.Order(StringComparer.Ordinal), affine.Order(StringComparer.Ordinal));
    }

    [UpstreamTheory]
    [MemberData(nameof(RefFiles))]
    public void WithRepair_EveryReferenceProgramPasses_WithTheFewestCopies(string file)
    {
        var task = Load(file);
        var (bound, _) = StaticChecker.Bind(task.Impl!, task.Environment());
        int needed = AffineChecker.FindViolations(bound!).Sum(v => v.Uses.Count - 1);
        var verdict = TaskChecker.Check(task, options: new StaticCheckOptions(RepairAffine: true));
        Assert.True(verdict.IsCorrect, verdict.Message);
        Assert.Equal(needed, verdict.CopiesInserted);
        if (needed == 0)
        {
            Assert.Null(verdict.RepairedImpl);
            return;
        }

        output.WriteLine($"{file}: {needed} Copy op(s) inserted\n{verdict.RepairedImpl}");
        var repairedLines = verdict.RepairedImpl!.Split('\n');
        var copyLines = repairedLines.Where(l => l.Contains("step.Copy().apply(", StringComparison.Ordinal)).ToList();
        Assert.Equal(needed + task.Impl!.Split('\n').Count(l => l.Contains("step.Copy()", StringComparison.Ordinal)), copyLines.Count);
        // Apart from the inserted lines, the program is the original with consumers renamed.
        Assert.Equal(task.Impl.Split('\n').Length + needed, repairedLines.Length);
    }
}
