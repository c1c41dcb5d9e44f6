using System.Reflection;
using System.Text.RegularExpressions;
using StepForge.Diagnostics;
using StepForge.PyLite;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tensors;
using StepForge.Tests.Support;
using StepForge.Tests.Synthesis;

namespace StepForge.Tests.Diagnostics;

/// <summary>
/// The rule catalogue as data: every rule in <see cref="Rules.All"/> has a failing case, which must be reported with
/// exactly that rule, and a passing case, which must not be. A rule added to the catalogue without cases fails here.
/// </summary>
public partial class RuleCatalogueTests
{
    /// <summary>A case runs a check and returns the rule it reported, or null when it passed.</summary>
    private sealed record Cases(Func<string?> Fails, Func<string?> Passes);

    // Streams innermost first; fns: f (no init), add (init 0), g (Buffer input), f2 (a tuple input).
    private static Env Ops() => Env.With(
            "x: fp32 [N, M]", "y: fp32 [N, M]", "z: fp32 [M, N]", "b: Buffer(fp32, [D]) [N, M]", "i: Multihot(fp32, E) [M]",
            "t: fp32 [K, N, M]", "u: fp32 [K, M, N]", "d: fp32 [D, M]")
        .Fn("f", "fp32", "fp32").Fn("add", "fp32", "fp32", 0).Fn("g", "Buffer(fp32, [D])", "fp32", 0).Fn("f2", "[fp32, fp32]", "fp32");

    /// <summary>Parse, bind without the task's outputs, then the affine check: the first rule broken.</summary>
    private static Func<string?> Static(string program) => () =>
    {
        StepForge.PyLite.Module module;
        try { module = Parser.ParseModule(program); }
        catch (PyLiteSyntaxException) { return Rules.Syntax.Id; }
        var (bound, problem) = ProgramBinder.Bind(module, Ops().Build(), checkOutputs: false);
        return problem?.Rule ?? AffineChecker.Check(bound!)?.Rule;
    };

    /// <summary>The whole static pipeline against one output, fp32 [M] (or the outputs given).</summary>
    private static Func<string?> Checked(string program, StaticCheckOptions? options = null, params string[] outputs) =>
        () => Ops().Out(outputs.Length == 0 ? ["fp32 [M]"] : outputs).Check(program, options)?.Rule;

    private static Cases Op(string passes, string fails) => new(Static(fails), Static(passes));

    private static Func<string?> Budget(ExecutionBudget budget, Action<ExecutionBudget> charge) => () =>
    {
        try
        {
            charge(budget);
            return null;
        }
        catch (LimitExceededException e)
        {
            return e.Rule.Id;
        }
    };

    private static Func<string?> Compare(float expected, float actual) =>
        () => OutputComparison.Compare("o", 0, new Tensor([1], [expected]), new Tensor([1], [actual])).Rule;

    private const string Accepted = "r = step.Accum(fn=add, b=1).apply(x)\nreturn r";
    private const string Merged = "i1, i2 = step.Copy().apply(i)\np = step.Partition(N=E_value).apply((x, i1))\n";

