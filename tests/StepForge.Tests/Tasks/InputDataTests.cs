using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Tasks;
using StepForge.Tensors;

namespace StepForge.Tests.Tasks;

/// <summary>
/// <c>input_data</c> as snippets see it: each snippet has its own, whatever it does to it in place, and an input it
/// never reads is never copied.
/// </summary>
public class InputDataTests
{
    private static (Scope Scope, Interpreter Interpreter, ExecutionBudget Budget) Snippets(Tensor x, Tensor w)
    {
        var budget = new ExecutionBudget();
        var scope = new Scope();
        scope.Set("input_data", TaskRuntime.InputData(new Dictionary<string, Tensor> { ["x"] = x, ["w"] = w }));
        return (scope, new Interpreter(budget), budget);
    }

    [Fact]
    public void ASnippetWritingIntoAnInputInPlace_SeesItsWrite_AndTheCallersTensorIsUnchanged()
    {
        var x = Tensor.Full([3], 1f);
        var (scope, interpreter, budget) = Snippets(x, Tensor.Full([2], 5f));
        using var charged = Tensor.Use(budget);
        var read = interpreter.Run(Parser.ParseModule("input_data['x'].add_(1)\ninput_data['x'] * 10"), scope);
        Assert.Equal([20f, 20f, 20f], ((Tensor)read!).Data);
        Assert.Equal([1f, 1f, 1f], x.Data);

        // Another dict over the same tensors starts from the caller's values.
        var (other, again, _) = Snippets(x, Tensor.Full([2], 5f));
        Assert.Equal([1f, 1f, 1f], ((Tensor)again.Run(Parser.ParseModule("input_data['x']"), other)!).Data);
    }

    [Fact]
    public void OnlyTheInputsASnippetReads_AreCopied()
    {
        var (scope, interpreter, budget) = Snippets(Tensor.Full([1000], 1f), Tensor.Full([2], 5f));
        using var charged = Tensor.Use(budget);
        long before = budget.WorkUsed;
        interpreter.Run(Parser.ParseModule("input_data['w']\ninput_data['w']"), scope);
        long copiedOnce = budget.WorkUsed - before;
        Assert.InRange(copiedOnce, 2, 999);

        // Listing the values reads every entry: x is copied then, once.
        interpreter.Run(Parser.ParseModule("list(input_data.values())\nlist(input_data.values())"), scope);
        Assert.InRange(budget.WorkUsed - before - copiedOnce, 1000, 1999);
    }
}
