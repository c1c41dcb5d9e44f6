using StepForge.Cost;
using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Tensors;

namespace StepForge.Tests.Cost;

/// <summary>
/// cost-model.md, "Work of an fn call": one case per row of the flop table (<see cref="FlopRules.Table"/>), each an
/// fn body on small inputs whose flops follow from the row's rule.
/// </summary>
[Collection(CostCollection.Name)]
public class FlopRuleTests
{
    private static long Flops(string body, int[][] shapes, int[][]? state = null)
    {
        var interpreter = new Interpreter(new ExecutionBudget());
        var globals = new Scope();
        globals.Set("torch", Torch.Create());
        var input = shapes.Select((s, i) => Tensor.Full(s, 0.25f * (i + 1))).ToList();
        var st = state?.Select(s => Tensor.Full(s, 0.5f)).ToList();
        return new FlopCounter(interpreter).Count(Parser.ParseModule(body), globals, input, st);
    }

    private static readonly int[] Four = [4];

    /// <summary>One case per row: the row's kind, a body, its inputs' shapes, and the flops by the row's rule.</summary>
    public static TheoryData<FlopKind, string, int[][], long> Cases() => new()
    {
        // + - * /, comparisons, max/min of two tensors, where, abs, neg, clamp: 1 per output value (4 values each).
        { FlopKind.Elementwise, "x, y = input\nreturn [x * y - x / y + x]", [Four, Four], 4 * 4 },
        { FlopKind.Elementwise, "x, y = input\nreturn [torch.where(x > y, x, y)]", [Four, Four], 4 + 4 },
        { FlopKind.Elementwise, "x, y = input\nreturn [torch.max(x, y), torch.minimum(x, y), x.abs(), -x, torch.clamp(x, min=0.0)]", [Four, Four], 5 * 4 },
        // exp, log, sqrt, tanh, sigmoid, pow (and **), sin, cos: 4 per output value.
        { FlopKind.Transcendental, "x = input[0]\nreturn [torch.exp(x) + x.sqrt()]", [Four], 4 * 4 + 4 * 4 + 4 },
        { FlopKind.Transcendental, "x = input[0]\nreturn [x ** 2, torch.sigmoid(x), x.sin(), torch.cos(x), torch.log(x), torch.tanh(x), torch.rsqrt(x)]", [Four], 7 * 4 * 4 },
        // silu, gelu: 8 per output value.
        { FlopKind.Activation, "x = input[0]\nreturn [torch.nn.functional.silu(x), torch.nn.GELU()(x)]", [Four], 2 * 8 * 4 },
        // A matmul contracting k values: 2k per output value. (3) @ (3, 5): 5 values of k = 3; (2, 3) @ (3, 5): 10 values.
        { FlopKind.Contraction, "x, w = input\nreturn [x @ w]", [[3], [3, 5]], 2 * 3 * 5 },
        { FlopKind.Contraction, "x, w = input\nreturn [torch.matmul(x, w)]", [[2, 3], [3, 5]], 2 * 3 * 10 },
        { FlopKind.Contraction, "x, w = input\nreturn [torch.einsum('nk,kd->nd', x, w)]", [[2, 3], [3, 5]], 2 * 3 * 10 },
        // A reduction over n values: n per output value. sum of 4: 4; mean over the last dim of (2, 3): 2 x 3.
        { FlopKind.Reduction, "x = input[0]\nreturn [x.sum()]", [Four], 4 },
        { FlopKind.Reduction, "x = input[0]\nreturn [x.mean(dim=-1), torch.max(x, dim=-1).values]", [[2, 3]], 2 * 3 + 2 * 3 },
        // softmax over n: 8n. Two rows of 4: 2 x 32.
        { FlopKind.Softmax, "x = input[0]\nreturn [torch.softmax(x, dim=-1)]", [[2, 4]], 2 * 8 * 4 },
        // topk over n: n * ceil(log2 n). n = 5: 5 * 3; two rows of 5.
        { FlopKind.TopK, "x = input[0]\n_, best = torch.topk(x, 2, dim=-1)\nreturn [best]", [[2, 5]], 2 * 5 * 3 },
        // indexing, slicing, cat, stack, reshapes: 0.
        { FlopKind.Free, "x, y = input\nreturn [torch.cat([x[1:], y[:1]], dim=-1).unsqueeze(0).reshape(4), torch.stack([x, y]).movedim(0, 1)]", [Four, Four], 0 },
        // anything else: 1 per output value. relu, //, zeros_like: 4 values each.
        { FlopKind.Other, "x, y = input\nreturn [torch.relu(x), x // y, torch.zeros_like(x)]", [Four, Four], 3 * 4 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachRowOfTheTable_ChargesByItsRule(FlopKind kind, string body, int[][] shapes, long expected)
    {
        Assert.Contains(FlopRules.Table, r => r.Kind == kind);
        Assert.Equal(expected, Flops(body, shapes));
    }

    [Fact]
    public void EveryRowOfTheTable_HasACase()
    {
        var covered = Cases().Select(c => (FlopKind)c[0]).ToHashSet();
        Assert.All(FlopRules.Table, row => Assert.Contains(row.Kind, covered));
    }

    [Fact]
    public void ArithmeticOnPythonNumbers_IsConfiguration_AndCostsNothing()
    {
        // 1.0 / 16 is a number; multiplying the 4 values by it is 4 flops.
        Assert.Equal(4, Flops("x = input[0]\nscale = 1.0 / (2 ** 4)\nreturn [x * scale]", [Four]));
    }

    [Fact]
    public void AFoldsState_IsAnInputLikeAnyOther()
    {
        // state + input on rows of 4: 4 additions.
        Assert.Equal(4, Flops("return [state[0] + input[0]]", [Four], state: [Four]));
    }

    [Fact]
    public void NamesMatchWithoutTheirModule()
    {
        Assert.Equal(FlopKind.Transcendental, FlopRules.For("torch.exp").Kind);
        Assert.Equal(FlopKind.Transcendental, FlopRules.For("Tensor.exp").Kind);
        Assert.Equal(FlopKind.Activation, FlopRules.For("GELU").Kind);
        Assert.Equal(FlopKind.Softmax, FlopRules.For("torch.nn.functional.softmax").Kind);
        Assert.Equal(FlopKind.Reduction, FlopRules.For("torch.max", reducing: true).Kind);
        Assert.Equal(FlopKind.Elementwise, FlopRules.For("torch.max").Kind);
        Assert.Equal(FlopKind.Other, FlopRules.For("native_layer_norm").Kind);
    }
}
