using StepForge.Step;
using StepForge.Tests.Support;

namespace StepForge.Tests.Step;

/// <summary>
/// One test per typing rule of step-semantics.md ("Operators" table), each with a passing and a failing case.
/// A failing case must name the operator, the rule and the actual types or shapes.
/// </summary>
public class OperatorRuleTests
{
    private static Diagnostic Rejects(Env env, string program, string rule, string op)
    {
        var problem = env.Check(program);
        Assert.NotNull(problem);
        Assert.Equal(VerdictKind.Type, problem.Kind);
        Assert.Equal(rule, problem.Rule);
        Assert.Equal(op, problem.Op);
        Assert.False(string.IsNullOrEmpty(problem.Actual), "a type error names the actual type or shape");
        Assert.NotNull(problem.Line);
        return problem;
    }

    private static void Passes(Env env, string program) => Assert.Null(env.Check(program));

    private static StreamType T(string text) => Env.Type(text);

    // ---- Map ----

    [Fact]
    public void Map_FnInputMustEqualStreamDtype()
    {
        var env = Env.With("x: fp32 [N, M]").Fn("f", "fp32", "Buffer(fp32, [D])").Fn("g", "Buffer(fp32, [D])", "fp32");
        Assert.Equal(T("Buffer(fp32, [D]) [N, M]"), env.TypeOf("y = step.Map(fn=f).apply(x)", "y"));
        var p = Rejects(env, "y = step.Map(fn=g).apply(x)\nreturn y", "Map.fn-input", "Map");
        Assert.Equal("Buffer(fp32, [D])", p.Expected);
        Assert.Equal("fp32", p.Actual);
    }

    [Fact]
    public void Map_TupleOfStreamsIsZippedFirst()
    {
        var env = Env.With("x: fp32 [N, M]", "y: Buffer(fp32, [D]) [N, M]", "z: fp32 [M, N]").Fn("f", "[fp32, Buffer(fp32, [D])]", "fp32");
        Assert.Equal(T("fp32 [N, M]"), env.TypeOf("r = step.Map(fn=f).apply((x, y))", "r"));
        Rejects(env, "r = step.Map(fn=f).apply((z, y))\nreturn r", "Map.zip-shape", "Map");
    }

    // ---- Zip ----

    [Fact]
    public void Zip_NeedsSameRankAndSameShape()
    {
        var env = Env.With("x: fp32 [N, M]", "y: Buffer(fp32, [D]) [N, M]", "z: fp32 [N, M, K]", "w: fp32 [M, N]");
        Assert.Equal(T("[fp32, Buffer(fp32, [D])] [N, M]"), env.TypeOf("r = step.Zip().apply((x, y))", "r"));
        Rejects(env, "r = step.Zip().apply((x, z))\nreturn r", "Zip.same-shape", "Zip");
        Rejects(env, "r = step.Zip().apply((x, w))\nreturn r", "Zip.same-shape", "Zip");
    }

    [Fact]
    public void Zip_TakesExactlyTwoStreams_AsUpstreamsZip()
    {
        var env = Env.With("x: fp32 [M]", "y: fp32 [M]", "z: fp32 [M]");
        Assert.Equal(T("[fp32, fp32] [M]"), env.TypeOf("r = step.Zip().apply((x, y))", "r"));
        var p = Rejects(env, "r = step.Zip().apply((x, y, z))\nreturn r", "Zip.arity", "Zip");
        Assert.Equal("3 stream(s)", p.Actual);
    }

    [Fact]
    public void Zip_DtypeIsTheFlattenedTupleOfBoth()
    {
        var env = Env.With("x: fp32 [M]", "y: fp32 [M]", "z: Buffer(fp32, [D]) [M]");
        Assert.Equal(T("[fp32, fp32, Buffer(fp32, [D])] [M]"), env.TypeOf("a = step.Zip().apply((x, y))\nb = step.Zip().apply((a, z))", "b"));
        Rejects(env, "r = step.Zip().apply(x)\nreturn r", "Zip.arity", "Zip");
    }

    // ---- Accum ----

