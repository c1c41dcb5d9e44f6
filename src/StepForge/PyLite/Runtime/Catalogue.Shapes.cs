using StepForge.Tensors;

namespace StepForge.PyLite.Runtime;

/// <summary>Shape and indexing functions, and products (matmul, mm, bmm, ...). Dims are per element.</summary>
internal static partial class Catalogue
{
    /// <summary>The tensor with size-1 dims put in front of its per-element dims, up to <paramref name="rank"/> of them.</summary>
    private static Tensor Lift(Call c, Tensor x, int rank) =>
        c.Rank(x) >= rank ? x : x.Reshape([.. x.Shape[..c.Lead], .. Enumerable.Repeat(1, rank - c.Rank(x)), .. c.Shape(x)]);

    /// <summary>The physical shape of per-element <paramref name="sizes"/> under this call's batch dims.</summary>
    private static int[] WithLead(Call c, Tensor x, int[] sizes) => [.. x.Shape[..(x.Rank - c.Rank(x))], .. sizes];

    private static int[] DimList(Call c, Tensor x, IReadOnlyList<object?> items) => [.. items.Select(i => c.Dim(x, c.Args.ToInt(i, "dim")))];

    private static IEnumerable<TorchFunction> Shapes() =>
    [
        new("reshape", TM, ["input", "*shape"], Reshape),
        new("view", M, ["input", "*shape"], c => c.Args.Star() is [TorchDType]
            ? throw new UnsupportedFeatureException("Tensor.view(dtype)", "it reinterprets bits")
            : Reshape(c)),
        new("view_as", M, ["input", "other"], c => c.Tensor("input").Reshape(WithLead(c, c.Tensor("input"), c.ShapeOf("other")))),
        new("reshape_as", M, ["input", "other"], c => c.Tensor("input").Reshape(WithLead(c, c.Tensor("input"), c.ShapeOf("other")))),
        new("expand", M, ["input", "*size"], c => Expand(c, c.Sizes(c.Args.Star(), allowInfer: true))),
        new("expand_as", M, ["input", "other"], c => Expand(c, c.ShapeOf("other"))),
        new("repeat", M, ["input", "*repeats"], c =>
        {
            var (x, reps) = (c.Tensor("input"), c.Sizes(c.Args.Star()));
            if (reps.Length < c.Rank(x)) throw new TensorException("repeat(): needs at least as many sizes as the tensor has dimensions");
            return Lift(c, x, reps.Length).Tile([.. Enumerable.Repeat(1, c.Lead), .. reps]);
        }),
        new("tile", TM, ["input", "*dims"], c =>
        {
            var (x, reps) = (c.Tensor("input"), c.Sizes(c.Args.Star()));
            reps = [.. Enumerable.Repeat(1, Math.Max(0, c.Rank(x) - reps.Length)), .. reps];
            return Lift(c, x, reps.Length).Tile([.. Enumerable.Repeat(1, c.Lead), .. reps]);
        }),
        new("permute", TM, ["input", "*dims"], c =>
        {
            var x = c.Tensor("input");
            var dims = DimList(c, x, c.Args.Star());
            if (dims.Length != c.Rank(x)) throw new TensorException($"permute(): {dims.Length} dims given for a tensor with {c.Rank(x)}");
            return x.Permute([.. Enumerable.Range(0, c.Lead), .. dims]);
        }),
        new("transpose", TM, ["input", "dim0", "dim1"], c =>
        {
            var x = c.Tensor("input");
            if (c.Rank(x) == 0)
            {
                // A 0-d tensor accepts dims 0 and -1 and is its own transpose.
                _ = c.Dims(x, c.Raw("dim0"));
                _ = c.Dims(x, c.Raw("dim1"));
                return x;
            }
            return x.Transpose(c.Dim(x, c.Int("dim0")), c.Dim(x, c.Int("dim1")));
        }) { Aliases = ["swapaxes", "swapdims"] },
        new("t", TM, ["input"], c =>
        {
            var x = c.Tensor("input");
            if (c.Rank(x) > 2) throw new TensorException($"t() expects a tensor with <= 2 dimensions, but it has {c.Rank(x)}");
            return c.Rank(x) < 2 ? x : x.Transpose(c.Lead, c.Lead + 1);
        }),
        new("movedim", TM, ["input", "source", "destination"], c =>
        {
            var x = c.Tensor("input");
            if (c.Raw("source") is PyTuple or PyList || c.Raw("destination") is PyTuple or PyList)
                throw new UnsupportedFeatureException("movedim with tuples of dims");
            return x.Movedim(c.Dim(x, c.Int("source")), c.Dim(x, c.Int("destination")));
        }) { Aliases = ["moveaxis"] },
        new("unsqueeze", TM, ["input", "dim"], c =>
        {
            var x = c.Tensor("input");
            int rank = c.Rank(x), dim = c.Int("dim"), d = dim < 0 ? dim + rank + 1 : dim;
            if (d < 0 || d > rank) throw new TensorException($"unsqueeze(): dimension {dim} is out of range for a tensor with {rank} dimension(s)");
            return x.Unsqueeze(d + c.Lead);
        }),
        new("squeeze", TM, ["input", "dim"], c =>
        {
            var x = c.Tensor("input");
            if (!c.Has("dim")) return x.Reshape(WithLead(c, x, [.. c.Shape(x).Where(s => s != 1)]));
            var dims = c.Dims(x, c.Raw("dim"));
            return x.Reshape([.. x.Shape.Where((s, i) => !(s == 1 && dims.Contains(i)))]);
        }),
        new("flatten", TM, ["input", "start_dim", "end_dim"], c =>
        {
            var x = c.Tensor("input");
            if (c.Rank(x) == 0) return x.Reshape(WithLead(c, x, [1]));
            return x.Flatten(c.Dim(x, c.Int("start_dim", 0)), c.Dim(x, c.Int("end_dim", -1)));
        }),
        new("unflatten", TM, ["input", "dim", "sizes"], c =>
        {
            var x = c.Tensor("input");
            return TensorMath.Unflatten(x, c.Dim(x, c.Int("dim")), c.Sizes(Torch.Items(c.Raw("sizes")), allowInfer: true));
        }),
        new("flip", TM, ["input", "*dims"], c => TensorMath.Flip(c.Tensor("input"), DimList(c, c.Tensor("input"), c.Args.Star()))),
        new("roll", TM, ["input", "shifts", "dims"], Roll),
        new("narrow", TM, ["input", "dim", "start", "length"], c =>
        {
            var x = c.Tensor("input");
            return TensorMath.Narrow(x, c.Dim(x, c.Int("dim")), Operators.ToLong(c.Raw("start")), Operators.ToLong(c.Raw("length")));
        }),
        new("select", TM, ["input", "dim", "index"], c =>
        {
            var x = c.Tensor("input");
            return TensorMath.Select(x, c.Dim(x, c.Int("dim")), Operators.ToLong(c.Raw("index")));
        }),
        new("gather", TM, ["input", "dim", "index", "sparse_grad"], c =>
        {
            var x = c.Tensor("input");
            return TensorMath.Gather(x, c.Dim(x, c.Int("dim")), c.Tensor("index"));
        }) { Broadcast = [], Stacked = ["input", "index"] },
        new("index_select", TM, ["input", "dim", "index"], c =>
        {
            var x = c.Tensor("input");
            if (c.Rank(x) == 0) return TensorMath.IndexSelect(x.Unsqueeze(x.Rank), x.Rank, c.Tensor("index")).Reshape(x.Shape);
            return TensorMath.IndexSelect(x, c.Dim(x, c.Int("dim")), c.Tensor("index"));
        }),
        new("take_along_dim", TM, ["input", "indices", "dim"], c =>
        {
            var (x, indices) = (c.Tensor("input"), c.Tensor("indices"));
            if (!c.Has("dim")) return TensorMath.Gather(c.Flat(x), c.Lead, c.Flat(indices));
            return TensorMath.TakeAlongDim(x, indices, c.Dim(x, c.Int("dim")));
        }) { Broadcast = [], Stacked = ["input", "indices"] },
        new("scatter", TMI, ["input", "dim", "index", "src", "value", "reduce"], Scatter) { Broadcast = [], Stacked = ["input", "index", "src"] },
        new("scatter_add", TMI, ["input", "dim", "index", "src"], c =>
        {
            var x = c.Tensor("input");
            return TensorMath.ScatterSource(x, c.Dim(x, c.Int("dim")), c.Tensor("index"), c.Tensor("src"), add: true);
        }) { Broadcast = [], Stacked = ["input", "index", "src"] },
        new("tril", TMI, ["input", "diagonal"], c => Triangle(c, upper: false)),
        new("triu", TMI, ["input", "diagonal"], c => Triangle(c, upper: true)),
        new("split", TM, ["tensor", "split_size_or_sections", "dim"], c =>
        {
            var x = c.Tensor("tensor");
            int d = c.Dim(x, c.Int("dim", 0));
            var sizes = c.Raw("split_size_or_sections") is PyList or PyTuple
                ? c.Sizes(Torch.Items(c.Raw("split_size_or_sections")))
                : TensorMath.SplitSizes(x.Shape[d], c.Int("split_size_or_sections"));
            return new PyTuple([.. TensorMath.Split(x, sizes, d)]);
        }),
        new("chunk", TM, ["input", "chunks", "dim"], c =>
        {
            var x = c.Tensor("input");
            return new PyTuple([.. x.Chunk(c.Int("chunks"), c.Dim(x, c.Int("dim", 0)))]);
        }),
        new("unbind", TM, ["input", "dim"], c =>
        {
            var x = c.Tensor("input");
            int d = c.Dim(x, c.Int("dim", 0));
            return new PyTuple([.. Enumerable.Range(0, x.Shape[d]).Select(i => (object?)TensorMath.Select(x, d, i))]);
        }),
        new("repeat_interleave", TM, ["input", "repeats", "dim", "output_size"], RepeatInterleave),
        new("cat", T, ["tensors", "dim"], c => Concat(c, stack: false)) { Broadcast = [], Stacked = ["tensors"], Aliases = ["concat", "concatenate"] },
        new("stack", T, ["tensors", "dim"], c => Concat(c, stack: true)) { Broadcast = [], Stacked = ["tensors"] },
    ];

