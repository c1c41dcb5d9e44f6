using StepForge.PyLite;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.PyLite;

/// <summary>The Python subset: every construct the task files use, errors with line and column, and bounded nesting.</summary>
public class ParserTests
{
    private static Expr Single(string source) => Assert.IsType<ExprStmt>(Assert.Single(Parser.ParseModule(source).Body)).Value;

    [Fact]
    public void Parses_AssignmentsTupleUnpackingAndReturn()
    {
        var module = Parser.ParseModule("m_t, l_t, o_t = state # comment\n_, idx = torch.topk(x, 1, dim=-1)\nreturn [a, b]");
        Assert.Equal(3, module.Body.Length);
        var unpack = Assert.IsType<AssignStmt>(module.Body[0]);
        Assert.Equal(3, Assert.IsType<TupleExpr>(unpack.Targets[0]).Items.Length);
        Assert.IsType<ListExpr>(Assert.IsType<ReturnStmt>(module.Body[2]).Value);
    }

    [Fact]
    public void Parses_CallsWithKeywordsAttributesAndMatmul()
    {
        var call = Assert.IsType<CallExpr>(Single("torch.softmax(input[0] @ input_data['Wg'], dim=-1)"));
        Assert.Equal("softmax", Assert.IsType<AttributeExpr>(call.Callee).Name);
        Assert.Equal(BinaryOp.MatMul, Assert.IsType<BinaryExpr>(call.Args[0]).Op);
        Assert.Equal("dim", Assert.Single(call.Keywords).Name);
    }

    [Fact]
    public void Parses_SlicesWithStepsAndEllipsis()
    {
        var sub = Assert.IsType<SubscriptExpr>(Single("x[..., 1::2]"));
        var index = Assert.IsType<TupleExpr>(sub.Index);
        Assert.IsType<EllipsisLiteral>(index.Items[0]);
        var slice = Assert.IsType<SliceExpr>(index.Items[1]);
        Assert.IsType<IntLiteral>(slice.Lower);
        Assert.Null(slice.Upper);
        Assert.IsType<IntLiteral>(slice.Step);
        Assert.IsType<TupleExpr>(Assert.IsType<SubscriptExpr>(Single("x[:, :, 0]")).Index);
    }

    [Fact]
    public void Parses_ComprehensionsConditionalsFStringsAndPower()
    {
        var comp = Assert.IsType<ListCompExpr>(Single("[input_data[f'W{i}_0'] for i in range(E_value)]"));
        Assert.IsType<FStringExpr>(Assert.IsType<SubscriptExpr>(comp.Element).Index);
        Assert.IsType<ConditionalExpr>(Single("[a] if (x > 0.5) else [b]"));
        var negated = Assert.IsType<UnaryExpr>(Single("-x ** 2"));
        Assert.Equal(BinaryOp.Pow, Assert.IsType<BinaryExpr>(negated.Operand).Op);
        Assert.IsType<CompareExpr>(Single("a == 1.0"));
        Assert.Equal(1e-5, Assert.IsType<FloatLiteral>(Single("1e-5")).Value);
    }

    [Fact]
    public void Parses_MultiLineCallsInsideBrackets()
    {
        var module = Parser.ParseModule("y = torch.cat(\n    [a,\n     b],\n    dim=-1)\nreturn y");
        Assert.Equal(2, module.Body.Length);
    }

    [Theory]
    [InlineData("x = (1, 2", 1)]
    [InlineData("x = 1\ny = = 2", 2)]
    [InlineData("x = 1\n  y = 2", 2)]
    [InlineData("if x:\n  y = 1", 1)]
    [InlineData("x = 'abc", 1)]
    [InlineData("x = $", 1)]
    [InlineData("lambda x: x", 1)]
    [InlineData("a b", 1)]
    public void SyntaxErrors_CarryLineAndColumn(string source, int line)
    {
        var e = Assert.Throws<PyLiteSyntaxException>(() => Parser.ParseModule(source));
        Assert.Equal(line, e.Line);
        Assert.True(e.Column >= 1);
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [Fact]
    public void DeepNesting_IsASyntaxError_NotAStackOverflow()
    {
        var deep = new string('(', 100_000) + "1" + new string(')', 100_000);
        Assert.Throws<PyLiteSyntaxException>(() => Parser.ParseModule("x = " + deep));
        Assert.Throws<PyLiteSyntaxException>(() => Parser.ParseModule("x = " + string.Concat(Enumerable.Repeat("-", 100_000)) + "1"));
        Assert.Throws<PyLiteSyntaxException>(() => Parser.ParseModule("x = " + string.Concat(Enumerable.Repeat("[", 50_000))));
        // Chains parse in a loop but make deep trees; every later stage walks trees recursively.
        var chain = Assert.Throws<PyLiteSyntaxException>(() => Parser.ParseModule("x = " + string.Concat(Enumerable.Repeat("1+", 50_000)) + "1"));
        Assert.Contains("chain", chain.Message, StringComparison.Ordinal);
        Assert.Throws<PyLiteSyntaxException>(() => Parser.ParseModule("x = " + string.Concat(Enumerable.Repeat("a.b", 1)) + string.Concat(Enumerable.Repeat(".c", 5_000))));
        Assert.Single(Parser.ParseModule("x = " + string.Concat(Enumerable.Repeat("1+", 150)) + "1").Body);
    }

    [Fact]
    public void ATenThousandLineProgram_Parses()
    {
        var source = string.Join("\n", Enumerable.Range(0, 10_000).Select(i => $"E{i + 1} = step.Map(fn=f).apply(E{i})"));
        Assert.Equal(10_000, Parser.ParseModule(source).Body.Length);
    }

    public static TheoryData<string> UpstreamRefFiles() => [.. TestPaths.UpstreamFiles("_ref.yaml").Select(TestPaths.Relative)];

    [UpstreamTheory]
    [MemberData(nameof(UpstreamRefFiles))]
    public void EverySnippetOfTheUpstreamRefFiles_Parses(string file)
    {
        var task = TaskReader.ReadFile(Path.Combine(TestPaths.Upstream, file));
        var snippets = task.Fns.Select(f => f.Apply).Concat(task.Outputs.Select(o => o.DataTransform)).Append(task.Impl!);
        if (task.Global is not null) snippets = snippets.Append(task.Global);
        foreach (var snippet in snippets) Parser.ParseModule(snippet);
        Assert.NotNull(task.Impl);
    }
}
