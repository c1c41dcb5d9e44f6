namespace StepForge.Diagnostics;

/// <summary>A heading of one of the project's specification documents (in ../shared/docs beside the checkout).</summary>
public sealed record DocSection(string Document, string Heading)
{
    public override string ToString() => $"{Document} § {Heading}";
}

/// <summary>
/// One rule a verdict can name: its id (the <c>rule</c> of <c>stepforge verify --json</c>), a one-line title and the
/// section of the specification it implements. Declared once in <see cref="Rules"/>.
/// </summary>
public sealed record Rule(string Id, string Title, DocSection Section)
{
    public override string ToString() => Id;
}

/// <summary>The per-operator rules the binder reports for any operator.</summary>
public sealed record OpRules(Rule Config, Rule Input, Rule Arity);

/// <summary>
/// The catalogue of every rule a verdict or a type error names, as Roslyn lists its diagnostic descriptors: one field
/// per rule, and <see cref="All"/>. Ids are the ones verdicts have always carried; code refers to the fields, never to
/// an id written out.
/// </summary>
public static class Rules
{
    private const string Semantics = "step-semantics.md";

    public static readonly DocSection Operators = new(Semantics, "Operators");
    public static readonly DocSection Functions = new(Semantics, "Functions (`fns`)");
    public static readonly DocSection AffineTypes = new(Semantics, "Affine types");
    public static readonly DocSection Verification = new(Semantics, "Verification of a candidate");

    /// <summary>Budgets count work, never time: "Deterministic results" and "Untrusted code is interpreted".</summary>
    public static readonly DocSection Decisions = new("design.md", "Decisions and why");
    public static readonly DocSection CommandLine = new("design.md", "Command line (contract used by tests and scripts)");
    public static readonly DocSection FlowOfData = new("design.md", "The flow of data");
    public static readonly DocSection CostTime = new("cost-model.md", "Time: a timed run of the dataflow graph");

    // ---- the program as a whole (parse, names, statements, returns) ----
    public static readonly Rule Syntax = new("syntax", "the program parses in the restricted Python subset", Verification);
    public static readonly Rule Names = new("names", "the program names only its inputs, the task's fns, dimension symbols and globals", Verification);
    public static readonly Rule ProgramStatement = new("program.statement", "only assignments to names, loops over lists and return", Verification);
    public static readonly Rule ProgramUnpack = new("program.unpack", "an unpacking has as many names as values", Verification);
    public static readonly Rule ProgramExpression = new("program.expression", "only op applications, names, lists, integers and zip/range/len", Verification);
    public static readonly Rule ReturnLast = new("return.last", "return is the last statement", Verification);
    public static readonly Rule ReturnMissing = new("return.missing", "the program returns its output streams", Verification);
    public static readonly Rule ReturnStream = new("return.stream", "the program returns streams", Verification);
    public static readonly Rule ReturnCount = new("return.count", "one returned stream per task output", Verification);
    public static readonly Rule ReturnDtype = new("return.dtype", "each returned stream has its output's dtype", Verification);
    public static readonly Rule ReturnShape = new("return.shape", "each returned stream has its output's dims", Verification);

    // ---- affine types ----
    public static readonly Rule AffineSingleUse = new("affine.single-use", "every stream is consumed at most once", AffineTypes);
    public static readonly Rule AffineRepair = new("affine.repair", "a stream used twice can be duplicated with Copy where it is defined", AffineTypes);

    // ---- running the candidate and comparing its outputs ----
    public static readonly Rule Runtime = new("runtime", "the program runs on the task's generated inputs", Verification);
    public static readonly Rule CompareAllClose = new("compare.allclose", "every output is close to the reference (torch.testing.assert_close for float32)", Verification);
    public static readonly Rule CompareNonFinite = new("compare.nonfinite", "a NaN or infinity is matched only by the same value", Verification);

    // ---- limits: budgets that count work, so the same input gets the same verdict anywhere ----
    public static readonly Rule LimitWork = new("limit.work", "at most so many element operations per verification", Decisions);
    public static readonly Rule LimitTensor = new("limit.tensor", "at most so many elements in one tensor, list or string", Decisions);
    public static readonly Rule LimitSteps = new("limit.steps", "at most so many interpreter or binder steps", Decisions);
    public static readonly Rule LimitOps = new("limit.ops", "at most so many operators simulated", Decisions);
    public static readonly Rule LimitTime = new("limit.time", "the wall-clock safety net (retried, never stored as a verdict)", Decisions);
    public static readonly Rule LimitMemory = new("limit.memory", "at most so much memory per verification", Decisions);
    public static readonly Rule LimitDepth = new("limit.depth", "values nest at most so deep", Decisions);
    public static readonly Rule LimitInteger = new("limit.integer", "sizes and integers fit in 64 bits", Decisions);
    public static readonly Rule LimitStreams = new("limit.streams", "a program creates at most so many streams", Decisions);
    public static readonly Rule LimitList = new("limit.list", "a program's lists hold at most so many items", Decisions);