    [Fact]
    public void Accum_FnInputMustEqualStreamDtype()
    {
        var env = Env.With("x: fp32 [N, M]").Fn("add", "fp32", "fp32", 0).Fn("badd", "Buffer(fp32, [N])", "Buffer(fp32, [N])", 0);
        Assert.Equal(T("fp32 [M]"), env.TypeOf("y = step.Accum(fn=add, b=1).apply(x)", "y"));
        Rejects(env, "y = step.Accum(fn=badd, b=1).apply(x)\nreturn y", "Accum.fn-input", "Accum");
    }

    [Fact]
    public void Accum_BMustBeBetweenOneAndRank_AndOutputKeepsShapeFromB()
    {
        var env = Env.With("x: fp32 [N, K, M]").Fn("add", "fp32", "fp32", 0);
        Assert.Equal(T("fp32 [M]"), env.TypeOf("y = step.Accum(fn=add, b=2).apply(x)", "y"));
        var p = Rejects(env, "y = step.Accum(fn=add, b=3).apply(x)\nreturn y", "Accum.b-range", "Accum");
        Assert.Contains("rank 2", p.Message, StringComparison.Ordinal);
        Rejects(env, "y = step.Accum(fn=add, b=0).apply(x)\nreturn y", "Accum.b-range", "Accum");
    }

    [Fact]
    public void Accum_FnMustHaveInit()
    {
        var env = Env.With("x: fp32 [N, M]").Fn("add", "fp32", "fp32", 0).Fn("noinit", "fp32", "fp32");
        Passes(env.Out("fp32 [M]"), "y = step.Accum(fn=add, b=1).apply(x)\nreturn y");
        Rejects(env, "y = step.Accum(fn=noinit, b=1).apply(x)\nreturn y", "Accum.fn-init", "Accum");
    }

    // ---- Scan ----

    [Fact]
    public void Scan_FnInputMustEqualStreamDtype_AndKeepsShape()
    {
        var env = Env.With("x: fp32 [N, M]").Fn("run", "fp32", "[fp32, fp32]", double.NegativeInfinity, 0).Fn("bad", "Buffer(fp32, [D])", "fp32", 0);
        Assert.Equal(T("[fp32, fp32] [N, M]"), env.TypeOf("y = step.Scan(fn=run, b=1).apply(x)", "y"));
        Rejects(env, "y = step.Scan(fn=bad, b=1).apply(x)\nreturn y", "Scan.fn-input", "Scan");
    }

    [Fact]
    public void Scan_BMustBeBetweenOneAndRank()
    {
        var env = Env.With("x: fp32 [N, M]").Fn("add", "fp32", "fp32", 0);
        Assert.Equal(T("fp32 [N, M]"), env.TypeOf("y = step.Scan(fn=add, b=1).apply(x)", "y"));
        Rejects(env, "y = step.Scan(fn=add, b=2).apply(x)\nreturn y", "Scan.b-range", "Scan");
    }

    // ---- Bufferize ----

    [Fact]
    public void Bufferize_AMustBeBetweenOneAndRank()
    {
        var env = Env.With("x: fp32 [N, K, M]");
        Assert.Equal(T("Buffer(fp32, [N, K]) [M]"), env.TypeOf("y = step.Bufferize(a=2).apply(x)", "y"));
        Rejects(env, "y = step.Bufferize(a=3).apply(x)\nreturn y", "Bufferize.a-range", "Bufferize");
        Rejects(env, "y = step.Bufferize(a=0).apply(x)\nreturn y", "Bufferize.a-range", "Bufferize");
    }

    [Fact]
    public void Bufferize_OfABufferExtendsItsShape()
    {
        var env = Env.With("x: Buffer(fp32, [D]) [N, M]", "m: Multihot(fp32, E) [N, M]", "t: [fp32, fp32] [N, M]");
        Assert.Equal(T("Buffer(fp32, [D, N]) [M]"), env.TypeOf("y = step.Bufferize(a=1).apply(x)", "y"));
        Assert.Equal(T("Buffer(Multihot(fp32, E), [N]) [M]"), env.TypeOf("y = step.Bufferize(a=1).apply(m)", "y"));
        Rejects(env, "y = step.Bufferize(a=1).apply(t)\nreturn y", "Bufferize.element", "Bufferize");
    }

    // ---- Streamify ----

