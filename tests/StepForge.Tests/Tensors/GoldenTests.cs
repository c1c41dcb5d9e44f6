using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Tasks;
using StepForge.Tensors;
using StepForge.Tests.Support;

namespace StepForge.Tests.Tensors;

/// <summary>
/// StepForge's PyTorch subset against real PyTorch: every fn body and data transform of both corpora, run by
/// scripts/make-goldens.sh with Debian's python3-torch on fixed inputs, and here by our engine on the same inputs,
/// compared at torch.testing.assert_close's float32 tolerances.
/// </summary>
public class GoldenTests
{
    private static readonly string GoldenDir = Path.Combine(TestPaths.RepoRoot, "tests", "StepForge.Tests", "Tensors", "Goldens");

    private static JsonElement Load(string corpus) => JsonDocument.Parse(File.ReadAllText(Path.Combine(GoldenDir, corpus + ".json"))).RootElement;

    public static TheoryData<string> ProjectTasks() => [.. Load("project").GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("task").GetString()!)];

    public static TheoryData<string> UpstreamTasks() => [.. Load("upstream").GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("task").GetString()!)];

    internal static Tensor Decode(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String
            ? x.GetString() switch { "nan" => float.NaN, "inf" => float.PositiveInfinity, _ => float.NegativeInfinity }
            : (float)x.GetDouble()).ToArray();
        var kind = e.GetProperty("kind").GetString() switch { "int" => ElementKind.Int, "bool" => ElementKind.Bool, _ => ElementKind.Float };
        return new Tensor(shape, data, kind);
    }

    private static string Fingerprint(string source) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source)))[..16];

    [Theory]
    [MemberData(nameof(ProjectTasks))]
    public void ProjectSnippets_MatchPyTorch(string task) => Check("project", TestPaths.ProjectBenchmark, task);

    [UpstreamTheory]
    [MemberData(nameof(UpstreamTasks))]
    public void UpstreamSnippets_MatchPyTorch(string task) => Check("upstream", TestPaths.Upstream, task);

    private static void Check(string corpus, string root, string relative)
    {
        var entry = Load(corpus).GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("task").GetString() == relative);
        var task = TaskReader.ReadFile(Path.Combine(root, relative));
        var budget = new ExecutionBudget();
        using var _ = Tensor.Use(budget);
        var runtime = new TaskRuntime(task, null, budget);
        foreach (var (k, v) in entry.GetProperty("sizes").EnumerateObject().Select(p => (p.Name, p.Value.GetInt64())))
            Assert.Equal(v, runtime.Sizes[k]);
        var inputData = entry.GetProperty("input_data").EnumerateObject().ToDictionary(p => p.Name, p => Decode(p.Value));
        var failures = new List<string>();
        var fnsSeen = new HashSet<string>();

        foreach (var c in entry.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("kind").GetString() == "fn")
            {
                var fn = task.Fns.Single(f => f.FuncName == c.GetProperty("name").GetString());
                fnsSeen.Add(fn.FuncName);
                Assert.True(Fingerprint(fn.Apply) == c.GetProperty("source_sha256").GetString(),
                    $"{relative}: {fn.FuncName} changed since the goldens were made; run scripts/make-goldens.sh");
                var scope = new Scope(runtime.Globals);
                scope.Set("input_data", TaskRuntime.InputData(inputData));
                scope.Set("input", new PyList([.. c.GetProperty("input").EnumerateArray().Select(Decode)]));
                if (c.GetProperty("state").ValueKind != JsonValueKind.Null)
                    scope.Set("state", new PyList([.. c.GetProperty("state").EnumerateArray().Select(Decode)]));
                var result = runtime.Interpreter.Run(Parser.ParseModule(fn.Apply), scope);
                var actual = result is PyList or PyTuple ? Torch.Tensors(result) : [Operators.ToTensor(result)];
                Compare(failures, $"{fn.FuncName} ({c.GetProperty("variant").GetString()})", c.GetProperty("output").EnumerateArray().Select(Decode).ToList(), actual);
            }
            else
            {
                var references = Verifier.ComputeReference(task, runtime, inputData);
                var outputs = c.GetProperty("outputs").EnumerateArray().ToList();
                Assert.Equal(task.Outputs.Count, outputs.Count);
                for (int o = 0; o < outputs.Count; o++)
                {
                    Assert.True(Fingerprint(task.Outputs[o].DataTransform) == outputs[o].GetProperty("source_sha256").GetString(),
                        $"{relative}: the data_transform of {task.Outputs[o].Name} changed since the goldens were made; run scripts/make-goldens.sh");
                    Compare(failures, $"data_transform of {task.Outputs[o].Name}", outputs[o].GetProperty("value").EnumerateArray().Select(Decode).ToList(), references[o]);
                }
            }
        }
        Assert.Equal(task.Fns.Select(f => f.FuncName).Order(), fnsSeen.Order());
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static void Compare(List<string> failures, string what, IReadOnlyList<Tensor> expected, IReadOnlyList<Tensor> actual)
    {
        if (expected.Count != actual.Count)
        {
            failures.Add($"{what}: {actual.Count} results, torch gave {expected.Count}");
            return;
        }
        for (int i = 0; i < expected.Count; i++)
        {
            var check = OutputComparison.Compare(what, i, expected[i], actual[i], equalNan: true);
            if (!check.Close) failures.Add($"{what}[{i}]: {check.Detail}");
            else if (expected[i].Kind != actual[i].Kind && !(expected[i].Kind == ElementKind.Float || actual[i].Kind == ElementKind.Float))
                failures.Add($"{what}[{i}]: kind {actual[i].Kind}, torch gave {expected[i].Kind}");
        }
    }
}

