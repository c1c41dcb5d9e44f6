using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Tensors;

namespace StepForge.Tests.Tensors;

/// <summary>Engine behaviour that the goldens cannot show on their own: tie orders, errors, limits and type promotion.</summary>
public class TensorEngineTests
{
    [Theory]
    [InlineData(5, 3, new[] { 2, 4, 3 })]
    [InlineData(7, 1, new[] { 5 })]
    [InlineData(9, 3, new[] { 7, 5, 6 })]
    [InlineData(16, 3, new[] { 10, 11, 12 })]
    [InlineData(20, 3, new[] { 12, 14, 13 })]
    [InlineData(40, 3, new[] { 28, 26, 27 })]
    [InlineData(100, 5, new[] { 65, 68, 67, 66, 69 })]
    [InlineData(200, 3, new[] { 0, 1, 2 })]
    public void TopK_BreaksTiesInTorchsCpuOrder(int n, int k, int[] torchIndices) =>
        Assert.Equal(torchIndices, TopKOrder.Select(Enumerable.Repeat(1f, n).ToArray(), k, largest: true));

    [Fact]
    public void TopK_OnDistinctValues_IsSortedDescending()
    {
        var (values, indices) = TensorMath.TopK(new Tensor([6], [0.1f, 0.9f, 0.3f, 0.7f, 0.2f, 0.8f]), 3, 0);
        Assert.Equal([0.9f, 0.8f, 0.7f], values.Data);
        Assert.Equal([1f, 5f, 3f], indices.Data);
        Assert.Equal(ElementKind.Int, indices.Kind);
    }

    private static object? Eval(string expression)
    {
        var interpreter = new Interpreter(new ExecutionBudget());
        var scope = new Scope();
        scope.Set("torch", Torch.Create());
        return interpreter.Run(Parser.ParseModule(expression), scope);
    }

    [Fact]
    public void TypePromotion_FollowsTorch()
    {
        Assert.Equal(ElementKind.Float, ((Tensor)Eval("torch.arange(0, 16, 2) / 16")!).Kind);
        Assert.Equal(ElementKind.Int, ((Tensor)Eval("torch.arange(0, 16, 2) * 2")!).Kind);
        Assert.Equal(ElementKind.Bool, ((Tensor)Eval("torch.ones(3) > 0.5")!).Kind);
        Assert.Equal(ElementKind.Float, ((Tensor)Eval("(torch.ones(3) > 0.5).float()")!).Kind);
        Assert.Equal(3.5, Eval("7 / 2"));
        Assert.Equal(3L, Eval("7 // 2"));
    }

    [Fact]
    public void BadShapesAndUnsupportedFunctions_AreRuntimeErrorsWithAPosition()
    {
        var e = Assert.Throws<PyLiteRuntimeException>(() => Eval("x = torch.ones(3)\ny = x @ torch.ones(4)"));
        Assert.Equal(2, e.Line);
        Assert.Contains("cannot be multiplied", e.Message, StringComparison.Ordinal);
        Assert.Contains("torch.fft is not supported", Assert.Throws<PyLiteRuntimeException>(() => Eval("torch.fft(torch.ones(3))")).Message, StringComparison.Ordinal);
        Assert.Contains("private attribute", Assert.Throws<PyLiteRuntimeException>(() => Eval("torch.ones(3).__class__")).Message, StringComparison.Ordinal);
        Assert.Contains("not defined", Assert.Throws<PyLiteRuntimeException>(() => Eval("__import__('os')")).Message, StringComparison.Ordinal);
        Assert.Contains("ambiguous", Assert.Throws<PyLiteRuntimeException>(() => Eval("1 if torch.ones(3) else 0")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_StopRunawayWork()
    {
        Assert.Throws<LimitExceededException>(() => Eval("torch.ones(100000, 100000)"));
        Assert.Throws<LimitExceededException>(() => Eval("x = [i for i in range(10**6) for j in range(10**6)]"));
        Assert.Throws<LimitExceededException>(() => Eval("10**10**10"));
    }

    [Fact]
    public void Einsum_Matmul_AndBroadcasting_HaveTorchShapes()
    {
        Assert.Equal([5, 7, 16], ((Tensor)Eval("torch.einsum('mkn,mkd->mnd', torch.ones(5, 9, 7), torch.ones(5, 9, 16))")!).Shape);
        Assert.Equal([5, 7, 3], ((Tensor)Eval("torch.ones(5, 7, 9) @ torch.ones(9, 3)")!).Shape);
        Assert.Equal([5, 7], ((Tensor)Eval("torch.ones(5, 7, 9) @ torch.ones(9)")!).Shape);
        Assert.Equal([3], ((Tensor)Eval("torch.ones(9) @ torch.ones(9, 3)")!).Shape);
        Assert.Equal([4, 3], ((Tensor)Eval("torch.ones(4, 1) + torch.ones(3)")!).Shape);
        Assert.Equal(9f, ((Tensor)Eval("torch.ones(9) @ torch.ones(9)")!).Item());
    }

    [Theory]
    [InlineData("torch.fft.fft(torch.ones(4))", "torch.fft")]
    [InlineData("torch.randn(3)", "torch.randn")]
    [InlineData("torch.ones(4).unfold(0, 2, 1)", "Tensor.unfold")]
    [InlineData("torch.nn.functional.scaled_dot_product_attention", "torch.nn.functional.scaled_dot_product_attention")]
    [InlineData("torch.nn.Linear(3, 4)", "torch.nn.Linear")]
    [InlineData("torch.nn.functional.dropout(torch.ones(3), 0.5)", "dropout in training mode")]
    [InlineData("torch.nn.Dropout(0.1)(torch.ones(3))", "dropout in training mode")]
    [InlineData("torch.norm(torch.ones(2, 2), p='nuc')", "torch.norm with p='nuc'")]
    [InlineData("torch.ones(3)[torch.tensor([0, 2])]", "indexing a tensor with a tensor or list (advanced indexing)")]
    [InlineData("x = torch.ones(3)\nx[0] = 2.0", "assignment into a tensor (x[...] = ...)")]
    public void PyTorchOutsideTheSubset_IsUnsupportedNamingIt(string code, string what)
    {
        var e = Assert.Throws<PyLiteRuntimeException>(() => Eval(code));
        Assert.Equal(what, e.Unsupported);
        Assert.Contains("is not supported by StepForge's PyTorch subset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASupportedFunctionUsedWrongly_IsNotUnsupported()
    {
        var e = Assert.Throws<PyLiteRuntimeException>(() => Eval("torch.ones(3).reshape(4)"));
        Assert.Null(e.Unsupported);
    }
}
