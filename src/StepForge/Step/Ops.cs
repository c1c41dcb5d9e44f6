namespace StepForge.Step;

/// <summary>One configured STeP operator, such as <c>step.Accum(fn=fn_add, b=1)</c>.</summary>
public abstract record StepOp
{
    public abstract string Name { get; }
}

public sealed record MapOp(FnDecl Fn) : StepOp { public override string Name => "Map"; }

public sealed record ZipOp : StepOp { public override string Name => "Zip"; }

public sealed record AccumOp(FnDecl Fn, int B) : StepOp { public override string Name => "Accum"; }

public sealed record ScanOp(FnDecl Fn, int B) : StepOp { public override string Name => "Scan"; }

public sealed record BufferizeOp(int A) : StepOp { public override string Name => "Bufferize"; }

public sealed record StreamifyOp : StepOp { public override string Name => "Streamify"; }

public sealed record PromoteOp(int B) : StepOp { public override string Name => "Promote"; }

public sealed record FlattenOp(ValueList<int> L) : StepOp { public override string Name => "Flatten"; }

public sealed record ReshapeOp(ValueList<int> L, Dim S) : StepOp { public override string Name => "Reshape"; }

public sealed record RepeatOp(Dim N) : StepOp { public override string Name => "Repeat"; }

public sealed record RepeatRefOp : StepOp { public override string Name => "RepeatRef"; }

public sealed record CopyOp : StepOp { public override string Name => "Copy"; }

public sealed record PartitionOp(Dim N) : StepOp { public override string Name => "Partition"; }

public sealed record MergeOp(FnDecl Fn) : StepOp { public override string Name => "Merge"; }

/// <summary>The kinds of configuration value an operator takes.</summary>
public enum ParamKind { Fn, Int, IntList, Dim }

/// <summary>The catalogue of the 14 operators: their configuration parameters in positional order.</summary>
public static class OpCatalog
{
    public static readonly IReadOnlyDictionary<string, (string Name, ParamKind Kind)[]> Parameters =
        new Dictionary<string, (string, ParamKind)[]>
        {
            ["Map"] = [("fn", ParamKind.Fn)],
            ["Zip"] = [],
            ["Accum"] = [("fn", ParamKind.Fn), ("b", ParamKind.Int)],
            ["Scan"] = [("fn", ParamKind.Fn), ("b", ParamKind.Int)],
            ["Bufferize"] = [("a", ParamKind.Int)],
            ["Streamify"] = [],
            ["Promote"] = [("b", ParamKind.Int)],
            ["Flatten"] = [("L", ParamKind.IntList)],
            ["Reshape"] = [("L", ParamKind.IntList), ("S", ParamKind.Dim)],
            ["Repeat"] = [("n", ParamKind.Dim)],
            ["RepeatRef"] = [],
            ["Copy"] = [],
            ["Partition"] = [("N", ParamKind.Dim)],
            ["Merge"] = [("fn", ParamKind.Fn)],
        };

    public static IEnumerable<string> Names => Parameters.Keys;
}
