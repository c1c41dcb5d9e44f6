using StepForge.Synthesis;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Synthesis;

/// <summary>What the search learns from demonstrations: productions, pieces, and a task solved only with a learned piece.</summary>
public class SearchKnowledgeTests
{
    private static TaskSpec Benchmark(string path) => TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, path));

    private static SolvedExample Reference(string path)
    {
        var task = Benchmark(path);
        return new SolvedExample(task, task.Impl!);
    }

    [Fact]
    public void AProgram_IsReadAsTheGrammarsProductions()
    {
        // Copy ops are seen through; Zip → Map is one ZipMap; Bufferize → Repeat → Streamify one Broadcast.
        var graph = ProductionGraph.Read(Benchmark("gemm-easy/broadcast-row-dot.yaml"), Benchmark("gemm-easy/broadcast-row-dot.yaml").Impl!)!;
        Assert.Equal(["Broadcast1", "ZipMap", "Accum1"], graph.Uses.Select(u => u.Kind));
        Assert.Equal("M", graph.Uses[0].Dim!.ToString());
        Assert.Equal(["fn_times"], graph.Uses[1].Fns.Select(f => f.FuncName));

        var rms = ProductionGraph.Read(Benchmark("norm/rmsnorm.yaml"), Benchmark("norm/rmsnorm.yaml").Impl!)!;
        Assert.Equal(["Map", "Accum1", "Map", "Map", "Map", "Repeat", "ZipMap"], rms.Uses.Select(u => u.Kind));
        // x is copied: both of its uses read the input stream itself.
        Assert.Equal(rms.Uses[0].Args[0], rms.Uses[6].Args[0]);
    }

    [Fact]
    public void PartitionMapsAndMerge_AreOneExpertsProduction()
    {
        var task = Benchmark("expert/flag-routed-experts.yaml");
        var graph = ProductionGraph.Read(task, task.Impl!)!;
        Assert.Equal(["Map", "Zip", "Experts"], graph.Uses.Select(u => u.Kind));
        Assert.Equal(["fn_gated_residual", "fn_pass_through", "fn_combine"], graph.Uses[2].Fns.Select(f => f.FuncName));
    }

    [Fact]
    public void Learning_CountsProductions_AndCutsPieces_OneForEachStructure()
    {
        var knowledge = SearchKnowledge.Learn([Reference("rope/neox-rope.yaml"), Reference("rope/gptj-rope.yaml")]);
        Assert.Equal(["rope-neox", "rope-gptj"], knowledge.Tasks);
        Assert.Equal(4, knowledge.Productions);
        Assert.Equal(2, knowledge.KindCounts["Scan1"]);
        Assert.Equal(2, knowledge.KindCounts["ZipMap"]);
        // Both programs are Scan → Zip with x → Map: one piece, found in both tasks, its fn slots remembering both fns.
        var piece = Assert.Single(knowledge.Pieces);
        Assert.Equal("2:Scan1(0);ZipMap(2,1);", piece.Key);
        Assert.Equal(["rope-neox", "rope-gptj"], piece.Tasks);
        Assert.Equal(["fn_rotate_halves", "fn_rotate_pairs"], piece.Steps[1].Fns[0].Select(r => r.FuncName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ADemonstrationThatDoesNotBind_IsPassedOver()
    {
        var task = Benchmark("rope/neox-rope.yaml");
        var knowledge = SearchKnowledge.Learn([new SolvedExample(task, "return nonsense\n"), Reference("rope/gptj-rope.yaml")]);
        Assert.Equal(1, knowledge.Unreadable);
        Assert.Equal(["rope-gptj"], knowledge.Tasks);
        Assert.Contains("did not bind", knowledge.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void ATask_IsSolvedWithAPieceLearnedFromAnotherTask_AndNotWithoutIt()
    {
        // A two-pass layer norm is fifteen ops deep: beyond this budget from scratch. The four-dimensional layer norm's
        // program teaches the centring (sum, divide, repeat, subtract) and the normalization as two pieces.
        var task = Benchmark("norm/layernorm-streaming.yaml");
        var options = new SearchOptions(MaxCandidates: 20_000);

        var alone = ProgramSearch.Run(task, options);
        Assert.Equal(SearchOutcome.NotFound, alone.Outcome);

        var knowledge = SearchKnowledge.Learn([Reference("extra/layernorm-4d.yaml")]);
        var taught = ProgramSearch.Run(task, options, knowledge);
        Assert.True(taught.IsFound, taught.Message);
        Assert.NotEmpty(taught.Answer!.Pieces);
        Assert.All(taught.Answer.Pieces, p => Assert.Contains("extra-layernorm-4d", p, StringComparison.Ordinal));
        Assert.Contains("learned from 1 demonstration(s)", taught.Knowledge, StringComparison.Ordinal);
        var verdict = Verifier.Verify(task, taught.Program, new VerifyOptions(Trials: 3, Sizes: new Dictionary<string, long> { ["D"] = 32, ["N"] = 5 }));
        Assert.True(verdict.IsCorrect, verdict.Message);
    }

    [Fact]
    public void Learning_IsDeterministic()
    {
        var examples = new[] { Reference("extra/layernorm-4d.yaml"), Reference("norm/rmsnorm.yaml") };
        var a = SearchKnowledge.Learn(examples);
        var b = SearchKnowledge.Learn(examples);
        Assert.Equal(a.Pieces.Select(p => p.Key), b.Pieces.Select(p => p.Key));
        Assert.Equal(a.KindCounts.OrderBy(k => k.Key, StringComparer.Ordinal), b.KindCounts.OrderBy(k => k.Key, StringComparer.Ordinal));
    }
}
