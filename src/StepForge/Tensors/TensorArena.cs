namespace StepForge.Tensors;

/// <summary>
/// Recycles the storage of large tensors on one thread. A verification at large sizes allocates tens of megabytes of
/// tensors that all die when its verdict is known, and the next verification of the task needs the same sizes again.
/// Taken from the collector each time, that memory is faulted in fresh from the operating system, cleared and copied
/// between generations (on a virtual machine that cost more than the arithmetic, and more per element the larger the
/// sizes); taken from here, it is memory the thread has just used.
/// </summary>
/// <remarks>
/// The rule of a scope: no tensor allocated while it is open is used after it closes. Whatever must outlive it (a
/// verifier's cached data and reference) is allocated under <see cref="Suspend"/>. Debug builds fill storage with NaN
/// as it is returned, so a tensor used after its scope gives wrong results in the tests instead of quietly reading a
/// later tensor's values. Which array a tensor gets never changes a value it holds: an uninitialized tensor is fully
/// written before it is read, a zeroed one is cleared.
/// </remarks>
public static class TensorArena
{
    /// <summary>Smaller tensors are left to the collector: its youngest generation handles them well.</summary>
    internal const int MinPooledLength = 1 << 14;

    /// <summary>
    /// The most storage a thread's open scopes hold, and the most it keeps idle between scopes. A scope holds what it
    /// rented until it closes, dead or not (a chunked Map's chunks die one after another), so past this the collector
    /// allocates instead: the memory a verification needs grows by at most this much. Every task at
    /// M=64 N=128 K=128 D=128 with less than this much data rents all of it.
    /// </summary>
    internal const long MaxHeldBytes = 64L << 20;

    [ThreadStatic] private static Scope? _current;
    [ThreadStatic] private static Pool? _pool;

    /// <summary>
    /// Opens a scope on this thread: large tensors allocated until it is disposed take recycled storage and give it
    /// back when it is disposed. Scopes nest; each gives back only what was allocated while it was the innermost.
    /// </summary>
    public static Scope Open()
    {
        var scope = new Scope(_current, suspended: false);
        _current = scope;
        return scope;
    }

    /// <summary>Until disposed, tensors are allocated by the collector, even inside an open scope: for tensors that outlive it.</summary>
    public static Scope Suspend()
    {
        var scope = new Scope(_current, suspended: true);
        _current = scope;
        return scope;
    }

    /// <summary>Storage for <paramref name="length"/> values from the innermost open scope; null when none is open or the tensor is small.</summary>
    internal static float[]? Rent(int length, bool zeroed)
    {
        if (_current is not { Suspended: false } scope || length < MinPooledLength) return null;
        var pool = _pool ??= new Pool();
        long bytes = (long)length * sizeof(float);
        if (pool.HeldBytes + bytes > MaxHeldBytes) return null;
        pool.HeldBytes += bytes;
        var array = pool.Take(length);
        // Pooled storage lives long: on the pinned heap the collector never copies it from generation to generation.
        if (array is null)
            array = zeroed ? GC.AllocateArray<float>(length, pinned: true) : GC.AllocateUninitializedArray<float>(length, pinned: true);
        else if (zeroed)
            Array.Clear(array);
        scope.Rented.Add(array);
        return array;
    }

    /// <summary>
    /// Counts the scopes closed on this thread. A cache of tensors (a deferred Map's last chunk) that was filled inside
    /// a scope is stale once the count moves: its storage may have been handed out again.
    /// </summary>
    internal static long Closings => _closings;

    [ThreadStatic] private static long _closings;

    /// <summary>
    /// Says that a value was stored where it may outlive the innermost scope (an fn body assigning into a global list or
    /// dict): every open scope then gives its storage to the collector instead of recycling it, so the value stays
    /// what it was for as long as anything refers to it.
    /// </summary>
    public static void NoteEscape()
    {
        for (var scope = _current; scope is not null; scope = scope.Outer) scope.Escaped = true;
    }

    /// <summary>Bytes this thread keeps idle for the next scope.</summary>
    internal static long IdleBytes => _pool?.IdleBytes ?? 0;

    /// <summary>An open scope or suspension; dispose it on the thread that opened it, innermost first.</summary>
    public sealed class Scope : IDisposable
    {
        private bool _closed;

        internal Scope(Scope? outer, bool suspended)
        {
            Outer = outer;
            Suspended = suspended;
        }

        internal Scope? Outer { get; }

        internal bool Suspended { get; }

        internal bool Escaped { get; set; }

        internal List<float[]> Rented { get; } = [];

        public void Dispose()
        {
            if (_closed) return;
            // Checked before closing, so that a scope disposed out of order can still be closed in order afterwards.
            if (!ReferenceEquals(_current, this))
                throw new InvalidOperationException("tensor arena scopes must be closed innermost first, on the thread that opened them");
            _closed = true;
            _current = Outer;
            _closings++;
            if (Rented.Count > 0) _pool!.Give(Rented, recycle: !Escaped);
            // A suspension recycles nothing, so it does not end a generation of the pool.
            if (Outer is null && !Suspended) _pool?.Trim();
        }
    }

    /// <summary>Idle arrays by length. Lengths no scope asked for since the last outermost scope closed are dropped then.</summary>
    private sealed class Pool
    {
        private readonly Dictionary<int, Entry> _byLength = [];
        private int _generation;

        public long IdleBytes { get; private set; }

        /// <summary>Bytes rented by the open scopes and not yet given back.</summary>
        public long HeldBytes { get; set; }

        private sealed class Entry
        {
            public readonly Stack<float[]> Idle = new();
            public int LastAsked;
        }

        public float[]? Take(int length)
        {
            if (!_byLength.TryGetValue(length, out var entry)) _byLength[length] = entry = new Entry();
            entry.LastAsked = _generation;
            if (!entry.Idle.TryPop(out var array)) return null;
            IdleBytes -= (long)length * sizeof(float);
            return array;
        }

        public void Give(List<float[]> arrays, bool recycle)
        {
            foreach (var array in arrays)
            {
                long bytes = (long)array.Length * sizeof(float);
                HeldBytes -= bytes;
                if (!recycle || IdleBytes + bytes > MaxHeldBytes) continue;
#if DEBUG
                Array.Fill(array, float.NaN);
#endif
                if (!_byLength.TryGetValue(array.Length, out var entry)) _byLength[array.Length] = entry = new Entry { LastAsked = _generation };
                entry.Idle.Push(array);
                IdleBytes += bytes;
            }
        }

        public void Trim()
        {
            foreach (var (length, entry) in _byLength.ToList())
                if (entry.LastAsked != _generation)
                {
                    IdleBytes -= (long)length * sizeof(float) * entry.Idle.Count;
                    _byLength.Remove(length);
                }
            _generation++;
        }
    }
}
