using System.Collections.Concurrent;

namespace StepForge.PyLite;

/// <summary>
/// Parsed task snippets (fn bodies, references, global blocks), shared across verifications and threads: a task's
/// own code is the same for every candidate, so only the candidate's program needs parsing each time. Syntax trees
/// are immutable. The cache forgets everything when it grows past its bound.
/// </summary>
public static class ParsedSnippets
{
    private const int Capacity = 4096;
    private static readonly ConcurrentDictionary<string, Module> Cache = new(StringComparer.Ordinal);

    public static Module Get(string source)
    {
        if (Cache.TryGetValue(source, out var module)) return module;
        module = Parser.ParseModule(source);
        if (Cache.Count >= Capacity) Cache.Clear();
        Cache.TryAdd(source, module);
        return module;
    }
}
