namespace StepForge.Tasks;

/// <summary>A task file that cannot be used: which file, which key, what is wrong, and where.</summary>
public sealed class TaskFileException(string path, string? key, string problem, int? line = null)
    : Exception(Format(path, key, problem, line))
{
    public string Path { get; } = path;
    public string? Key { get; } = key;
    public string Problem { get; } = problem;
    public int? Line { get; } = line;

    private static string Format(string path, string? key, string problem, int? line) =>
        path + (line is null ? "" : $":{line}") + ": " + (key is null ? "" : $"{key}: ") + problem;
}
