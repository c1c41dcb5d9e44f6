using System.Collections.Concurrent;

namespace StepForge.PyLite;

/// <summary>
/// Parsed task snippets (fn bodies, references, global blocks) and candidate programs of ordinary length, shared
/// across verifications and threads: a task's own code is the same for every candidate, and samplers propose the
/// same program many times. Syntax trees are immutable. The cache forgets everything when it grows past its bound.
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
