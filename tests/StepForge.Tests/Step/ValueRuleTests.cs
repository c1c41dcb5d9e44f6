using StepForge.Step;
using StepForge.Tests.Support;

namespace StepForge.Tests.Step;

/// <summary>The "Values" section of step-semantics.md: shapes, ranks, dimensions, element types and data layout.</summary>
public class ValueRuleTests
{
    private static readonly Dictionary<string, long> Sizes = new() { ["M"] = 5, ["N"] = 7, ["K"] = 9, ["D"] = 16, ["E"] = 3 };

    private static long[] TensorShape(string stream, int component = 0) =>
        [.. Env.Type(stream).TensorDims()[component].Select(d => d.Evaluate(Sizes)!.Value)];

    [Fact]
    public void Shape_IsWrittenInnermostFirst_AndRankIsLenMinusOne()
    {
        var t = Env.Type("fp32 [N, K, M]");
        Assert.Equal(2, t.Rank);
        Assert.Equal(0, Env.Type("fp32 [M]").Rank);
        Assert.Equal(Dim.Symbol("M"), t.Shape[^1]);
    }

    [Theory]
    [InlineData("fp32 [M]", 0)]
    [InlineData("Multihot(fp32, E) [M]", 1)]
    [InlineData("Buffer(fp32, [K]) [M]", 1)]
    [InlineData("Buffer(Buffer(fp32, [K, N]), [D]) [M]", 3)]
    [InlineData("Buffer(Multihot(fp32, E), [K]) [M]", 2)]
    public void AnElementOwnsTheTensorDimsItsTypeNames_CountedAsItsDimsAreListed(string stream, int dims)
    {
        var element = Env.Type(stream).DType;
        Assert.Equal(dims, StreamType.ElementDims(element).Count());
        Assert.Equal(dims, StreamType.ElementRank(element));
    }

    [Fact]
    public void Rank_IsLenShapeMinusOne_AlsoAfterReshape()
    {
        var env = Env.With("x: fp32 [D, M]");
        var t = env.TypeOf("y = step.Reshape(L=[0], S=2).apply(x)", "y");
        Assert.Equal(3, t.Shape.Count);
        Assert.Equal(2, t.Rank);
    }

    [Fact]
    public void Dim_IsASymbolAnIntegerAProductOrDynamic()
    {
        Assert.Equal(Dim.Symbol("M"), DTypeSyntax.ParseDim("M"));
        Assert.Equal(Dim.Const(1), DTypeSyntax.ParseDim("1"));
        Assert.Equal(DTypeSyntax.ParseDim("N*M"), DTypeSyntax.ParseDim("M*N"));
        Assert.Equal(Dim.Symbol("M"), Dim.Product([Dim.Symbol("M"), Dim.One]));
        Assert.Equal(Dim.Const(12), Dim.Product([Dim.Const(3), Dim.Const(4)]));
        Assert.NotEqual(Dim.Symbol("M"), Dim.Symbol("N"));
        var partitioned = Env.With("x: fp32 [N, M]", "i: Multihot(fp32, E) [M]").TypeOf("p = step.Partition(N=3).apply((x, i))\ny = p[0]", "y");
        Assert.True(partitioned.Shape[^1].IsDynamic);
        Assert.Null(partitioned.Shape[^1].Evaluate(Sizes));
        Assert.Throws<FormatException>(() => DTypeSyntax.ParseDim("0"));
        Assert.Throws<FormatException>(() => DTypeSyntax.ParseDim("M+N"));
    }

    [Fact]
    public void ElementTypes_ParseFromTheYamlStrings()
    {
        Assert.Equal(DType.Fp32, DTypeSyntax.ParseDType("fp32"));
        Assert.Equal(new BufferType(DType.Fp32, new ValueList<Dim>([Dim.Symbol("D")])), DTypeSyntax.ParseDType("Buffer(fp32, [D])"));
        Assert.Equal(new MultihotType(DType.Fp32, Dim.Symbol("E")), DTypeSyntax.ParseDType("Multihot(fp32, E)"));
        Assert.Equal(new BufferType(new MultihotType(DType.Fp32, Dim.Symbol("M")), new ValueList<Dim>([Dim.Symbol("E")])),
            DTypeSyntax.ParseDType("Buffer(Multihot(fp32, M), [E])"));
        Assert.Throws<FormatException>(() => DTypeSyntax.ParseDType("Bufer(fp32, [D])"));
        Assert.Throws<FormatException>(() => DTypeSyntax.ParseDType("Buffer(fp32, D)"));
        Assert.Throws<FormatException>(() => DTypeSyntax.ParseDType("Buffer([fp32, fp32], [D])"));
        Assert.Throws<FormatException>(() => DTypeSyntax.ParseDType("Multihot(fp32)"));
    }

    [Fact]
    public void Tuples_Flatten_ATupleOfATupleIsOneFlatTuple()
    {
        var nested = DType.Tuple([DType.Fp32, DType.Tuple([DType.Fp32, DTypeSyntax.ParseDType("Buffer(fp32, [D])")])]);
        Assert.Equal(DTypeSyntax.ParseDType("[fp32, fp32, Buffer(fp32, [D])]"), nested);
        Assert.Equal(3, nested.Components.Count);
        Assert.Equal(DType.Fp32, DType.Tuple([DType.Fp32]));
    }

    [Fact]
    public void ElementTypes_AreEqualOnlyIfStructurallyIdentical()
    {
        Assert.NotEqual(DTypeSyntax.ParseDType("Buffer(fp32, [D, N])"), DTypeSyntax.ParseDType("Buffer(fp32, [N, D])"));
        Assert.Equal(DTypeSyntax.ParseDType("Buffer(fp32, [D, N])"), DTypeSyntax.ParseDType("Buffer(fp32,[D,N])"));
        var env = Env.With("x: Buffer(fp32, [D, N]) [M]").Fn("f", "Buffer(fp32, [N, D])", "fp32").Fn("g", "Buffer(fp32, [D, N])", "fp32");
        Assert.Equal("Map.fn-input", env.Check("y = step.Map(fn=f).apply(x)\nreturn y")?.Rule);
        Assert.Equal(Env.Type("fp32 [M]"), env.TypeOf("y = step.Map(fn=g).apply(x)", "y"));
    }

    [Fact]
    public void DataLayout_ScalarStreamIsTheReverseOfItsShape()
    {
        Assert.Equal([5L, 9, 7], TensorShape("fp32 [N, K, M]"));
    }

    [Fact]
    public void DataLayout_BufferDimsAreTheInnermost()
    {
        Assert.Equal([5L, 7, 16], TensorShape("Buffer(fp32, [D]) [N, M]"));
        Assert.Equal([5L, 7, 16], TensorShape("Buffer(fp32, [D, N]) [M]"));
    }

    [Fact]
    public void DataLayout_MultihotWidthIsInnermost_AlsoInsideABuffer()
    {
        Assert.Equal([5L, 7, 3], TensorShape("Multihot(fp32, E) [N, M]"));
        Assert.Equal([5L, 3, 7], TensorShape("Buffer(Multihot(fp32, N), [E]) [M]"));
    }

    [Fact]
    public void DataLayout_ATupleStreamIsOneTensorPerComponent()
    {
        var t = Env.Type("[fp32, Buffer(fp32, [D])] [N, M]");
        Assert.Equal(2, t.TensorDims().Count);
        Assert.Equal([5L, 7], TensorShape("[fp32, Buffer(fp32, [D])] [N, M]", 0));
        Assert.Equal([5L, 7, 16], TensorShape("[fp32, Buffer(fp32, [D])] [N, M]", 1));
    }
}