    private static readonly Dictionary<Rule, Cases> Table = new()
    {
        [Rules.Syntax] = Op(Accepted, "r = (x"),
        [Rules.Names] = Op(Accepted, "r = step.Map(fn=nope).apply(x)\nreturn r"),
        [Rules.ProgramStatement] = Op(Accepted, "x.a = 1\nreturn x"),
        [Rules.ProgramUnpack] = Op(Accepted, "r, s = x\nreturn r"),
        [Rules.ProgramExpression] = Op(Accepted, "return x + y"),
        [Rules.ReturnLast] = Op(Accepted, "return x\nr = y"),
        [Rules.ReturnMissing] = Op(Accepted, "r = step.Accum(fn=add, b=1).apply(x)"),
        [Rules.ReturnStream] = Op(Accepted, "return 3"),
        [Rules.ReturnCount] = new(Checked("return x, y"), Checked(Accepted)),
        [Rules.ReturnDtype] = new(Checked("return b"), Checked(Accepted)),
        [Rules.ReturnShape] = new(Checked("return x"), Checked(Accepted)),

        [Rules.MapConfig] = Op("return step.Map(fn=f).apply(x)", "return step.Map(fn=3).apply(x)"),
        [Rules.MapInput] = Op("return step.Map(fn=f).apply(x)", "return step.Map(fn=f).apply(3)"),
        [Rules.MapArity] = Op("return step.Map(fn=f).apply(x)", "return step.Map(fn=f).apply(())"),
        [Rules.MapZipShape] = Op("return step.Map(fn=f2).apply((x, y))", "return step.Map(fn=f2).apply((x, z))"),
        [Rules.MapFnInput] = Op("return step.Map(fn=g).apply(b)", "return step.Map(fn=g).apply(x)"),

        [Rules.ZipConfig] = Op("return step.Zip().apply((x, y))", "return step.Zip(1).apply((x, y))"),
        [Rules.ZipInput] = Op("return step.Zip().apply((x, y))", "return step.Zip().apply((x, 3))"),
        [Rules.ZipArity] = Op("return step.Zip().apply((x, y))", "return step.Zip().apply(x)"),
        [Rules.ZipSameShape] = Op("return step.Zip().apply((x, y))", "return step.Zip().apply((x, z))"),

        [Rules.AccumConfig] = Op(Accepted, "return step.Accum(fn=add).apply(x)"),
        [Rules.AccumInput] = Op(Accepted, "return step.Accum(fn=add, b=1).apply(3)"),
        [Rules.AccumArity] = Op(Accepted, "return step.Accum(fn=add, b=1).apply((x, y))"),
        [Rules.AccumFnInput] = Op(Accepted, "return step.Accum(fn=g, b=1).apply(x)"),
        [Rules.AccumBRange] = Op(Accepted, "return step.Accum(fn=add, b=2).apply(x)"),
        [Rules.AccumFnInit] = Op(Accepted, "return step.Accum(fn=f, b=1).apply(x)"),

        [Rules.ScanConfig] = Op("return step.Scan(fn=add, b=1).apply(x)", "return step.Scan(fn=add).apply(x)"),
        [Rules.ScanInput] = Op("return step.Scan(fn=add, b=1).apply(x)", "return step.Scan(fn=add, b=1).apply(3)"),
        [Rules.ScanArity] = Op("return step.Scan(fn=add, b=1).apply(x)", "return step.Scan(fn=add, b=1).apply((x, y))"),
        [Rules.ScanFnInput] = Op("return step.Scan(fn=add, b=1).apply(x)", "return step.Scan(fn=g, b=1).apply(x)"),
        [Rules.ScanBRange] = Op("return step.Scan(fn=add, b=1).apply(x)", "return step.Scan(fn=add, b=0).apply(x)"),
        [Rules.ScanFnInit] = Op("return step.Scan(fn=add, b=1).apply(x)", "return step.Scan(fn=f, b=1).apply(x)"),

        [Rules.BufferizeConfig] = Op("return step.Bufferize(a=1).apply(x)", "return step.Bufferize(b=1).apply(x)"),
        [Rules.BufferizeInput] = Op("return step.Bufferize(a=1).apply(x)", "return step.Bufferize(a=1).apply(3)"),
        [Rules.BufferizeArity] = Op("return step.Bufferize(a=1).apply(x)", "return step.Bufferize(a=1).apply((x, y))"),
        [Rules.BufferizeARange] = Op("return step.Bufferize(a=1).apply(x)", "return step.Bufferize(a=2).apply(x)"),
        [Rules.BufferizeElement] = Op("return step.Bufferize(a=1).apply(x)", "p = step.Zip().apply((x, y))\nreturn step.Bufferize(a=1).apply(p)"),

        [Rules.StreamifyConfig] = Op("return step.Streamify().apply(b)", "return step.Streamify(1).apply(b)"),
        [Rules.StreamifyInput] = Op("return step.Streamify().apply(b)", "return step.Streamify().apply(3)"),
        [Rules.StreamifyArity] = Op("return step.Streamify().apply(b)", "return step.Streamify().apply((b, x))"),
        [Rules.StreamifyBuffer] = Op("return step.Streamify().apply(b)", "return step.Streamify().apply(x)"),

        [Rules.PromoteConfig] = Op("return step.Promote(b=0).apply(x)", "return step.Promote().apply(x)"),
        [Rules.PromoteInput] = Op("return step.Promote(b=0).apply(x)", "return step.Promote(b=0).apply(3)"),
        [Rules.PromoteArity] = Op("return step.Promote(b=0).apply(x)", "return step.Promote(b=0).apply((x, y))"),
        [Rules.PromoteBRange] = Op("return step.Promote(b=2).apply(x)", "return step.Promote(b=3).apply(x)"),

        [Rules.FlattenConfig] = Op("return step.Flatten(L=[1]).apply(x)", "return step.Flatten(L=1).apply(x)"),
        [Rules.FlattenInput] = Op("return step.Flatten(L=[1]).apply(x)", "return step.Flatten(L=[1]).apply(3)"),
        [Rules.FlattenArity] = Op("return step.Flatten(L=[1]).apply(x)", "return step.Flatten(L=[1]).apply((x, y))"),
        [Rules.FlattenConsecutive] = Op("return step.Flatten(L=[1, 2]).apply(t)", "return step.Flatten(L=[0]).apply(x)"),
        [Rules.FlattenRange] = Op("return step.Flatten(L=[1, 2]).apply(t)", "return step.Flatten(L=[1, 2]).apply(x)"),

        [Rules.ReshapeConfig] = Op("return step.Reshape(L=[0], S=2).apply(d)", "return step.Reshape(L=[0]).apply(d)"),
        [Rules.ReshapeInput] = Op("return step.Reshape(L=[0], S=2).apply(d)", "return step.Reshape(L=[0], S=2).apply(3)"),
        [Rules.ReshapeArity] = Op("return step.Reshape(L=[0], S=2).apply(d)", "return step.Reshape(L=[0], S=2).apply((d, x))"),
        [Rules.ReshapeRange] = Op("return step.Reshape(L=[0], S=2).apply(d)", "return step.Reshape(L=[5], S=2).apply(d)"),
        [Rules.ReshapeDivisible] = Op("return step.Reshape(L=[0], S=2).apply(d)", "return step.Reshape(L=[0], S=3).apply(d)"),

        [Rules.RepeatConfig] = Op("return step.Repeat(n=D).apply(x)", "return step.Repeat(n=f).apply(x)"),
        [Rules.RepeatInput] = Op("return step.Repeat(n=D).apply(x)", "return step.Repeat(n=D).apply(3)"),
        [Rules.RepeatArity] = Op("return step.Repeat(n=D).apply(x)", "return step.Repeat(n=D).apply((x, y))"),
        [Rules.RepeatCount] = Op("return step.Repeat(n=D).apply(x)", "return step.Repeat(n=0).apply(x)"),

        [Rules.RepeatRefConfig] = Op("return step.RepeatRef().apply((x, t))", "return step.RepeatRef(1).apply((x, t))"),
        [Rules.RepeatRefInput] = Op("return step.RepeatRef().apply((x, t))", "return step.RepeatRef().apply((x, 3))"),
        [Rules.RepeatRefArity] = Op("return step.RepeatRef().apply((x, t))", "return step.RepeatRef().apply(x)"),
        [Rules.RepeatRefRank] = Op("return step.RepeatRef().apply((x, t))", "return step.RepeatRef().apply((x, y))"),
        [Rules.RepeatRefShape] = Op("return step.RepeatRef().apply((x, t))", "return step.RepeatRef().apply((x, u))"),

        [Rules.CopyConfig] = Op("r, s = step.Copy().apply(x)\nreturn r, s", "r, s = step.Copy(1).apply(x)\nreturn r, s"),
        [Rules.CopyInput] = Op("r, s = step.Copy().apply(x)\nreturn r, s", "r, s = step.Copy().apply(3)\nreturn r, s"),
        [Rules.CopyArity] = Op("r, s = step.Copy().apply(x)\nreturn r, s", "r, s = step.Copy().apply((x, y))\nreturn r, s"),

        [Rules.PartitionConfig] = Op("p = step.Partition(N=E_value).apply((x, i))\nreturn p[0]", "p = step.Partition().apply((x, i))\nreturn p[0]"),
        [Rules.PartitionIntegerCount] = Op("p = step.Partition(N=3).apply((x, i))\nreturn p[0]", "p = step.Partition(N=E).apply((x, i))\nreturn p[0]"),
        [Rules.PartitionInput] = Op("p = step.Partition(N=E_value).apply((x, i))\nreturn p[0]", "p = step.Partition(N=E_value).apply((x, 3))\nreturn p[0]"),
        [Rules.PartitionArity] = Op("p = step.Partition(N=E_value).apply((x, i))\nreturn p[0]", "p = step.Partition(N=E_value).apply(x)\nreturn p[0]"),
        [Rules.PartitionMultihot] = Op("p = step.Partition(N=E_value).apply((x, i))\nreturn p[0]", "p = step.Partition(N=E_value).apply((x, y))\nreturn p[0]"),
        [Rules.PartitionShape] = Op("p = step.Partition(N=E_value).apply((x, i))\nreturn p[0]", "p = step.Partition(N=E_value).apply((z, i))\nreturn p[0]"),
        [Rules.PartitionCount] = Op("p = step.Partition(N=E_value).apply((x, i))\nreturn p[0]", "p = step.Partition(N=2).apply((x, i))\nreturn p[0]"),

        [Rules.MergeConfig] = Op(Merged + "return step.Merge(fn=add).apply((p, i2))", Merged + "return step.Merge().apply((p, i2))"),
        [Rules.MergeInput] = Op(Merged + "return step.Merge(fn=add).apply((p, i2))", Merged + "return step.Merge(fn=add).apply(p)"),
        [Rules.MergeArity] = Op(Merged + "return step.Merge(fn=add).apply((p, i2))", "return step.Merge(fn=add).apply(([], i))"),
        [Rules.MergeMultihot] = Op(Merged + "return step.Merge(fn=add).apply((p, i2))", Merged + "return step.Merge(fn=add).apply((p, y))"),
        [Rules.MergeSameDtype] = Op(Merged + "return step.Merge(fn=add).apply((p, i2))", "return step.Merge(fn=add).apply(([x, b], i))"),
        [Rules.MergeSameShape] = Op(Merged + "return step.Merge(fn=add).apply((p, i2))", "return step.Merge(fn=add).apply(([x, z], i))"),
        [Rules.MergeCount] = Op(Merged + "return step.Merge(fn=add).apply((p, i2))", "return step.Merge(fn=add).apply(([x, y], i))"),
        [Rules.MergeFnInput] = Op(Merged + "return step.Merge(fn=add).apply((p, i2))", Merged + "return step.Merge(fn=g).apply((p, i2))"),
        [Rules.MergeFnInit] = Op(Merged + "return step.Merge(fn=add).apply((p, i2))", Merged + "return step.Merge(fn=f).apply((p, i2))"),

        [Rules.AffineSingleUse] = Op("r, s = step.Copy().apply(x)\nreturn step.Map(fn=f).apply(r), step.Map(fn=f).apply(s)",
            "return step.Map(fn=f).apply(x), step.Map(fn=f).apply(x)"),
        [Rules.AffineRepair] = new(
            Checked("q = [step.Map(fn=f).apply(x) for k in range(2)]\nreturn q[0], q[1]", new StaticCheckOptions(RepairAffine: true), "fp32 [N, M]", "fp32 [N, M]"),
            Checked("r = step.Map(fn=f).apply(x)\ns = step.Map(fn=f).apply(x)\nreturn r, s", new StaticCheckOptions(RepairAffine: true), "fp32 [N, M]", "fp32 [N, M]")),

        [Rules.CompareAllClose] = new(Compare(1f, 2f), Compare(1f, 1f)),
        [Rules.CompareNonFinite] = new(Compare(1f, float.NaN), Compare(float.PositiveInfinity, float.PositiveInfinity)),

        [Rules.LimitWork] = new(Budget(new ExecutionBudget { MaxWork = 10 }, b => b.ChargeWork(11)), Budget(new ExecutionBudget { MaxWork = 10 }, b => b.ChargeWork(10))),
        [Rules.LimitTensor] = new(Budget(new ExecutionBudget { MaxTensorElements = 10 }, b => b.ChargeElements(11)),
            Budget(new ExecutionBudget { MaxTensorElements = 10 }, b => b.ChargeElements(10))),
        [Rules.LimitSteps] = new(Budget(new ExecutionBudget { MaxSteps = 1 }, b => { b.ChargeStep(); b.ChargeStep(); }),
            Budget(new ExecutionBudget { MaxSteps = 1 }, b => b.ChargeStep())),
        [Rules.LimitTime] = new(Budget(new ExecutionBudget { SafetyNet = TimeSpan.FromMilliseconds(-1) }, b => b.CheckTime()),
            Budget(new ExecutionBudget(), b => b.CheckTime())),
        [Rules.LimitMemory] = new(Budget(new ExecutionBudget { MaxAllocatedBytes = 40 }, b => b.ChargeElements(11)),
            Budget(new ExecutionBudget { MaxAllocatedBytes = 40 }, b => b.ChargeElements(10))),
        [Rules.LimitInteger] = Op("return step.Repeat(n=D).apply(x)", "return step.Repeat(n=99999999999999999999999).apply(x)"),
        [Rules.LimitStreams] = Op("q = [step.Copy().apply(y) for k in range(1)]\nreturn x",
            "q = [step.Copy().apply(y) for k in range(100000)]\nreturn x"),
        [Rules.LimitList] = Op("q = range(100000)\nreturn x", "q = range(100001)\nreturn x"),

        // Reported outside the static checker: through the verifier, the cost model, the command line or the sampler (RuleCatalogueTests.Tasks.cs).
        [Rules.Runtime] = new(Verified(TaskText(body: "v = [1, 2]\nreturn [input[0] * v[5]]")), Verified(TaskText(body: "v = [1, 2]\nreturn [input[0] * v[1]]"))),
        [Rules.LimitOps] = new(Verified(TaskText("input_data['x'] * 4", impl: TwoMaps), new VerifyOptions(Budget: () => new ExecutionBudget { MaxOps = 1 })),
            Verified(TaskText("input_data['x'] * 4", impl: TwoMaps), new VerifyOptions(Budget: () => new ExecutionBudget { MaxOps = 2 }))),
        [Rules.LimitDepth] = new(Verified(TaskText(body: Nested(cyclic: true))), Verified(TaskText(body: Nested(cyclic: false)))),
        [Rules.Limit] = new(Costed(TaskText(body: Nested(cyclic: true))), Costed(TaskText(body: Nested(cyclic: false)))),
        // 60 Copies of a million-element stream are over CostModel.MaxSteps unit steps; of a hundred elements, far under.
        [Rules.LimitCost] = new(Costed(TaskText("input_data['x']", impl: CopyChain, sizes: "{N: 1000, M: 1000}")),
            Costed(TaskText("input_data['x']", impl: CopyChain, sizes: "{N: 10, M: 10}"))),
        [Rules.TaskFile] = new(VerifiedFile(TaskText() + "colour: red\n"), VerifiedFile(TaskText())),
        [Rules.TaskReference] = new(Verified(TaskText("input_data['x'] * [1, 2][5]")), Verified(TaskText("input_data['x'] * [1, 2][1]"))),
        [Rules.TaskUnsupported] = new(Verified(TaskText("torch.fft.fft(input_data['x'])")), Verified(TaskText("input_data['x'] * 2"))),
        [Rules.Answer] = new(Sampled(() => new Said("I cannot write this program."), () => TaskOf(TaskText())),
            Sampled(() => new Said("```yaml\nimpl: |\n  return step.Map(fn=fn_f).apply(x)\n```"), () => TaskOf(TaskText()))),
        // The same small search: x * 2 has no program from Square, Add and Divide, and is one Map of fn_f.
        [Rules.Unsolved] = new(Searched(() => ProgramSearchTests.Task("double", ProgramSearchTests.Double)), Searched(() => TaskOf(TaskText()))),
        // A checker that throws (here the verifier's budget) is a bug of StepForge, reported as such instead of crashing the run.
        [Rules.Internal] = new(CheckedSafely(() => throw new InvalidOperationException("injected fault")), CheckedSafely(() => new ExecutionBudget())),
    };

