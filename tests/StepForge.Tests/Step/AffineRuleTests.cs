using StepForge.Step;
using StepForge.Tests.Support;

namespace StepForge.Tests.Step;

/// <summary>The "Affine types" section of step-semantics.md, and the Copy insertion that repairs violations.</summary>
public class AffineRuleTests
{
    private static Env Two() => Env.With("x: fp32 [N, M]", "y: fp32 [N, M]").Fn("f", "fp32", "fp32").Fn("g", "[fp32, fp32]", "fp32")
        .Out("fp32 [N, M]");

    [Fact]
    public void Affine_ConsumingAStreamTwiceIsAnError_NamingTheStreamAndItsLines()
    {
        var p = Two().Check("a = step.Map(fn=f).apply(x)\nb = step.Map(fn=f).apply(x)\nc = step.Zip().apply((a, b))\nd = step.Map(fn=g).apply(c)\nreturn d");
        Assert.NotNull(p);
        Assert.Equal(VerdictKind.Affine, p.Kind);
        Assert.Equal("affine.single-use", p.Rule);
        Assert.Contains("stream x", p.Message, StringComparison.Ordinal);
        Assert.Contains("lines 1, 2", p.Message, StringComparison.Ordinal);
        Assert.Equal(2, p.Line);
        Assert.Equal("Map", p.Op);
    }

    [Fact]
    public void Affine_AnArgumentInsideATupleIsConsumed()
    {
        var p = Two().Check("c = step.Zip().apply((x, x))\nd = step.Map(fn=g).apply(c)\nreturn d");
        Assert.Equal(VerdictKind.Affine, p?.Kind);
        Assert.Contains("stream x", p!.Message, StringComparison.Ordinal);
        Assert.Null(Two().Check("c = step.Zip().apply((x, y))\nd = step.Map(fn=g).apply(c)\nreturn d"));
    }

    [Fact]
    public void Affine_TheIterableOfAComprehensionIsConsumed()
    {
        var env = Env.With("x: fp32 [N, M]", "i: Multihot(fp32, E) [M]").Fn("f", "fp32", "fp32").Fn("add", "fp32", "fp32", 0).Out("fp32 [N, M]");
        const string once = """
            i1, i2 = step.Copy().apply(i)
            p = step.Partition(N=E_value).apply((x, i1))
            q = [step.Map(fn=f).apply(s) for s in p]
            r = step.Merge(fn=add).apply((q, i2))
            return r
            """;
        Assert.Null(env.Check(once));
        var twice = once.Replace("r = step.Merge", "q2 = [step.Map(fn=f).apply(s) for s in p]\nr = step.Merge", StringComparison.Ordinal);
        var p = env.Check(twice);
        Assert.Equal(VerdictKind.Affine, p?.Kind);
        Assert.Contains("p[0]", p!.Message, StringComparison.Ordinal);
        Assert.Equal("comprehension", p.Op);
        var loopVarTwice = once.Replace("step.Map(fn=f).apply(s) for s in p", "step.Map(fn=g).apply((s, s)) for s in p", StringComparison.Ordinal);
        Assert.Equal(VerdictKind.Affine, env.Fn("g", "[fp32, fp32]", "fp32").Check(loopVarTwice)?.Kind);
    }

    [Fact]
    public void Affine_ReturningAStreamDoesNotConsumeIt_UnlessStrict()
    {
        var env = Env.With("x: fp32 [M]").Fn("f", "fp32", "fp32").Out("fp32 [M]", "fp32 [M]");
        const string program = "a = step.Map(fn=f).apply(x)\nreturn a, x";
        Assert.Null(env.Check(program));
        var strict = env.Check(program, new StaticCheckOptions(AffineMode: AffineMode.Strict));
        Assert.Equal(VerdictKind.Affine, strict?.Kind);
        Assert.Equal("return", strict!.Op);
    }