    [Fact]
    public void Streamify_DtypeMustBeABuffer()
    {
        var env = Env.With("x: Buffer(fp32, [D, N]) [M]", "y: fp32 [M]");
        var t = env.TypeOf("s = step.Streamify().apply(x)", "s");
        Assert.Equal(T("fp32 [D, N, M]"), t);
        Assert.Equal(2, t.Rank);
        Rejects(env, "s = step.Streamify().apply(y)\nreturn s", "Streamify.buffer", "Streamify");
    }

    // ---- Promote ----

    [Fact]
    public void Promote_BMustBeBetweenZeroAndRankPlusOne()
    {
        var env = Env.With("x: fp32 [N, M]");
        Assert.Equal(T("fp32 [1, N, M]"), env.TypeOf("y = step.Promote(b=0).apply(x)", "y"));
        Assert.Equal(T("fp32 [N, M, 1]"), env.TypeOf("y = step.Promote(b=2).apply(x)", "y"));
        Rejects(env, "y = step.Promote(b=3).apply(x)\nreturn y", "Promote.b-range", "Promote");
        Rejects(env, "y = step.Promote(b=-1).apply(x)\nreturn y", "Promote.b-range", "Promote");
    }

    // ---- Flatten ----

    [Fact]
    public void Flatten_LMustBeConsecutivePositiveInts_AndMergesIntoTheProduct()
    {
        var env = Env.With("x: fp32 [N, K, M]");
        Assert.Equal(T("fp32 [N*K, M]"), env.TypeOf("y = step.Flatten(L=[1]).apply(x)", "y"));
        Assert.Equal(T("fp32 [M*N*K]"), env.TypeOf("y = step.Flatten(L=(1, 2)).apply(x)", "y"));
        Rejects(env, "y = step.Flatten(L=[1, 3]).apply(x)\nreturn y", "Flatten.consecutive", "Flatten");
        Rejects(env, "y = step.Flatten(L=[0]).apply(x)\nreturn y", "Flatten.consecutive", "Flatten");
        Rejects(env, "y = step.Flatten(L=[3]).apply(x)\nreturn y", "Flatten.range", "Flatten");
    }

    [Fact]
    public void Flatten_ProductWithOneIsTheDimItself()
    {
        var env = Env.With("x: fp32 [N, M, 1]").Out("fp32 [N, M]");
        Passes(env, "y = step.Flatten(L=[2]).apply(x)\nreturn y");
    }

    // ---- Reshape ----

    [Fact]
    public void Reshape_EachListedDimMustBeDivisibleByS()
    {
        var env = Env.With("x: fp32 [D, M]");
        var t = env.TypeOf("y = step.Reshape(L=[0], S=4).apply(x)", "y");
        Assert.Equal(new StreamType(DType.Fp32, new ValueList<Dim>([Dim.Const(4), new QuotientDim(Dim.Symbol("D"), 4), Dim.Symbol("M")])), t);
        Assert.Equal(T("fp32 [2, N, M]"), Env.With("x: fp32 [2*N, M]").TypeOf("y = step.Reshape(L=[0], S=2).apply(x)", "y"));
        Assert.Equal(2, t.Rank);
        Rejects(env, "y = step.Reshape(L=[1], S=2).apply(x)\nreturn y", "Reshape.divisible", "Reshape");
        Rejects(env, "y = step.Reshape(L=[2], S=2).apply(x)\nreturn y", "Reshape.range", "Reshape");
    }

    // ---- Repeat ----

    [Fact]
    public void Repeat_NIsADimensionSymbolOrInt_AndBecomesTheNewInnermostDim()
    {
        var env = Env.With("x: fp32 [M]").Fn("f", "fp32", "fp32");
        Assert.Equal(T("fp32 [D, M]"), env.TypeOf("y = step.Repeat(n=D).apply(x)", "y"));
        Assert.Equal(T("fp32 [3, M]"), env.TypeOf("y = step.Repeat(n=3).apply(x)", "y"));
        Assert.Equal(T("fp32 [E, M]"), env.TypeOf("y = step.Repeat(n=E_value).apply(x)", "y"));
        Rejects(env, "y = step.Repeat(n=f).apply(x)\nreturn y", "Repeat.config", "Repeat");
        Rejects(env, "y = step.Repeat(n=0).apply(x)\nreturn y", "Repeat.count", "Repeat");
    }