    /// <summary>The cost model's run stopped by some limit (which one is not recorded there).</summary>
    public static readonly Rule Limit = new("limit", "the cost model's run of the program stays within the limits", CostTime);
    public static readonly Rule LimitCost = new("limit.cost", "the timed run of the dataflow graph takes at most so many unit steps", CostTime);

    // ---- the task itself, and the agents around the verifier ----
    public static readonly Rule TaskFile = new("task-file", "the task file reads as a task", CommandLine);
    public static readonly Rule TaskReference = new("task-reference", "the task's own PyTorch code runs", CommandLine);
    public static readonly Rule TaskUnsupported = new("task.unsupported", "the task's own code uses only StepForge's PyTorch subset", CommandLine);
    public static readonly Rule Answer = new("answer", "a model's answer holds a program", FlowOfData);
    public static readonly Rule Unsolved = new("unsolved", "the proposer found a program", FlowOfData);
    public static readonly Rule Internal = new("internal", "the checker itself did not fail (a bug in StepForge if it did)", CommandLine);

    // ---- Map ----
    public static readonly Rule MapConfig = new("Map.config", "step.Map(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule MapInput = new("Map.input", "Map.apply gets streams where it takes streams", Operators);
    public static readonly Rule MapArity = new("Map.arity", "Map takes at least one stream (several are zipped)", Operators);
    public static readonly Rule MapZipShape = new("Map.zip-shape", "a tuple given to Map is zipped first: same rank and shape", Operators);
    public static readonly Rule MapFnInput = new("Map.fn-input", "fn.input == x.dtype", Operators);

    // ---- Zip ----
    public static readonly Rule ZipConfig = new("Zip.config", "step.Zip(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule ZipInput = new("Zip.input", "Zip.apply gets streams where it takes streams", Operators);
    public static readonly Rule ZipArity = new("Zip.arity", "Zip takes exactly two streams (x, y)", Operators);
    public static readonly Rule ZipSameShape = new("Zip.same-shape", "x and y have the same rank and shape", Operators);

    // ---- Accum ----
    public static readonly Rule AccumConfig = new("Accum.config", "step.Accum(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule AccumInput = new("Accum.input", "Accum.apply gets streams where it takes streams", Operators);
    public static readonly Rule AccumArity = new("Accum.arity", "Accum takes one stream", Operators);
    public static readonly Rule AccumFnInput = new("Accum.fn-input", "fn.input == x.dtype", Operators);
    public static readonly Rule AccumBRange = new("Accum.b-range", "0 < b <= rank", Operators);
    public static readonly Rule AccumFnInit = new("Accum.fn-init", "Accum folds a state, so fn has an init", Functions);

    // ---- Scan ----
    public static readonly Rule ScanConfig = new("Scan.config", "step.Scan(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule ScanInput = new("Scan.input", "Scan.apply gets streams where it takes streams", Operators);
    public static readonly Rule ScanArity = new("Scan.arity", "Scan takes one stream", Operators);
    public static readonly Rule ScanFnInput = new("Scan.fn-input", "fn.input == x.dtype", Operators);
    public static readonly Rule ScanBRange = new("Scan.b-range", "0 < b <= rank", Operators);
    public static readonly Rule ScanFnInit = new("Scan.fn-init", "Scan folds a state, so fn has an init", Functions);

    // ---- Bufferize ----
    public static readonly Rule BufferizeConfig = new("Bufferize.config", "step.Bufferize(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule BufferizeInput = new("Bufferize.input", "Bufferize.apply gets streams where it takes streams", Operators);
    public static readonly Rule BufferizeArity = new("Bufferize.arity", "Bufferize takes one stream", Operators);
    public static readonly Rule BufferizeARange = new("Bufferize.a-range", "0 < a <= rank", Operators);
    public static readonly Rule BufferizeElement = new("Bufferize.element", "a tuple stream cannot be buffered", Operators);

    // ---- Streamify ----
    public static readonly Rule StreamifyConfig = new("Streamify.config", "step.Streamify(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule StreamifyInput = new("Streamify.input", "Streamify.apply gets streams where it takes streams", Operators);
    public static readonly Rule StreamifyArity = new("Streamify.arity", "Streamify takes one stream", Operators);
    public static readonly Rule StreamifyBuffer = new("Streamify.buffer", "x.dtype is a Buffer", Operators);

    // ---- Promote ----
    public static readonly Rule PromoteConfig = new("Promote.config", "step.Promote(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule PromoteInput = new("Promote.input", "Promote.apply gets streams where it takes streams", Operators);
    public static readonly Rule PromoteArity = new("Promote.arity", "Promote takes one stream", Operators);
    public static readonly Rule PromoteBRange = new("Promote.b-range", "0 <= b <= rank + 1", Operators);

    // ---- Flatten ----
    public static readonly Rule FlattenConfig = new("Flatten.config", "step.Flatten(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule FlattenInput = new("Flatten.input", "Flatten.apply gets streams where it takes streams", Operators);
    public static readonly Rule FlattenArity = new("Flatten.arity", "Flatten takes one stream", Operators);
    public static readonly Rule FlattenConsecutive = new("Flatten.consecutive", "L is a list of consecutive positive integers", Operators);
    public static readonly Rule FlattenRange = new("Flatten.range", "L names dims of the input", Operators);

    // ---- Reshape ----
    public static readonly Rule ReshapeConfig = new("Reshape.config", "step.Reshape(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule ReshapeInput = new("Reshape.input", "Reshape.apply gets streams where it takes streams", Operators);
    public static readonly Rule ReshapeArity = new("Reshape.arity", "Reshape takes one stream", Operators);
    public static readonly Rule ReshapeRange = new("Reshape.range", "L lists distinct dim indices of the input", Operators);
    public static readonly Rule ReshapeDivisible = new("Reshape.divisible", "each dim at an index in L is divisible by S", Operators);

    // ---- Repeat ----
    public static readonly Rule RepeatConfig = new("Repeat.config", "step.Repeat(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule RepeatInput = new("Repeat.input", "Repeat.apply gets streams where it takes streams", Operators);
    public static readonly Rule RepeatArity = new("Repeat.arity", "Repeat takes one stream", Operators);
    public static readonly Rule RepeatCount = new("Repeat.count", "n is a positive dimension symbol or integer", Operators);

    // ---- RepeatRef ----
    public static readonly Rule RepeatRefConfig = new("RepeatRef.config", "step.RepeatRef(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule RepeatRefInput = new("RepeatRef.input", "RepeatRef.apply gets streams where it takes streams", Operators);
    public static readonly Rule RepeatRefArity = new("RepeatRef.arity", "RepeatRef takes a tuple (x, ref)", Operators);
    public static readonly Rule RepeatRefRank = new("RepeatRef.rank", "ref.rank == x.rank + 1", Operators);
    public static readonly Rule RepeatRefShape = new("RepeatRef.shape", "ref.shape[1:] == x.shape", Operators);

    // ---- Copy ----
    public static readonly Rule CopyConfig = new("Copy.config", "step.Copy(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule CopyInput = new("Copy.input", "Copy.apply gets streams where it takes streams", Operators);
    public static readonly Rule CopyArity = new("Copy.arity", "Copy takes one stream", Operators);

    // ---- Partition ----
    public static readonly Rule PartitionConfig = new("Partition.config", "step.Partition(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule PartitionInput = new("Partition.input", "Partition.apply gets streams where it takes streams", Operators);
    public static readonly Rule PartitionArity = new("Partition.arity", "Partition takes a tuple (x, idx)", Operators);
    public static readonly Rule PartitionIntegerCount = new("Partition.integer-count", "N is an integer (E_value), not a dimension symbol, as upstream's Partition needs", Operators);
    public static readonly Rule PartitionMultihot = new("Partition.multihot", "idx.dtype is Multihot(fp32, E)", Operators);
    public static readonly Rule PartitionShape = new("Partition.shape", "the outer dims of x equal idx.shape", Operators);
    public static readonly Rule PartitionCount = new("Partition.count", "N equals the multihot width E", Operators);

    // ---- Merge ----
    public static readonly Rule MergeConfig = new("Merge.config", "step.Merge(...) gets exactly the configuration values it takes, of the right kinds", Operators);
    public static readonly Rule MergeInput = new("Merge.input", "Merge.apply gets streams where it takes streams", Operators);
    public static readonly Rule MergeArity = new("Merge.arity", "Merge takes at least one expert stream and idx", Operators);
    public static readonly Rule MergeMultihot = new("Merge.multihot", "idx.dtype is Multihot(fp32, E)", Operators);
    public static readonly Rule MergeSameDtype = new("Merge.same-dtype", "the expert streams share one dtype", Operators);
    public static readonly Rule MergeSameShape = new("Merge.same-shape", "the expert streams share rank and shape except the outermost dim", Operators);
    public static readonly Rule MergeCount = new("Merge.count", "one stream per expert (the multihot width)", Operators);
    public static readonly Rule MergeFnInput = new("Merge.fn-input", "fn.input == the streams' dtype", Operators);
    public static readonly Rule MergeFnInit = new("Merge.fn-init", "Merge folds a state, so fn has an init", Functions);

    /// <summary>Every rule, in declaration order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        Syntax, Names, ProgramStatement, ProgramUnpack, ProgramExpression,
        ReturnLast, ReturnMissing, ReturnStream, ReturnCount, ReturnDtype, ReturnShape,
        MapConfig, MapInput, MapArity, MapZipShape, MapFnInput,
        ZipConfig, ZipInput, ZipArity, ZipSameShape,
        AccumConfig, AccumInput, AccumArity, AccumFnInput, AccumBRange, AccumFnInit,
        ScanConfig, ScanInput, ScanArity, ScanFnInput, ScanBRange, ScanFnInit,
        BufferizeConfig, BufferizeInput, BufferizeArity, BufferizeARange, BufferizeElement,
        StreamifyConfig, StreamifyInput, StreamifyArity, StreamifyBuffer,
        PromoteConfig, PromoteInput, PromoteArity, PromoteBRange,
        FlattenConfig, FlattenInput, FlattenArity, FlattenConsecutive, FlattenRange,
        ReshapeConfig, ReshapeInput, ReshapeArity, ReshapeRange, ReshapeDivisible,
        RepeatConfig, RepeatInput, RepeatArity, RepeatCount,
        RepeatRefConfig, RepeatRefInput, RepeatRefArity, RepeatRefRank, RepeatRefShape,
        CopyConfig, CopyInput, CopyArity,
        PartitionConfig, PartitionInput, PartitionArity, PartitionIntegerCount, PartitionMultihot, PartitionShape, PartitionCount,
        MergeConfig, MergeInput, MergeArity, MergeMultihot, MergeSameDtype, MergeSameShape, MergeCount, MergeFnInput, MergeFnInit,
        AffineSingleUse, AffineRepair,
        Runtime, CompareAllClose, CompareNonFinite,
        LimitWork, LimitTensor, LimitSteps, LimitOps, LimitTime, LimitMemory, LimitDepth, LimitInteger, LimitStreams, LimitList, Limit, LimitCost,
        TaskFile, TaskReference, TaskUnsupported, Answer, Unsolved, Internal,
    ];

    private static readonly Dictionary<string, OpRules> ByOp = new(StringComparer.Ordinal)
    {
            ["Map"] = new(MapConfig, MapInput, MapArity),
            ["Zip"] = new(ZipConfig, ZipInput, ZipArity),
            ["Accum"] = new(AccumConfig, AccumInput, AccumArity),
            ["Scan"] = new(ScanConfig, ScanInput, ScanArity),
            ["Bufferize"] = new(BufferizeConfig, BufferizeInput, BufferizeArity),
            ["Streamify"] = new(StreamifyConfig, StreamifyInput, StreamifyArity),
            ["Promote"] = new(PromoteConfig, PromoteInput, PromoteArity),
            ["Flatten"] = new(FlattenConfig, FlattenInput, FlattenArity),
            ["Reshape"] = new(ReshapeConfig, ReshapeInput, ReshapeArity),
            ["Repeat"] = new(RepeatConfig, RepeatInput, RepeatArity),
            ["RepeatRef"] = new(RepeatRefConfig, RepeatRefInput, RepeatRefArity),
            ["Copy"] = new(CopyConfig, CopyInput, CopyArity),
            ["Partition"] = new(PartitionConfig, PartitionInput, PartitionArity),
            ["Merge"] = new(MergeConfig, MergeInput, MergeArity),
    };

    private static readonly Dictionary<string, Rule> ById = All.ToDictionary(r => r.Id, StringComparer.Ordinal);

    /// <summary>The configuration, input and arity rules of the operator named <paramref name="op"/> (as <c>StepOp.Name</c>).</summary>
    public static OpRules Of(string op) => ByOp[op];

    /// <summary>The rule with this id, or null: for readers of stored verdicts.</summary>
    public static Rule? Find(string id) => ById.GetValueOrDefault(id);
}
