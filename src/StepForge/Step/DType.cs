namespace StepForge.Step;

/// <summary>
/// A stream element type. Equality is structural, including symbolic buffer shapes.
/// Tuples are kept flat and never hold a single item (see <see cref="Tuple"/>).
/// </summary>
public abstract record DType
{
    public static readonly ScalarType Fp32 = new("fp32");

    public static DType Tuple(IEnumerable<DType> items)
    {
        var flat = new List<DType>();
        foreach (var item in items)
        {
            if (item is TupleType t) flat.AddRange(t.Items);
            else flat.Add(item);
        }
        return flat.Count == 1 ? flat[0] : new TupleType(new ValueList<DType>(flat));
    }

    /// <summary>The per-component types: the tuple's items, or the type itself.</summary>
    public IReadOnlyList<DType> Components => this is TupleType t ? t.Items : [this];

    public IEnumerable<Dim> AllDims => this switch
    {
        BufferType b => b.Element.AllDims.Concat(b.Shape),
        MultihotType m => [m.Width],
        TupleType t => t.Items.SelectMany(i => i.AllDims),
        _ => [],
    };
}

public sealed record ScalarType(string Name) : DType
{
    public override string ToString() => Name;
}

/// <summary>An on-chip buffer of <see cref="Element"/> with its own shape, innermost first.</summary>
public sealed record BufferType(DType Element, ValueList<Dim> Shape) : DType
{
    public override string ToString() => $"Buffer({Element}, {Shape})";
}

/// <summary>A 0/1 vector of length <see cref="Width"/>: the expert routing mask.</summary>
public sealed record MultihotType(ScalarType Element, Dim Width) : DType
{
    public override string ToString() => $"Multihot({Element}, {Width})";
}

public sealed record TupleType(ValueList<DType> Items) : DType
{
    public override string ToString() => "[" + string.Join(", ", Items) + "]";
}