/// <summary>
/// Torch functions and corners of its semantics beyond what the task files use, against real PyTorch: every function
/// of the catalogue, with NaN and infinities, ties, negative dims and keepdim. Floats are compared at
/// torch.testing.assert_close's float32 tolerances, ints and bools (indices, masks) exactly, and dtypes must match.
/// </summary>
public class ExtraGoldenTests
{
    private static readonly JsonElement Extras = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "StepForge.Tests", "Tensors", "Goldens", "extras.json"))).RootElement;

    internal static IEnumerable<string> Cases() => Extras.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("expression").GetString()!);

    public static TheoryData<string> Expressions() => [.. Cases()];

    /// <summary>A scope with torch, F (torch.nn.functional) and the golden inputs.</summary>
    internal static Scope InputScope()
    {
        var scope = new Scope();
        var torch = Torch.Create();
        scope.Set("torch", torch);
        torch.TryGet("nn", out var nn);
        ((PyNamespace)nn!).TryGet("functional", out var functional);
        scope.Set("F", functional);
        foreach (var input in Extras.GetProperty("inputs").EnumerateObject()) scope.Set(input.Name, GoldenTests.Decode(input.Value));
        return scope;
    }

    internal static IReadOnlyList<Tensor> Expected(string expression) =>
        [.. Extras.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("expression").GetString() == expression)
            .GetProperty("output").EnumerateArray().Select(GoldenTests.Decode)];

    [Theory]
    [MemberData(nameof(Expressions))]
    public void Expression_MatchesPyTorch(string expression)
    {
        var expected = Expected(expression);
        var value = new Interpreter(new ExecutionBudget()).Run(Parser.ParseModule(expression), InputScope());
        var actual = value is PyList or PyTuple ? Torch.Tensors(value) : [Operators.ToTensor(value)];
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Kind == actual[i].Kind, $"kind {actual[i].Kind}, torch gave {expected[i].Kind}");
            if (expected[i].Kind == ElementKind.Float)
            {
                var check = OutputComparison.Compare(expression, i, expected[i], actual[i], equalNan: true);
                Assert.True(check.Close, check.Detail);
            }
            else
            {
                Assert.Equal(expected[i].Shape, actual[i].Shape);
                Assert.Equal(expected[i].Data, actual[i].Data);
            }
        }
    }
}