    private static Tensor Reshape(Call c)
    {
        var x = c.Tensor("input");
        var sizes = c.Sizes(c.Args.Star(), allowInfer: true);
        if (sizes.Count(s => s == -1) > 1) throw new TensorException("reshape(): only one dimension can be inferred");
        return x.Reshape(WithLead(c, x, sizes));
    }

    /// <summary>Tensor.expand: size-1 dims (and new leading ones) repeated; -1 keeps a dim.</summary>
    private static Tensor Expand(Call c, int[] sizes)
    {
        var x = c.Tensor("input");
        if (sizes.Length < c.Rank(x)) throw new TensorException($"expand(): {sizes.Length} sizes given for a tensor with {c.Rank(x)} dimensions");
        int lead = sizes.Length - c.Rank(x);
        if (sizes.Take(lead).Any(s => s < 0)) throw new TensorException("expand(): -1 is not allowed for a new leading dimension");
        var lifted = Lift(c, x, sizes.Length);
        return lifted.BroadcastTo([.. Enumerable.Repeat(c.BatchSize, c.Lead), .. sizes]);
    }

    private static Tensor Roll(Call c)
    {
        var x = c.Tensor("input");
        var shifts = c.Raw("shifts") is PyTuple or PyList ? Torch.Items(c.Raw("shifts")) : [c.Raw("shifts")];
        if (!c.Has("dims"))
        {
            if (shifts.Count != 1) throw new TensorException("roll(): shifts and dims must align");
            return TensorMath.Roll(c.Flat(x), c.Args.ToInt(shifts[0], "shifts"), c.Lead).Reshape(x.Shape);
        }
        var dims = c.Raw("dims") is PyTuple or PyList ? Torch.Items(c.Raw("dims")) : [c.Raw("dims")];
        if (dims.Count != shifts.Count) throw new TensorException($"roll(): {shifts.Count} shifts for {dims.Count} dims");
        for (int i = 0; i < dims.Count; i++) x = TensorMath.Roll(x, c.Args.ToInt(shifts[i], "shifts"), c.Dim(x, c.Args.ToInt(dims[i], "dims")));
        return x;
    }

