using StepForge.Step;
using StepForge.Tests.Support;

namespace StepForge.Tests.Step;

/// <summary>"Verification of a candidate", steps 1 and 2: what a program may say and name, and its returned streams.</summary>
public class ProgramRuleTests
{
    private static Env Simple() => Env.With("E0: fp32 [N, M]").Fn("fn_add", "fp32", "fp32", 0).Out("fp32 [M]");

    [Fact]
    public void Parse_BadSyntaxIsAParseVerdictWithLineAndColumn()
    {
        var p = Simple().Check("E1 = step.Accum(fn=fn_add, b=1).apply(E0\nreturn E1");
        Assert.Equal(VerdictKind.Parse, p?.Kind);
        Assert.Equal("syntax", p!.Rule);
        Assert.NotNull(p.Line);
        Assert.NotNull(p.Column);
        Assert.Equal(VerdictKind.Parse, Simple().Check("import os\nreturn E0")?.Kind);
        Assert.Equal(VerdictKind.Parse, Simple().Check("def f():\n  return E0")?.Kind);
    }

    [Fact]
    public void Names_AProgramMayUseItsInputsFnsDimensionsAndGlobals()
    {
        var env = Env.With("E0: fp32 [N, M]", "I: Multihot(fp32, E) [M]").Fn("fn_add", "fp32", "fp32", 0).Out("fp32 [D, M]");
        Assert.Null(env.Check("E1 = step.Accum(fn=fn_add, b=1).apply(E0)\nE2 = step.Repeat(n=D).apply(E1)\nreturn E2"));
        Assert.Null(env.Out().Check("E1 = step.Accum(fn=fn_add, b=1).apply(E0)\nE2 = step.Repeat(n=D_value).apply(E1)\nreturn E2"));
        var p = Simple().Check("E1 = step.Accum(fn=fn_mul, b=1).apply(E0)\nreturn E1");
        Assert.Equal(VerdictKind.Parse, p?.Kind);
        Assert.Equal("names", p!.Rule);
        Assert.Contains("fn_mul", p.Message, StringComparison.Ordinal);
        Assert.Equal(VerdictKind.Parse, Simple().Check("E1 = step.Accum(fn=softmax, b=1).apply(E0)\nreturn E1")?.Kind);
        Assert.Equal(VerdictKind.Parse, Simple().Check("E1 = step.Fold(fn=fn_add, b=1).apply(E0)\nreturn E1")?.Kind);
    }

    [Fact]
    public void Names_TorchAndBuiltinsOutsideTheSubsetAreNotAvailable()
    {
        Assert.Equal(VerdictKind.Parse, Simple().Check("x = torch.zeros(3)\nreturn E0")?.Kind);
        Assert.Equal(VerdictKind.Parse, Simple().Check("x = __import__('os')\nreturn E0")?.Kind);
        Assert.Equal(VerdictKind.Parse, Simple().Check("x = open('f')\nreturn E0")?.Kind);
    }

    [Fact]
    public void Return_StreamsMustMatchTheOutputsInOrder()
    {
        var env = Env.With("E0: fp32 [N, M]").Fn("fn_add", "fp32", "fp32", 0).Out("fp32 [M]", "fp32 [N, M]");
        Assert.Null(env.Check("E0a, E0b = step.Copy().apply(E0)\nE1 = step.Accum(fn=fn_add, b=1).apply(E0a)\nreturn E1, E0b"));
        var swapped = env.Check("E0a, E0b = step.Copy().apply(E0)\nE1 = step.Accum(fn=fn_add, b=1).apply(E0a)\nreturn E0b, E1");
        Assert.Equal("return.shape", swapped?.Rule);
        Assert.Equal("[M]", swapped!.Expected);
        Assert.Equal("[N, M]", swapped.Actual);
        Assert.Equal("return.count", env.Check("E1 = step.Accum(fn=fn_add, b=1).apply(E0)\nreturn E1")?.Rule);
        Assert.Equal("return.missing", env.Check("E1 = step.Accum(fn=fn_add, b=1).apply(E0)")?.Rule);
    }

    [Fact]
    public void Return_DtypeMustMatch()
    {
        var env = Env.With("E0: fp32 [N, M]").Out("Buffer(fp32, [N]) [M]");
        Assert.Null(env.Check("return step.Bufferize(a=1).apply(E0)"));
        var p = Env.With("E0: fp32 [N, M]").Out("Buffer(fp32, [M]) [N]").Check("return step.Bufferize(a=1).apply(E0)");
        Assert.Equal("return.dtype", p?.Rule);
    }

    [Fact]
    public void Program_ListsTuplesAndComprehensionsOverZipAndRange()
    {
        var env = Env.With("x: fp32 [N, M]", "i: Multihot(fp32, E) [M]").Fn("f0", "fp32", "fp32").Fn("f1", "fp32", "fp32").Fn("f2", "fp32", "fp32")
            .Fn("add", "fp32", "fp32", 0).Out("fp32 [N, M]");
        Assert.Null(env.Check("""
            fns = [f0, f1, f2]
            i1, i2 = step.Copy().apply(i)
            p = step.Partition(N=E_value).apply((x, i1))
            q = [step.Map(fn=fns[k]).apply(s) for k, s in zip(range(len(fns)), p)]
            return step.Merge(fn=add).apply((q, i2))
            """));
    }
}