    [Fact]
    public void Affine_AliasingANameDoesNotMakeASecondStream()
    {
        var p = Two().Check("z = x\na = step.Map(fn=f).apply(x)\nb = step.Map(fn=f).apply(z)\nc = step.Zip().apply((a, b))\nreturn step.Map(fn=g).apply(c)");
        Assert.Equal(VerdictKind.Affine, p?.Kind);
    }

    [Fact]
    public void Affine_CopyIsTheLegalWayToUseAStreamTwice()
    {
        Assert.Null(Two().Check("x1, x2 = step.Copy().apply(x)\na = step.Map(fn=f).apply(x1)\nb = step.Map(fn=f).apply(x2)\nc = step.Zip().apply((a, b))\nd = step.Map(fn=g).apply(c)\nreturn d"));
    }

    [Fact]
    public void AffineRepair_InsertsTheFewestCopies_AndKeepsTheProgramReadable()
    {
        var env = Env.With("x: fp32 [N, M]").Fn("f", "fp32", "fp32").Fn("g3", "[fp32, fp32, fp32]", "fp32").Out("fp32 [N, M]");
        const string program = """
            a = step.Map(fn=f).apply(x)  # first
            b = step.Map(fn=f).apply(x)
            c = step.Map(fn=f).apply(x)
            t = step.Zip().apply((a, b))
            u = step.Zip().apply((t, c))
            return step.Map(fn=g3).apply(u)
            """;
        var result = StaticChecker.Check(program, env.Build(), new StaticCheckOptions(RepairAffine: true));
        Assert.True(result.Passed, result.Problem?.Message);
        Assert.Equal(2, result.Repair!.CopiesInserted);
        Assert.Equal("""
            x_1, x_rest1 = step.Copy().apply(x)
            x_2, x_3 = step.Copy().apply(x_rest1)
            a = step.Map(fn=f).apply(x_1)  # first
            b = step.Map(fn=f).apply(x_2)
            c = step.Map(fn=f).apply(x_3)
            t = step.Zip().apply((a, b))
            u = step.Zip().apply((t, c))
            return step.Map(fn=g3).apply(u)
            """, result.Source);
    }

    [Fact]
    public void AffineRepair_PutsTheCopyRightAfterTheDefinition_WithFreshNames()
    {
        var env = Env.With("x: fp32 [N, M]").Fn("f", "fp32", "fp32").Fn("g", "[fp32, fp32]", "fp32").Out("fp32 [N, M]");
        const string program = "a = step.Map(fn=f).apply(x)\na_1 = step.Map(fn=f).apply(a)\nb = step.Map(fn=f).apply(a)\nc = step.Zip().apply((a_1, b))\nreturn step.Map(fn=g).apply(c)";
        var result = StaticChecker.Check(program, env.Build(), new StaticCheckOptions(RepairAffine: true));
        Assert.True(result.Passed, result.Problem?.Message);
        Assert.Equal("a = step.Map(fn=f).apply(x)\na_1_2, a_2 = step.Copy().apply(a)\na_1 = step.Map(fn=f).apply(a_1_2)\nb = step.Map(fn=f).apply(a_2)\nc = step.Zip().apply((a_1, b))\nreturn step.Map(fn=g).apply(c)",
            result.Source);
    }

    [Fact]
    public void AffineRepair_ReportsWhatItCannotRewrite()
    {
        var env = Env.With("x: fp32 [N, M]", "i: Multihot(fp32, E) [M]").Fn("f", "fp32", "fp32").Fn("add", "fp32", "fp32", 0).Out("fp32 [N, M]");
        const string program = """
            p = step.Partition(N=E_value).apply((x, i))
            q = [step.Map(fn=f).apply(s) for s in p]
            q2 = [step.Map(fn=f).apply(s) for s in p]
            return step.Merge(fn=add).apply((q, i))
            """;
        var result = StaticChecker.Check(program, env.Build(), new StaticCheckOptions(RepairAffine: true));
        Assert.Equal(VerdictKind.Affine, result.Problem?.Kind);
        Assert.Equal("affine.repair", result.Problem!.Rule);
    }
}
