using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Tensors;

namespace StepForge.Tests.Tensors;

/// <summary>
/// Task code is untrusted: every catalogued function, called with wrong, huge, negative or mistyped arguments, must
/// return or fail with an error that becomes a verdict (a runtime error or a limit), never with a .NET exception
/// such as IndexOutOfRange, Overflow or InvalidCast (which the interpreter reports as "unforeseen"). Batched calls
/// may also decline (and fall back).
/// </summary>
public class HostileArgumentTests
{
    private static readonly string[] Arguments =
    [
        "", "a", "a, 1", "a, -1", "a, 2**40", "a, -2**40", "a, 2**31", "a, 1, 2**40", "a, 0, 2**40, 2**40", "a, (2**20, 2**20, 2**20)",
        "a, [2**31, 2]", "a, 'x'", "a, None", "a, a", "a, i", "a, m", "a, dim=99", "a, dim=(0, 0)", "a, -99", "a, 1, -5", "a, 1, 99",
        "a, i, i", "a, 0, i", "a, 1, i + 100", "a, 1, i - 100", "i, 0", "i, -(2**40)", "m", "n", "torch.ones(0)", "torch.ones(0, 3), 1",
        "a, float('nan')", "a, float('inf')", "2**40", "-1", "(2**16, 2**16)", "a, 2, 0", "torch.tensor(3.0), 0", "b, b, b", "x, y",
        "a, 1, torch.tensor([[99]])", "a, torch.tensor([-1])", "i, -3", "a, 0, 0, 0, 0, 0", "a, (1, 2**40)", "[a, i], 2**40", "[a, b]", "[]",
        "a, torch.float16", "a, torch.int64", "i, i, i", "torch.tensor(2**40), 1", "a, dim=i", "a, k=2**40", "a, 2**40, 2**40", "a, (), ()",
        "a, -1, -1", "a, 1, -2**40", "(2**40,)", "[[1], [2, 3]]", "a, 1, i, a", "a, 0, i, 2.0", "a, 1, i * 0 - 1, a", "x, x, y", "a, (0, 1), (1,)",
        "a, -2**40, 2**40", "i, 1, 1, 2**40", "a, [3, -4], 1", "a, [2**40, 2**40], 0", "i, num_classes=2**40", "i * -1", "a, p='nuc'", "a, p='x'",
        "a, 5, i", "a, shifts=2**62, dims=0", "a, torch.tensor([2**40])", "a, 2**62", "a, 2**31 - 1", "a, 2**31 - 1, 2**31 - 1", "a, -(2**31)", "0, 1e30", "0, float('nan')", "a, 1, (2**31 - 1, 2**31 - 1, 2**31 - 1, -1)",
    ];

    public static TheoryData<string> Calls()
    {
        var calls = new TheoryData<string>();
        foreach (var name in Catalogue.TorchFunctions.Keys.Order(StringComparer.Ordinal)) calls.Add("torch." + name);
        foreach (var name in Catalogue.Functional.Keys.Order(StringComparer.Ordinal)) calls.Add("F." + name);
        foreach (var f in Catalogue.All.Where(f => f.Binding.HasFlag(Binding.Method)))
            foreach (var name in f.Names) calls.Add("a." + name);
        foreach (var f in Catalogue.All.Where(f => f.Binding.HasFlag(Binding.InPlace)))
            foreach (var name in f.Names) calls.Add("a.clone()." + name + "_");
        return calls;
    }

    private static Scope NewScope(bool batched)
    {
        var scope = new Scope();
        var torch = Torch.Create();
        scope.Set("torch", torch);
        torch.TryGet("nn", out var nn);
        ((PyNamespace)nn!).TryGet("functional", out var functional);
        scope.Set("F", functional);
        var a = new Tensor([4, 5], [.. Enumerable.Range(0, 20).Select(v => v * 0.37f - 3)]);
        scope.Set("a", batched ? new Batched(Tensor.Stack([a, a], 0)) : a);
        scope.Set("b", new Tensor([5], [1, 2, 3, 4, 5]));
        scope.Set("i", new Tensor([4, 5], [.. Enumerable.Range(0, 20).Select(v => (float)(v % 5))], ElementKind.Int));
        scope.Set("m", new Tensor([4, 5], [.. Enumerable.Range(0, 20).Select(v => (float)(v % 2))], ElementKind.Bool));
        scope.Set("n", new Tensor([3], [float.NaN, float.PositiveInfinity, float.NegativeInfinity]));
        scope.Set("x", new Tensor([2, 3, 4], new float[24]));
        scope.Set("y", new Tensor([2, 4, 5], new float[40]));
        return scope;
    }

    [Theory]
    [MemberData(nameof(Calls))]
    public void EveryFailure_IsARuntimeErrorOrALimit(string function)
    {
        foreach (var batched in new[] { false, true })
            foreach (var args in Arguments)
            {
                var code = $"{function}({args})";
                try
                {
                    new Interpreter(new ExecutionBudget()).Run(Parser.ParseModule(code), NewScope(batched));
                }
                catch (Exception e) when (e is PyLiteRuntimeException or LimitExceededException || batched && e is NotBatchableException)
                {
                    // The interpreter turns failures the torch subset did not foresee into runtime errors too; they are bugs here.
                    Assert.False(e.Message.Contains(Interpreter.UnforeseenMarker, StringComparison.Ordinal), $"{code}{(batched ? " (a batched)" : "")}: {e.Message}");
                }
                catch (Exception e)
                {
                    Assert.Fail($"{code}{(batched ? " (a batched)" : "")}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                }
            }
    }
}
