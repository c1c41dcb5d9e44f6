namespace StepForge.Step;

/// <summary>
/// The static type of a stream: its element type and its shape, innermost dimension first.
/// The rank is always one less than the number of dimensions.
/// </summary>
public sealed record StreamType(DType DType, ValueList<Dim> Shape)
{
    public int Rank => Shape.Count - 1;

    public static string FormatShape(IEnumerable<Dim> shape) => "[" + string.Join(", ", shape) + "]";

    public override string ToString() => $"{{dtype: {DType}, dims: {FormatShape(Shape)}}}";

    /// <summary>
    /// The tensor dimensions (outermost first, as torch sees them) of each component of this stream:
    /// the reverse of the element's dims followed by the stream's dims.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<Dim>> TensorDims() =>
        [.. DType.Components.Select(c => (IReadOnlyList<Dim>)ElementDims(c).Concat(Shape).Reverse().ToList())];

    /// <summary>The innermost-first dims that one element of type <paramref name="element"/> contributes.</summary>
    public static IEnumerable<Dim> ElementDims(DType element) => element switch
    {
        BufferType b => ElementDims(b.Element).Concat(b.Shape),
        MultihotType m => [m.Width],
        ScalarType => [],
        _ => throw new ArgumentException($"a tuple has no single layout: {element}", nameof(element)),
    };

    /// <summary>How many dims <see cref="ElementDims"/> gives for <paramref name="element"/>, counted without enumerating them.</summary>
    public static int ElementRank(DType element) => element switch
    {
        BufferType b => ElementRank(b.Element) + b.Shape.Count,
        MultihotType => 1,
        ScalarType => 0,
        _ => throw new ArgumentException($"a tuple has no single layout: {element}", nameof(element)),
    };
}
