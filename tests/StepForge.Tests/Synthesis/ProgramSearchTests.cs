using StepForge.Step;
using StepForge.Synthesis;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Synthesis;

/// <summary>The model-free search on small tasks: what it finds, in what form, how it gives up, and that its answer depends on work alone.</summary>
public class ProgramSearchTests
{
    private const string Header = """
        name: {0}
        inputs:
          - name: x
            dtype: fp32
            dims: [N, M]
            data_gen: torch.rand
        fns:
          - name: Square
            func_name: fn_square
            input_dtype: fp32
            output_dtype: fp32
            apply: |
              return [input[0] * input[0]]
          - name: Add
            func_name: fn_add
            input_dtype: fp32
            output_dtype: fp32
            init: [0]
            apply: |
              return [state[0] + input[0]]
          - name: Divide
            func_name: fn_divide
            input_dtype: [fp32, fp32]
            output_dtype: fp32
            apply: |
              return [input[0] / input[1]]
        """;

    /// <summary>A small task file as text: x, three fns, and the given outputs.</summary>
    public static string Text(string name, string outputs) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, Header, name) + "\n" + outputs;

    public const string SumOfSquares = """
        outputs:
          - name: out
            dtype: fp32
            dims: [M]
            data_transform: |
              (input_data['x'] ** 2).sum(dim=1)
        """;

    public const string Double = """
        outputs:
          - name: out
            dtype: fp32
            dims: [N, M]
            data_transform: |
              2 * input_data['x']
        """;

    public const string DivideByRowEnergy = """
        outputs:
          - name: out
            dtype: fp32
            dims: [N, M]
            data_transform: |
              x = input_data['x']
              x / (x ** 2).sum(dim=1, keepdim=True)
        """;

    public static TaskSpec Task(string name, string outputs) => TaskReader.Read(Text(name, outputs), $"{name}.yaml");

    private static TaskSpec Benchmark(string path) => TaskReader.ReadFile(Path.Combine(TestPaths.ProjectBenchmark, path));

    [Fact]
    public void ATwoOpProgram_IsFound()
    {
        var task = Task("sum-of-squares", SumOfSquares);
        var result = ProgramSearch.Run(task);
        Assert.True(result.IsFound, result.Message);
        Assert.Equal("t0 = step.Map(fn=fn_square).apply(x)\nt1 = step.Accum(fn=fn_add, b=1).apply(t0)\nreturn t1\n", result.Program);
        Assert.Equal(2, result.Answer!.Ops);
        Assert.True(Verifier.Verify(task, result.Program, new VerifyOptions(Trials: 3, Sizes: new Dictionary<string, long> { ["M"] = 8, ["N"] = 3 })).IsCorrect);
    }

    [Fact]
    public void AFiveOpProgram_IsFound_AndMadeAffine()
    {
        var task = Task("divide-by-row-energy", DivideByRowEnergy);
        var result = ProgramSearch.Run(task);
        Assert.True(result.IsFound, result.Message);
        var program = result.Program!;
        foreach (var op in new[] { "Map(fn=fn_square)", "Accum(fn=fn_add, b=1)", "Repeat(n=N)", "Zip()", "Map(fn=fn_divide)", "Copy()" })
            Assert.Contains("step." + op, program, StringComparison.Ordinal);
        var verdict = Verifier.Verify(task, program, new VerifyOptions(Trials: 3, AffineMode: AffineMode.Strict,
            Sizes: new Dictionary<string, long> { ["M"] = 6, ["N"] = 11 }));
        Assert.True(verdict.IsCorrect, verdict.Message);
        Assert.True(result.Stats.Tried > result.Stats.Kept);
    }

    [Fact]
    public void AnImpossibleTask_EndsUnsolved_WithinItsWorkBudget()
    {
        // Doubling needs a fn that multiplies by two; the task has none.
        var options = new SearchOptions(MaxWork: 2_000_000);
        var result = ProgramSearch.Run(Task("double", Double), options);
        Assert.Equal(SearchOutcome.NotFound, result.Outcome);
        Assert.Null(result.Program);
        Assert.StartsWith("no program found", result.Message, StringComparison.Ordinal);
        // The budget is checked after every candidate; one candidate on this task is a few hundred units of work.
        Assert.InRange(result.Stats.Work, options.MaxWork, options.MaxWork + 100_000);
    }

    [Fact]
    public void TheCandidateBudget_IsHonoured()
    {
        var result = ProgramSearch.Run(Task("double", Double), new SearchOptions(MaxCandidates: 500));
        Assert.Equal(SearchOutcome.NotFound, result.Outcome);
        Assert.Contains("within 500 candidates", result.Message, StringComparison.Ordinal);
        // Once over, a candidate in progress may still carry a value back to a target: a few more at most.
        Assert.InRange(result.Stats.Tried, 500, 520);
    }

    [Fact]
    public void TheValueBudget_IsHonoured()
    {
        var result = ProgramSearch.Run(Task("double", Double), new SearchOptions(MaxValues: 300));
        Assert.Equal(SearchOutcome.NotFound, result.Outcome);
        Assert.Contains("300 distinct values", result.Message, StringComparison.Ordinal);
        Assert.InRange(result.Stats.Kept, 300, 310);
    }

    [Fact]
    public void TheTasksOwnProgram_IsNeverRead()
    {
        var task = Task("sum-of-squares", SumOfSquares + "\nimpl: |\n  this is not a program\n");
        Assert.Equal("this is not a program\n", task.Impl);
        Assert.True(ProgramSearch.Run(task).IsFound);
    }

    [Fact]
    public void TheAnswer_DependsOnWorkAlone_NotOnTheMachinesLoad()
    {
        var task = Task("divide-by-row-energy", DivideByRowEnergy);
        var quiet = ProgramSearch.Run(task);
        // The same search while another thread keeps a core busy.
        using var stop = new CancellationTokenSource();
        var hog = new Thread(() =>
        {
            double x = 0;
            while (!stop.IsCancellationRequested) x = Math.Sqrt(x + 1);
        }) { IsBackground = true };
        hog.Start();
        SearchResult loaded;
        try
        {
            loaded = ProgramSearch.Run(task);
        }
        finally
        {
            stop.Cancel();
            hog.Join();
        }
        Assert.Equal(quiet.Program, loaded.Program);
        Assert.Equal((quiet.Stats.Tried, quiet.Stats.Work, quiet.Stats.Kept, quiet.Stats.Verified, quiet.Stats.Level),
            (loaded.Stats.Tried, loaded.Stats.Work, loaded.Stats.Kept, loaded.Stats.Verified, loaded.Stats.Level));
        Assert.Equal(quiet.Found.Select(f => f.Program), loaded.Found.Select(f => f.Program));
    }

    [Fact]
    public void ASearchStoppedByItsSafetyNet_GivesNoAnswer()
    {
        var result = ProgramSearch.Run(Task("sum-of-squares", SumOfSquares), new SearchOptions(SafetySeconds: 1e-9));
        Assert.Equal(SearchOutcome.Stopped, result.Outcome);
        Assert.Null(result.Program);
        Assert.Empty(result.Found);
        Assert.Contains("safety net", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACancelledSearch_GivesNoAnswer()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var result = ProgramSearch.Run(Task("sum-of-squares", SumOfSquares), cancellationToken: cancel.Token);
        Assert.Equal(SearchOutcome.Stopped, result.Outcome);
        Assert.Null(result.Program);
    }

    /// <summary>Prefers the most ops: the opposite of the default, to see that the ranking decides the answer.</summary>
    private sealed class MostOps : ProgramOrder, IProgramRanking
    {
        public string Name => "most ops";

        public ProgramOrder For(TaskSpec task) => this;

        public override int Compare(FoundProgram? x, FoundProgram? y) => y!.Ops != x!.Ops ? y.Ops.CompareTo(x.Ops) : string.CompareOrdinal(x.Program, y.Program);
    }

    [Fact]
    public void TheSearch_GoesOnAfterItsFirstProgram_AndTheRankingPicksTheAnswer()
    {
        var task = Task("divide-by-row-energy", DivideByRowEnergy);
        var cheapest = ProgramSearch.Run(task);
        Assert.True(cheapest.Found.Count >= 2, $"{cheapest.Found.Count} program(s) verified");
        Assert.Equal(cheapest.Found.Min(f => f.Ops), cheapest.Answer!.Ops);
        Assert.Equal(cheapest.Found[0], cheapest.Answer);
        Assert.NotNull(cheapest.First);

        var dearest = ProgramSearch.Run(task, new SearchOptions(Ranking: new MostOps()));
        Assert.Equal(dearest.Found.Max(f => f.Ops), dearest.Answer!.Ops);
        Assert.True(dearest.Answer.Ops > cheapest.Answer.Ops);
        Assert.True(Verifier.Verify(task, dearest.Program, new VerifyOptions(Trials: 2)).IsCorrect);
    }

    [Fact]
    public void ExpertPrograms_AreWrittenInUpstreamsForm()
    {
        // Partition takes the global that holds the expert count (E_value), never the dimension symbol; every Zip takes two streams.
        var result = ProgramSearch.Run(Benchmark("expert/flag-routed-experts.yaml"));
        Assert.True(result.IsFound, result.Message);
        var program = result.Program!;
        Assert.Contains("step.Partition(N=E_value)", program, StringComparison.Ordinal);
        Assert.DoesNotContain("N=E)", program, StringComparison.Ordinal);
        foreach (var line in program.Split('\n').Where(l => l.Contains("step.Zip()", StringComparison.Ordinal)))
            Assert.Matches(@"step\.Zip\(\)\.apply\(\(\w+, \w+\)\)$", line);
    }

    [Fact]
    public void AnOutputLaidOutAnotherWay_GetsItsLayoutOps()
    {
        // The online softmax folds into buffers; the output wants the buffers' elements as a stream: Streamify at the end.
        var task = Benchmark("attn/online-softmax-fused.yaml");
        var result = ProgramSearch.Run(task);
        Assert.True(result.IsFound, result.Message);
        Assert.Contains("step.Streamify()", result.Program!, StringComparison.Ordinal);
    }

    [Fact]
    public void ADeepNormalization_IsFound_ByUndoingItsLastSteps()
    {
        // RMS normalization is eight ops deep; the search undoes the division by a known x, the repeat and the
        // elementwise fns from the output, and meets the sum of squares on the way.
        var task = Benchmark("norm/rmsnorm.yaml");
        var result = ProgramSearch.Run(task, new SearchOptions(MaxCandidates: 20_000));
        Assert.True(result.IsFound, result.Message);
        var verdict = Verifier.Verify(task, result.Program, new VerifyOptions(Trials: 3, Sizes: new Dictionary<string, long> { ["D"] = 32, ["N"] = 9 }));
        Assert.True(verdict.IsCorrect, verdict.Message);
    }
}
