using System.Globalization;

namespace StepForge.Step;

/// <summary>
/// One dimension of a stream or buffer shape. Dimensions compare symbolically: products are kept in a normal form
/// (constants multiplied, 1s dropped, factors sorted) so that <c>M*1 == M</c> and <c>M*N == N*M</c>.
/// </summary>
public abstract record Dim
{
    public static Dim Const(long value) => new ConstDim(value);

    public static Dim Symbol(string name) => new SymbolDim(name);

    public static readonly Dim One = new ConstDim(1);

    /// <summary>The normal form of a product of dimensions.</summary>
    public static Dim Product(IEnumerable<Dim> factors)
    {
        long constant = 1;
        var rest = new List<Dim>();
        foreach (var factor in factors)
        {
            switch (factor)
            {
                case ConstDim c: constant = checked(constant * c.Value); break;
                case ProductDim p:
                    foreach (var f in p.Factors)
                    {
                        if (f is ConstDim pc) constant = checked(constant * pc.Value);
                        else rest.Add(f);
                    }
                    break;
                default: rest.Add(factor); break;
            }
        }
        if (constant == 0) return new ConstDim(0);
        rest.Sort((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()));
        if (constant != 1) rest.Insert(0, new ConstDim(constant));
        return rest.Count switch
        {
            0 => One,
            1 => rest[0],
            _ => new ProductDim(new ValueList<Dim>(rest)),
        };
    }

    /// <summary>The size of this dimension under the given symbol sizes, or null when it is only known at run time.</summary>
    public abstract long? Evaluate(IReadOnlyDictionary<string, long> sizes);

    public abstract IEnumerable<string> Symbols { get; }

    public bool IsDynamic => this switch
    {
        DynamicDim => true,
        ProductDim p => p.Factors.Any(f => f.IsDynamic),
        QuotientDim q => q.Dividend.IsDynamic,
        _ => false,
    };
}

public sealed record ConstDim(long Value) : Dim
{
    public override long? Evaluate(IReadOnlyDictionary<string, long> sizes) => Value;

    public override IEnumerable<string> Symbols => [];

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

public sealed record SymbolDim(string Name) : Dim
{
    public override long? Evaluate(IReadOnlyDictionary<string, long> sizes) => sizes.TryGetValue(Name, out var v) ? v : null;

    public override IEnumerable<string> Symbols => [Name];

    public override string ToString() => Name;
}

public sealed record ProductDim(ValueList<Dim> Factors) : Dim
{
    public override long? Evaluate(IReadOnlyDictionary<string, long> sizes)
    {
        long result = 1;
        foreach (var f in Factors)
        {
            var v = f.Evaluate(sizes);
            if (v is null) return null;
            result = checked(result * v.Value);
        }
        return result;
    }

    public override IEnumerable<string> Symbols => Factors.SelectMany(f => f.Symbols);

    public override string ToString() => string.Join("*", Factors.Select(f => f is ProductDim or QuotientDim ? $"({f})" : f.ToString()));
}

/// <summary><c>s/S</c> after Reshape, when the quotient does not simplify symbolically.</summary>
public sealed record QuotientDim(Dim Dividend, long Divisor) : Dim
{
    public override long? Evaluate(IReadOnlyDictionary<string, long> sizes) => Dividend.Evaluate(sizes) / Divisor;

    public override IEnumerable<string> Symbols => Dividend.Symbols;

    public override string ToString() =>
        (Dividend is ProductDim ? $"({Dividend})" : Dividend.ToString()) + "/" + Divisor.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The element count of one Partition output: known only when the program runs.</summary>
public sealed record DynamicDim(string Origin) : Dim
{
    public override long? Evaluate(IReadOnlyDictionary<string, long> sizes) => null;

    public override IEnumerable<string> Symbols => [];

    public override string ToString() => "?" + Origin;
}