    private static Tensor Scatter(Call c)
    {
        if (c.Has("reduce")) throw new UnsupportedFeatureException("scatter with reduce=");
        var x = c.Tensor("input");
        int dim = c.Rank(x) == 0 ? c.Lead : c.Dim(x, c.Int("dim"));
        var source = c.Raw("src") ?? c.Raw("value") ?? throw new TensorException("scatter() needs src or value");
        if (source is Tensor or Batched) return TensorMath.ScatterSource(x, dim, c.Tensor("index"), c.Tensor("src"), add: false);
        return TensorMath.Scatter(x, dim, c.Tensor("index"), (float)Operators.ToDouble(source));
    }

    private static Tensor Triangle(Call c, bool upper)
    {
        var x = c.Tensor("input");
        if (c.Rank(x) < 2) throw new TensorException($"{(upper ? "triu" : "tril")}(): input must have at least 2 dimensions");
        return TensorMath.Triangle(x, Operators.ToLong(c.Raw("diagonal", 0L)), upper);
    }

    /// <summary>repeat_interleave(input, repeats, dim), and the one-argument form repeat_interleave(repeats) (indices).</summary>
    private static Tensor RepeatInterleave(Call c)
    {
        if (!c.Has("repeats"))
        {
            var counts = c.Tensor("input");
            if (c.Lead > 0) throw new NotBatchableException("repeat_interleave(repeats)");
            var positions = TensorMath.Arange(0, counts.Count, 1, ElementKind.Int);
            return TensorMath.RepeatInterleave(positions, RepeatCounts(counts), 0);
        }
        var x = c.Tensor("input");
        var repeats = c.Raw("repeats") is Tensor t ? RepeatCounts(t) : [Operators.ToLong(c.Raw("repeats"))];
        if (!c.Has("dim")) return TensorMath.RepeatInterleave(c.Flat(x), repeats, c.Lead);
        return (Tensor)c.Along(x, c.Int("dim"), (u, d) => TensorMath.RepeatInterleave(u, repeats, d))!;
    }