    public static TheoryData<string> Ids() => [.. Rules.All.Select(r => r.Id)];

    [Theory]
    [MemberData(nameof(Ids))]
    public void EveryRule_HasAFailingAndAPassingCase(string id)
    {
        var rule = Rules.Find(id)!;
        Assert.True(Table.TryGetValue(rule, out var cases), $"{id} has no failing and passing case in RuleCatalogueTests.Table");
        Assert.Equal(id, cases.Fails());
        Assert.Null(cases.Passes());
    }

    [Fact]
    public void Catalogue_IdsAreUniqueAndEveryFieldIsListed()
    {
        Assert.Equal(Rules.All.Count, Rules.All.Select(r => r.Id).Distinct(StringComparer.Ordinal).Count());
        var fields = typeof(Rules).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(Rule)).Select(f => (Rule)f.GetValue(null)!).ToList();
        Assert.Equal(fields.Count, Rules.All.Count);
        Assert.All(fields, r => Assert.Contains(r, Rules.All));
    }

    [Fact]
    public void Catalogue_EveryOperatorHasItsRules()
    {
        foreach (var op in OpCatalog.Names)
        {
            var rules = Rules.Of(op);
            Assert.Equal($"{op}.config", rules.Config.Id);
            Assert.Equal($"{op}.input", rules.Input.Id);
            Assert.Equal($"{op}.arity", rules.Arity.Id);
        }
    }

    /// <summary>Each operator configured as it type-checks on x; applied to an empty tuple it gets no stream at all.</summary>
    public static TheoryData<string, string> EmptyApplications() => new()
    {
        { "Map", "step.Map(fn=f)" }, { "Zip", "step.Zip()" }, { "Accum", "step.Accum(fn=add, b=1)" }, { "Scan", "step.Scan(fn=add, b=1)" },
        { "Bufferize", "step.Bufferize(a=1)" }, { "Streamify", "step.Streamify()" }, { "Promote", "step.Promote(b=0)" },
        { "Flatten", "step.Flatten(L=[1])" }, { "Reshape", "step.Reshape(L=[0], S=2)" }, { "Repeat", "step.Repeat(n=D)" },
        { "RepeatRef", "step.RepeatRef()" }, { "Copy", "step.Copy()" }, { "Partition", "step.Partition(N=E_value)" }, { "Merge", "step.Merge(fn=add)" },
    };

    /// <summary><c>op.apply(())</c> once crashed Map (an internal verdict); every op reports it as a type error of its own.</summary>
    [Theory]
    [MemberData(nameof(EmptyApplications))]
    public void ApplyToAnEmptyTuple_IsATypeErrorOfTheOperator(string op, string configured)
    {
        Assert.Contains(Static($"return {configured}.apply(())")(), new[] { Rules.Of(op).Arity.Id, Rules.Of(op).Input.Id });
        Assert.Contains(Static($"return {configured}.apply([])")(), new[] { Rules.Of(op).Arity.Id, Rules.Of(op).Input.Id });
    }

    [Fact]
    public void Catalogue_EverySectionIsAHeadingOfItsDocument()
    {
        var docs = Path.GetFullPath(Path.Combine(TestPaths.RepoRoot, "..", "shared", "docs"));
        if (!Directory.Exists(docs)) return; // the specification lives beside the checkout, not in it
        foreach (var section in Rules.All.Select(r => r.Section).Distinct())
        {
            var path = Path.Combine(docs, section.Document);
            Assert.True(File.Exists(path), $"{section.Document} not found in {docs}");
            var headings = File.ReadLines(path).Select(l => Heading().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value.Trim());
            Assert.Contains(section.Heading, headings);
        }
    }

    [GeneratedRegex("^#+ (.*)$")]
    private static partial Regex Heading();
}