    // ---- RepeatRef ----

    [Fact]
    public void RepeatRef_RefRankMustBeXRankPlusOne()
    {
        var env = Env.With("x: fp32 [M]", "r: Buffer(fp32, [D]) [N, M]", "r2: fp32 [K, N, M]");
        Assert.Equal(T("fp32 [N, M]"), env.TypeOf("y = step.RepeatRef().apply((x, r))", "y"));
        Rejects(env, "y = step.RepeatRef().apply((x, r2))\nreturn y", "RepeatRef.rank", "RepeatRef");
    }

    [Fact]
    public void RepeatRef_RefShapeTailMustEqualXShape()
    {
        var env = Env.With("x: fp32 [M]", "r: fp32 [N, K]");
        Rejects(env, "y = step.RepeatRef().apply((x, r))\nreturn y", "RepeatRef.shape", "RepeatRef");
    }

    // ---- Copy ----

    [Fact]
    public void Copy_GivesTwoStreamsIdenticalToX()
    {
        var env = Env.With("x: Buffer(fp32, [D]) [N, M]");
        Assert.Equal(T("Buffer(fp32, [D]) [N, M]"), env.TypeOf("a, b = step.Copy().apply(x)", "a"));
        Assert.Equal(T("Buffer(fp32, [D]) [N, M]"), env.TypeOf("a, b = step.Copy().apply(x)", "b"));
        var p = env.Check("a, b, c = step.Copy().apply(x)\nreturn a");
        Assert.Equal("program.unpack", p?.Rule);
    }

    // ---- Partition ----

    private static Env Moe() => Env.With("x: [Buffer(fp32, [K]), fp32] [N, M]", "idx: Multihot(fp32, E) [N, M]", "bad: fp32 [N, M]", "idx1: Multihot(fp32, E) [M]")
        .Fn("e", "[Buffer(fp32, [K]), fp32]", "Buffer(fp32, [K])")
        .Fn("add", "Buffer(fp32, [K])", "Buffer(fp32, [K])", 0)
        .Fn("addf", "fp32", "fp32", 0);

    [Fact]
    public void Partition_IdxDtypeMustBeMultihot()
    {
        var env = Moe();
        var t = env.TypeOf("p = step.Partition(N=E_value).apply((x, idx))\ny = p[0]", "y");
        Assert.Equal(DTypeSyntax.ParseDType("[Buffer(fp32, [K]), fp32]"), t.DType);
        Assert.Single(t.Shape);
        Assert.IsType<DynamicDim>(t.Shape[0]);
        Rejects(env, "p = step.Partition(N=E_value).apply((x, bad))\nreturn p[0]", "Partition.multihot", "Partition");
    }

    [Fact]
    public void Partition_OuterDimsOfXMustEqualIdxShape_AndInnerDimsStay()
    {
        var env = Env.With("x: fp32 [K, N, M]", "idx: Multihot(fp32, E) [M]", "idx2: Multihot(fp32, E) [K, M]");
        var t = env.TypeOf("p = step.Partition(N=3).apply((x, idx))\ny = p[2]", "y");
        Assert.Equal(3, t.Shape.Count);
        Assert.Equal(new ValueList<Dim>([Dim.Symbol("K"), Dim.Symbol("N")]), t.Shape.Slice(0, 2));
        Assert.IsType<DynamicDim>(t.Shape[2]);
        Rejects(env, "p = step.Partition(N=3).apply((x, idx2))\nreturn p[0]", "Partition.shape", "Partition");
    }

    [Fact]
    public void Partition_NIsOneStreamPerExpert()
    {
        var env = Moe();
        Rejects(env, "p = step.Partition(N=2).apply((x, idx))\nreturn p[0]", "Partition.count", "Partition");
    }