    private static long[] RepeatCounts(Tensor t)
    {
        if (t.Kind != ElementKind.Int || t.Rank > 1) throw new TensorException("repeat_interleave(): repeats must be an int64 tensor of 0 or 1 dimensions");
        return [.. t.Data.Select(v => (long)v)];
    }

    /// <summary>torch.cat / torch.stack: dims are per element, counted against the first tensor's rank.</summary>
    private static Tensor Concat(Call c, bool stack)
    {
        var tensors = c.Tensors("tensors");
        if (tensors.Count == 0) throw new TensorException($"{c.Name}() needs a non-empty list of tensors");
        int rank = c.Rank(tensors[0]) + (stack ? 1 : 0), dim = c.Int("dim", 0), d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) throw new TensorException($"{c.Name}(): dimension {dim} is out of range for {rank} dimension(s)");
        return stack ? Tensor.Stack(tensors, d + c.Lead) : Tensor.Cat(tensors, d + c.Lead);
    }

    private static void RequireRanks(Call c, string a, int ra, string b, int rb)
    {
        if (c.RankOf(a) != ra || c.RankOf(b) != rb)
            throw new TensorException($"{c.Name}() expects {ra}-d and {rb}-d tensors, got {c.RankOf(a)}-d and {c.RankOf(b)}-d");
    }

    /// <summary>beta * input + alpha * product, as baddbmm and addmm; beta = 0 ignores input (NaN included).</summary>
    private static Tensor AddProduct(Call c, Tensor product)
    {
        if (c.Has("alpha")) product = TensorMath.Binary(BinaryKind.Mul, product, Operators.ToTensor(c.Raw("alpha")));
        var input = Lift(c, c.Tensor("input"), c.Rank(product));
        if (c.Has("beta") && Operators.ToDouble(c.Raw("beta")) == 0) return product;
        if (c.Has("beta")) input = TensorMath.Binary(BinaryKind.Mul, input, Operators.ToTensor(c.Raw("beta")));
        var sum = TensorMath.Binary(BinaryKind.Add, input, product);
        if (!c.Shape(sum).SequenceEqual(c.Shape(product))) throw new TensorException($"{c.Name}(): input does not broadcast to the product's shape");
        return sum;
    }

    private static IEnumerable<TorchFunction> Products() =>
    [
        new("matmul", TM, ["input", "other"], c => c.Matmul(c.Raw("input"), c.Raw("other"))) { Broadcast = [] },
        new("mm", TM, ["input", "mat2"], c =>
        {
            RequireRanks(c, "input", 2, "mat2", 2);
            return c.Matmul(c.Raw("input"), c.Raw("mat2"));
        }) { Broadcast = [] },
        new("bmm", TM, ["input", "mat2"], c =>
        {
            RequireRanks(c, "input", 3, "mat2", 3);
            return c.Matmul(c.Raw("input"), c.Raw("mat2"));
        }) { Broadcast = [] },
        new("mv", TM, ["input", "vec"], c =>
        {
            RequireRanks(c, "input", 2, "vec", 1);
            return c.Matmul(c.Raw("input"), c.Raw("vec"));
        }) { Broadcast = [] },
        new("dot", TM, ["input", "other"], c =>
        {
            RequireRanks(c, "input", 1, "other", 1);
            if (c.ShapeOf("input")[0] != c.ShapeOf("other")[0]) throw new TensorException("dot(): the two vectors need the same length");
            return c.Matmul(c.Raw("input"), c.Raw("other"));
        }) { Broadcast = [] },
        new("outer", TM, ["input", "vec2"], c =>
        {
            RequireRanks(c, "input", 1, "vec2", 1);
            var (x, y) = (c.Tensor("input"), c.Tensor("vec2"));
            return TensorMath.Binary(BinaryKind.Mul, x.Unsqueeze(x.Rank), y.Unsqueeze(y.Rank - 1));
        }) { Broadcast = ["input", "vec2"], Aliases = ["ger"] },
        new("baddbmm", TMI, ["input", "batch1", "batch2", "beta", "alpha"], c =>
        {
            RequireRanks(c, "batch1", 3, "batch2", 3);
            return AddProduct(c, c.Matmul(c.Raw("batch1"), c.Raw("batch2")));
        }),
        new("addmm", TMI, ["input", "mat1", "mat2", "beta", "alpha"], c =>
        {
            RequireRanks(c, "mat1", 2, "mat2", 2);
            return AddProduct(c, c.Matmul(c.Raw("mat1"), c.Raw("mat2")));
        }),
        new("einsum", T, ["equation", "*operands"], c =>
        {
            if (c.Raw("equation") is not string equation) throw new TensorException("einsum() needs an equation string first");
            var operands = c.Args.Star();
            return c.Lead == 0 ? TensorMath.Einsum(equation, [.. operands.Select(Operators.ToTensor)]) : Batching.Einsum(equation, operands).Value;
        }) { Broadcast = [] },
    ];
}
