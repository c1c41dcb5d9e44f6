using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <summary>
/// Seeded input and parameter data, laid out as step-semantics.md says (tensor dims are the reverse of the
/// element dims followed by the stream dims). The generator is ours, not torch's: the same seed gives the same
/// data on every machine, and the reference is computed from the same tensors.
/// </summary>
public static class DataGenerator
{
    /// <summary>The torch shape of one stream component at the given sizes.</summary>
    public static int[] TensorShape(StreamType type, DType component, IReadOnlyDictionary<string, long> sizes)
    {
        // The element's dims and then the stream's, innermost first, reversed into row-major order.
        var dims = new Dim[StreamType.ElementRank(component) + type.Shape.Count];
        int at = dims.Length;
        foreach (var d in StreamType.ElementDims(component)) dims[--at] = d;
        foreach (var d in type.Shape) dims[--at] = d;
        var shape = new int[dims.Length];
        for (int i = 0; i < shape.Length; i++) shape[i] = Size(dims[i], sizes);
        return shape;
    }

    public static int Size(Dim d, IReadOnlyDictionary<string, long> sizes)
    {
        var v = d.Evaluate(sizes) ?? throw new TensorException($"dimension {d} has no size");
        return v is <= 0 or > int.MaxValue ? throw new LimitExceededException($"dimension {d} = {v} is out of range") : (int)v;
    }

    /// <summary>One tensor per component of the input's dtype.</summary>
    public static Tensor[] Generate(InputSpec input, IReadOnlyDictionary<string, long> sizes, int seed)
    {
        var rng = new Random(unchecked(seed * 1_000_003 + StableHash(input.Name)));
        return [.. input.Type.DType.Components.Select(c => GenerateComponent(input, c, sizes, rng))];
    }

    private static Tensor GenerateComponent(InputSpec input, DType component, IReadOnlyDictionary<string, long> sizes, Random rng)
    {
        var shape = TensorShape(input.Type, component, sizes);
        var tensor = Tensor.Allocate(shape);
        var data = tensor.Data;
        if (component is MultihotType || component is BufferType { Element: MultihotType })
        {
            int width = shape[^1];
            int min = Math.Min(input.MinOnes ?? 1, width), max = Math.Min(input.MaxOnes ?? min, width);
            var experts = Enumerable.Range(0, width).ToArray();
            for (int row = 0; row < data.Length / width; row++)
            {
                int ones = rng.Next(min, max + 1);
                rng.Shuffle(experts);
                for (int j = 0; j < ones; j++) data[row * width + experts[j]] = 1;
            }
            return tensor;
        }
        switch (input.DataGen)
        {
            case "torch.rand":
                for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
                break;
            case "torch.randn":
                for (int i = 0; i < data.Length; i++) data[i] = (float)Normal(rng);
                break;
            case "torch.ones":
                Array.Fill(data, 1f);
                break;
            case "torch.zeros":
                break;
            case "binary":
                for (int i = 0; i < data.Length; i++) data[i] = rng.Next(2);
                break;
            default:
                throw new TensorException($"unknown data_gen '{input.DataGen}' for {input.Name}");
        }
        return tensor;
    }

    private static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>string.GetHashCode is randomized per process; data must not be.</summary>
    private static int StableHash(string s)
    {
        unchecked
        {
            int h = 17;
            foreach (char c in s) h = h * 31 + c;
            return h;
        }
    }
}
