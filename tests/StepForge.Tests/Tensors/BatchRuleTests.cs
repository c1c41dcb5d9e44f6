using System.Text.RegularExpressions;
using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Tasks;
using StepForge.Tensors;

namespace StepForge.Tests.Tensors;

/// <summary>
/// design.md, "Batched evaluation", for every function of the torch catalogue: each golden case is run once over a
/// batch of three different inputs (vmap style) and once per input, and both must agree. A case that has no batch
/// rule must say so (NotBatchableException, so evaluation falls back to per element), never fail or differ.
/// </summary>
public partial class BatchRuleTests
{
    private const int Batch = 3;

    public static TheoryData<string> Expressions() => ExtraGoldenTests.Expressions();

    [GeneratedRegex(@"(?<![\.\w'])([a-z][a-z0-9]?)(?![\w'(])")]
    private static partial Regex Names();

    /// <summary>The golden inputs an expression reads, in order of first use.</summary>
    private static List<string> InputsOf(string expression, Scope scope) =>
        [.. Names().Matches(expression).Select(m => m.Groups[1].Value).Distinct().Where(n => scope.TryGet(n, out var v) && v is Tensor)];

    /// <summary>Element j of the batch: the input with its values rotated, so ties, NaNs and index ranges are kept.</summary>
    private static Tensor Variant(Tensor x, int j)
    {
        if (j == 0 || x.Count <= 1) return x;
        var data = new float[x.Count];
        for (int q = 0; q < x.Count; q++) data[q] = x.Data[(q + j * 7) % x.Count];
        return new Tensor([.. x.Shape], data, x.Kind);
    }

    private static object? Run(string expression, Scope scope) =>
        new Interpreter(new ExecutionBudget()).Run(Parser.ParseModule(expression), scope);

    [Theory]
    [MemberData(nameof(Expressions))]
    public void BatchRule_AgreesWithPerElementEvaluation(string expression)
    {
        var inputs = ExtraGoldenTests.InputScope();
        var names = InputsOf(expression, inputs);
        if (names.Count == 0) return;
        // All inputs batched, then only the first (the others shared by every element).
        foreach (var batched in new[] { names, names.Take(1).ToList() }.DistinctBy(l => l.Count))
        {
            var singles = new List<object?>();
            for (int j = 0; j < Batch; j++)
            {
                var scope = ExtraGoldenTests.InputScope();
                foreach (var name in batched) scope.Set(name, Variant(Get(inputs, name), j));
                singles.Add(Run(expression, scope));
            }
            var stacked = ExtraGoldenTests.InputScope();
            foreach (var name in batched)
                stacked.Set(name, new Batched(Tensor.Stack([.. Enumerable.Range(0, Batch).Select(j => Variant(Get(inputs, name), j))], 0)));
            object? result;
            try
            {
                result = Run(expression, stacked);
            }
            catch (NotBatchableException)
            {
                continue;
            }
            for (int j = 0; j < Batch; j++) Same(result, j, singles[j], $"{expression} with {string.Join(", ", batched)} batched, element {j}");
        }
    }

    /// <summary>The cases that have no batch rule with every input batched (they fall back to per element).</summary>
    private static List<string> Unbatched()
    {
        var unbatched = new List<string>();
        foreach (var expression in ExtraGoldenTests.Cases())
        {
            var inputs = ExtraGoldenTests.InputScope();
            var names = InputsOf(expression, inputs);
            if (names.Count == 0) continue;
            var stacked = ExtraGoldenTests.InputScope();
            foreach (var name in names)
                stacked.Set(name, new Batched(Tensor.Stack([.. Enumerable.Range(0, Batch).Select(j => Variant(Get(inputs, name), j))], 0)));
            try
            {
                Run(expression, stacked);
            }
            catch (NotBatchableException)
            {
                unbatched.Add(expression);
            }
        }
        return unbatched;
    }

    [Fact]
    public void BatchRules_CoverTheCatalogue()
    {
        string[] expected =
        [
            // Normalization weights are task parameters, the same for every element: no rule for a batched weight.
            "F.layer_norm(a, [5], weight=b, bias=u)", "torch.layer_norm(a, [5], b)", "F.rms_norm(a, [5], weight=b, eps=1e-6)",
            // The number of classes would come from each element's own maximum.
            "F.one_hot(k)",
            // Writing batched values into one unbatched tensor.
            "x = torch.zeros(4, 5)\nx.masked_fill_(m, 1.0)\nx",
            // A Python number per element.
            "a.sum().item()",
        ];
        Assert.Equal(expected, Unbatched());
    }

    private static Tensor Get(Scope scope, string name) => scope.TryGet(name, out var v) ? (Tensor)v! : throw new KeyNotFoundException(name);

    private static void Same(object? batched, int j, object? single, string where)
    {
        switch (batched)
        {
            case Batched b:
                Close(b.Value.Index([new Tensor.At(j)]), Operators.ToTensor(single), where);
                break;
            case Tensor t:
                Close(t, Operators.ToTensor(single), where);
                break;
            case PyTuple or PyList:
                var items = batched is PyTuple bt ? bt.Items : ((PyList)batched).Items;
                var expected = single is PyTuple st ? st.Items : ((PyList)single!).Items;
                Assert.Equal(expected.Count, items.Count);
                for (int k = 0; k < items.Count; k++) Same(items[k], j, expected[k], $"{where}, item {k}");
                break;
            default:
                Assert.True(PyValue.Repr(single) == PyValue.Repr(batched), $"{where}: {PyValue.Repr(batched)} batched, {PyValue.Repr(single)} per element");
                break;
        }
    }

    private static void Close(Tensor batched, Tensor single, string where)
    {
        Assert.True(batched.Kind == single.Kind, $"{where}: kind {batched.Kind} batched, {single.Kind} per element");
        var check = OutputComparison.Compare(where, 0, single, batched, equalNan: true);
        Assert.True(check.Close, $"{where}: {check.Detail}");
    }
}
