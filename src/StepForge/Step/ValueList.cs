using System.Collections;
using System.Collections.Immutable;

namespace StepForge.Step;

/// <summary>An immutable list compared by its items, so that records holding lists compare by value.</summary>
public readonly struct ValueList<T> : IEquatable<ValueList<T>>, IReadOnlyList<T>
{
    private readonly ImmutableArray<T> _items;

    public ValueList(IEnumerable<T> items) => _items = [.. items];

    private ValueList(ImmutableArray<T> items) => _items = items;

    /// <summary>A list over <paramref name="items"/> itself, without a copy: the caller hands the array over and never writes to it again.</summary>
    public static ValueList<T> Own(T[] items) => new(System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(items));

    public static ValueList<T> Empty => new([]);

    private ImmutableArray<T> Items => _items.IsDefault ? [] : _items;

    public int Count => Items.Length;

    public T this[int index] => Items[index];

    /// <summary>The items from <paramref name="start"/> on; like Skip, a start past the end gives an empty list.</summary>
    public ValueList<T> Slice(int start) => Slice(start, Count);

    /// <summary>At most <paramref name="length"/> items from <paramref name="start"/>, clamped to the list as Skip and Take do.</summary>
    public ValueList<T> Slice(int start, int length)
    {
        start = Math.Clamp(start, 0, Count);
        return new(Items.Slice(start, Math.Clamp(length, 0, Count - start)));
    }

    public ValueList<T> Concat(IEnumerable<T> more) => new(Items.AddRange(more));

    public bool Equals(ValueList<T> other) => Items.SequenceEqual(other.Items);

    public override bool Equals(object? obj) => obj is ValueList<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in Items) hash.Add(item);
        return hash.ToHashCode();
    }

    public static bool operator ==(ValueList<T> left, ValueList<T> right) => left.Equals(right);

    public static bool operator !=(ValueList<T> left, ValueList<T> right) => !left.Equals(right);

    /// <summary>The items' own struct enumerator: a <c>foreach</c> over a ValueList allocates nothing.</summary>
    public ImmutableArray<T>.Enumerator GetEnumerator() => Items.GetEnumerator();

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => ((IEnumerable<T>)Items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<T>)Items).GetEnumerator();

    public override string ToString() => "[" + string.Join(", ", Items) + "]";
}