    [Fact]
    public void Partition_NIsAnInteger_AGlobalSuchAsEValueOrALiteral_NotTheSymbolE()
    {
        var env = Moe();
        Assert.IsType<DynamicDim>(env.TypeOf("p = step.Partition(N=E_value).apply((x, idx))\ny = p[0]", "y").Shape[0]);
        Assert.IsType<DynamicDim>(env.TypeOf("p = step.Partition(N=3).apply((x, idx))\ny = p[0]", "y").Shape[0]);
        var p = Rejects(env, "p = step.Partition(N=E).apply((x, idx))\nreturn p[0]", "Partition.integer-count", "Partition");
        Assert.Contains("N=E_value", p.Message, StringComparison.Ordinal);
        Assert.Equal("the dimension symbol E", p.Actual);
    }

    // ---- Merge ----

    [Fact]
    public void Merge_OutputIsFnOutputWithCommonShapePlusIdxShape()
    {
        var env = Moe().Out("Buffer(fp32, [K]) [N, M]");
        Passes(env, """
            i1, i2 = step.Copy().apply(idx)
            p = step.Partition(N=E_value).apply((x, i1))
            q = [step.Map(fn=e).apply(s) for s in p]
            y = step.Merge(fn=add).apply((q, i2))
            return y
            """);
    }

    [Fact]
    public void Merge_StreamsMustShareDtype()
    {
        var env = Moe().Fn("e2", "[Buffer(fp32, [K]), fp32]", "fp32");
        Rejects(env, """
            p = step.Partition(N=E_value).apply((x, idx))
            q = [step.Map(fn=e).apply(p[0]), step.Map(fn=e2).apply(p[1]), step.Map(fn=e).apply(p[2])]
            y = step.Merge(fn=add).apply((q, idx))
            return y
            """, "Merge.same-dtype", "Merge");
    }

    [Fact]
    public void Merge_StreamsMustShareShapeExceptTheOutermostDim()
    {
        var env = Env.With("a: fp32 [N, M]", "b: fp32 [K, M]", "c: fp32 [N, K]", "idx: Multihot(fp32, E) [M]").Fn("add", "fp32", "fp32", 0).Out("fp32 [N, M]");
        Passes(Env.With("a: fp32 [N, M]", "b: fp32 [N, K]", "c: fp32 [N, D]", "idx: Multihot(fp32, E) [M]").Fn("add", "fp32", "fp32", 0).Out("fp32 [N, M]"),
            "y = step.Merge(fn=add).apply(([a, b, c], idx))\nreturn y");
        Rejects(env, "y = step.Merge(fn=add).apply(([a, b, c], idx))\nreturn y", "Merge.same-shape", "Merge");
    }

    [Fact]
    public void Merge_FnInputMustEqualTheStreamsDtype()
    {
        var env = Moe();
        Rejects(env, """
            p = step.Partition(N=E_value).apply((x, idx))
            q = [step.Map(fn=e).apply(s) for s in p]
            y = step.Merge(fn=addf).apply((q, idx))
            return y
            """, "Merge.fn-input", "Merge");
    }

    [Fact]
    public void Merge_IdxMustBeMultihot_AndOneStreamPerExpert()
    {
        var env = Env.With("a: fp32 [N, M]", "b: fp32 [N, M]", "c: fp32 [N, M]", "idx: Multihot(fp32, E) [M]", "f: fp32 [M]").Fn("add", "fp32", "fp32", 0);
        Rejects(env, "y = step.Merge(fn=add).apply(([a, b, c], f))\nreturn y", "Merge.multihot", "Merge");
        Rejects(env, "y = step.Merge(fn=add).apply(([a, b], idx))\nreturn y", "Merge.count", "Merge");
    }

    // ---- configuration and arguments ----

    [Fact]
    public void OpConfig_UnknownOrMissingParametersAreTypeErrors()
    {
        var env = Env.With("x: fp32 [N, M]").Fn("add", "fp32", "fp32", 0);
        Rejects(env, "y = step.Accum(fn=add).apply(x)\nreturn y", "Accum.config", "Accum");
        Rejects(env, "y = step.Accum(fn=add, b=1, c=2).apply(x)\nreturn y", "Accum.config", "Accum");
        Rejects(env, "y = step.Accum(fn=1, b=1).apply(x)\nreturn y", "Accum.config", "Accum");
        Assert.Equal(T("fp32 [M]"), env.TypeOf("y = step.Accum(add, 1).apply(x)", "y"));
    }
}
