using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Tasks;

/// <summary>Task files: the upstream files load unchanged; malformed files are reported naming file, key and problem.</summary>
public class TaskReaderTests
{
    private const string Valid = """
        name: tiny
        global: |
          E_value = 2
          ctx[E] = E_value
        inputs:
          - name: E0
            dtype: fp32
            dims: [N, M]
            data_gen: torch.rand
          - name: E1
            dtype: Multihot(fp32, E)
            dims: [M]
            min: 1
            max: 1
        fns:
          - name: Add
            func_name: fn_add
            apply: |
              return [state[0] + input[0]]
            init: [0]
            input_dtype: fp32
            output_dtype: fp32
        outputs:
          - name: S0
            dtype: fp32
            dims: [M]
            data_transform:
              - |
                input_data['E0'].sum(1)
        impl: |
          E2 = step.Accum(fn=fn_add, b=1).apply(E0)
          return E2
        """;

    private static TaskFileException Broken(string yaml) => Assert.Throws<TaskFileException>(() => TaskReader.Read(yaml, "broken.yaml"));

    [Fact]
    public void ReadsAValidTask_WithGlobalDimensions()
    {
        var task = TaskReader.Read(Valid, "tiny.yaml");
        Assert.Equal("tiny", task.Name);
        Assert.Equal(2, task.Sizes["E"]);
        Assert.Equal(5, task.Sizes["M"]);
        Assert.Equal(2, task.Inputs.Count);
        Assert.Equal(new MultihotType(DType.Fp32, Dim.Symbol("E")), task.Inputs[1].Type.DType);
        Assert.Equal(0.0, Assert.Single(task.Fns).Init!.Value[0]);
        Assert.True(TaskChecker.Check(task).IsCorrect);
    }

    [Theory]
    [InlineData("outputs:", "outputs", "missing")]
    [InlineData("dtype: fp32\n    dims: [N, M]\n    data_gen: torch.rand", "inputs[0].dtype", "not a dtype")]
    [InlineData("dims: [N, M]", "inputs[0].dims", "unknown dimension symbol 'Q'")]
    [InlineData("name: E1", "inputs[1].name", "duplicate name 'E0'")]
    [InlineData("func_name: fn_add", "fns[0].func_name", "not a valid name")]
    [InlineData("init: [0]", "fns[0].init[0]", "not a number")]
    [InlineData("data_gen: torch.rand\n  - name: E1", "inputs[0].data_gen", "unknown generator")]
    public void MalformedFiles_NameTheFileTheKeyAndTheProblem(string find, string key, string problem)
    {
        var yaml = (find, key) switch
        {
            ("outputs:", _) => Valid[..Valid.IndexOf("outputs:", StringComparison.Ordinal)] + "impl: x",
            (_, "inputs[0].dtype") => Valid.Replace("dtype: fp32\n    dims: [N, M]", "dtype: Bufer(fp32, [D])\n    dims: [N, M]", StringComparison.Ordinal),
            (_, "inputs[0].dims") => Valid.Replace("dims: [N, M]", "dims: [Q, M]", StringComparison.Ordinal),
            (_, "inputs[1].name") => Valid.Replace("name: E1", "name: E0", StringComparison.Ordinal),
            (_, "fns[0].func_name") => Valid.Replace("func_name: fn_add", "func_name: fn-add", StringComparison.Ordinal),
            (_, "fns[0].init[0]") => Valid.Replace("init: [0]", "init: [zero]", StringComparison.Ordinal),
            _ => Valid.Replace("data_gen: torch.rand", "data_gen: torch.uniform", StringComparison.Ordinal),
        };
        var e = Broken(yaml);
        Assert.Equal("broken.yaml", e.Path);
        Assert.Equal(key, e.Key);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
        Assert.StartsWith("broken.yaml", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void WrongYamlTypes_AreReported()
    {
        Assert.Contains("must be a list", Broken("inputs: 3\nfns: []\noutputs: []").Problem, StringComparison.Ordinal);
        Assert.Contains("must be a list", Broken("inputs: {a: 1}\nfns: []\noutputs: []").Problem, StringComparison.Ordinal);
        Assert.Contains("top level must be a YAML mapping", Broken("- just\n- a list").Problem, StringComparison.Ordinal);
        Assert.Contains("not valid YAML", Broken("inputs: [unclosed").Problem, StringComparison.Ordinal);
        Assert.Contains("unknown key", Broken(Valid + "\nfnz: []").Problem, StringComparison.Ordinal);
        Assert.Equal("fns[0].init", Broken(Valid.Replace("init: [0]", "init: [0, 0]", StringComparison.Ordinal)).Key);
        Assert.Equal("fns[0].apply", Broken(Valid.Replace("return [state[0] + input[0]]", "return [state[0] +", StringComparison.Ordinal)).Key);
        Assert.Equal("file not found", Assert.Throws<TaskFileException>(() => TaskReader.ReadFile("/nonexistent/x.yaml")).Problem);
    }

    public static TheoryData<string> UpstreamFiles() =>
        [.. TestPaths.UpstreamFiles("_test.yaml").Concat(TestPaths.UpstreamFiles("_ref.yaml")).Select(TestPaths.Relative)];

    [UpstreamTheory]
    [MemberData(nameof(UpstreamFiles))]
    public void UpstreamTaskFiles_LoadUnchanged(string file)
    {
        var task = TaskReader.ReadFile(Path.Combine(TestPaths.Upstream, file));
        Assert.NotEmpty(task.Inputs);
        Assert.NotEmpty(task.Fns);
        Assert.NotEmpty(task.Outputs);
        Assert.Equal(file.EndsWith("_ref.yaml", StringComparison.Ordinal), task.Impl is not null);
    }

    [UpstreamFact]
    public void TheUpstreamCorpusHas27TestAnd27RefFiles()
    {
        Assert.Equal(27, TestPaths.UpstreamFiles("_test.yaml").Count());
        Assert.Equal(27, TestPaths.UpstreamFiles("_ref.yaml").Count());
    }

    [Fact]
    public void Writer_RoundTripsATask()
    {
        var task = TaskReader.Read(Valid, "tiny.yaml") with { Group = "norm", Description = "sum over N" };
        var again = TaskReader.Read(TaskWriter.Write(task), "tiny.yaml");
        Assert.Equal(TaskWriter.Write(task), TaskWriter.Write(again));
        Assert.Equal(task.Fns, again.Fns);
        Assert.Equal(task.Inputs, again.Inputs);
        Assert.Equal(task.Outputs, again.Outputs);
        Assert.Equal(task.Impl, again.Impl);
        Assert.Equal("norm", again.Group);
    }

    [UpstreamFact]
    public void LoadingTasksToSample_PrefersTestFiles_AndQualifiesNamesUpstreamReuses()
    {
        var tasks = TaskLocator.LoadTasks([TestPaths.Upstream]);
        Assert.Equal(27, tasks.Count);
        Assert.All(tasks, t => Assert.EndsWith("_test.yaml", t.SourcePath, StringComparison.Ordinal));
        Assert.Equal(tasks.Count, tasks.Select(t => t.Name).Distinct().Count());
        foreach (var name in new[] { "moe/G_0_9_01", "moe/G_0_9_02", "attention/G_0_9_01", "bmm/bmm_1", "rope/G_0_3_03", "G_0_10" })
            Assert.Contains(tasks, t => t.Name == name);
        Assert.Equal("moe", tasks.Single(t => t.Name == "G_0_10").Group);
    }
}
