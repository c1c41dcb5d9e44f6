using System.Collections.Concurrent;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Reflection;

namespace StepForge.Cli;

/// <summary>
/// The <c>stepforge</c> command line. Exit codes: 0 all candidates accepted, 1 some rejected,
/// 2 bad invocation or bad task file, 3 an internal error (a bug: please report it).
/// </summary>
public static class StepForgeCli
{
    public const int ExitOk = 0;
    public const int ExitRejected = 1;
    public const int ExitBadInput = 2;
    public const int ExitInternal = 3;

    /// <summary>The exit codes as every command's help ends with them: what 0 and 1 mean there, and the 2 and 3 all commands share.</summary>
    public static string ExitCodes(string zero, string? one) =>
        $"Exit codes: 0 {zero}; " + (one is null ? "" : $"1 {one}; ") +
        "2 a bad invocation, task file or store (one line on stderr); 3 an internal error (a bug: please report it).";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand(
            "StepForge writes STeP (Streaming Tensor Programs) operators with LLM agents or its built-in search, and verifies them.\n" +
            ExitCodes("when every candidate was accepted (or the work was done)", "when some candidate was rejected (or some work is left)"));
        var io = new ConsoleIo(stdout, stderr, stdin);
        root.Add(CheckCommand.Create(io));
        root.Add(VerifyCommand.Create(io));
        root.Add(CostCommand.Create(io));
        root.Add(RunCommand.Create(io));
        root.Add(ImproveCommand.Create(io));
        root.Add(ReportCommand.Create(io));
        root.Add(SynthesizeCommand.Create(io));
        root.Add(BenchCommand.Create(io));
        root.SetAction(_ =>
        {
            stderr.WriteLine("stepforge: error: no command given; see the list below");
            root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = stderr, Error = stderr });
            return ExitBadInput;
        });

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) stderr.WriteLine($"stepforge: error: {error.Message}");
            // A value the validators refused says what to give instead; the usage hint is for what the parser did not understand.
            if (parsed.Errors.Any(e => !io.Refused(e.Message)))
                stderr.WriteLine("Run 'stepforge --help' or 'stepforge COMMAND --help' for usage.");
            return ExitBadInput;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                // Ctrl+C cancels the token the actions get; a run then stops at the next sample, says where its samples
                // are and exits 1. Nothing forces the exit sooner: what is stored is complete, and the same command continues.
                ProcessTerminationTimeout = Timeout.InfiniteTimeSpan,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (DiskFull(e) is { } where)
        {
            // Every sample is stored in its own transaction: what was stored stays, and the same command continues.
            stderr.WriteLine($"stepforge: error: the disk is full ({where}); what was stored is kept: free some space and run the same command again to continue");
            return ExitBadInput;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"stepforge: internal error: {e.GetType().Name}: {e.Message.Split('\n')[0]} (this is a bug in StepForge; please report it)");
            return ExitInternal;
        }
    }

    /// <summary>The version with the commit it was built from, as <c>--version</c> prints it (VERSION+COMMIT).</summary>
    public static string Version { get; } =
        typeof(StepForgeCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The command line as given, for the records an experiment and a report keep (words with spaces or quotes quoted).</summary>
    public static string CommandLine(ParseResult parsed) =>
        string.Join(" ", ["stepforge", .. parsed.Tokens.Select(t => t.Value.Length > 0 && t.Value.All(c => !char.IsWhiteSpace(c) && c is not ('\'' or '"' or '\\'))
            ? t.Value
            : "'" + t.Value.Replace("'", "'\\''", StringComparison.Ordinal) + "'")]);

    /// <summary>What was being written when the disk filled up (SQLite's SQLITE_FULL, or ENOSPC from a file), else null.</summary>
    public static string? DiskFull(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 13 } sqlite) return $"SQLite: {sqlite.Message.Split('\n')[0]}";
            // ENOSPC is 28 on Linux; .NET reports it in the low bits of HResult.
            if (inner is IOException io && (io.HResult & 0xFFFF) == 28) return io.Message.Split('\n')[0];
        }
        return null;
    }
}

/// <summary>
/// The streams a command reads and writes, so that tests can run commands in-process; and the problems its
/// validators found in option values (each a line of its own, with no usage hint needed).
/// </summary>
public sealed record ConsoleIo(TextWriter Out, TextWriter Error, TextReader In)
{
    private readonly ConcurrentDictionary<string, bool> _refused = new(StringComparer.Ordinal);

    /// <summary>Refuses a parsed value with a one-line message naming the option and what it expects.</summary>
    public void Refuse(SymbolResult result, string message)
    {
        _refused[message] = true;
        result.AddError(message);
    }

    public bool Refused(string message) => _refused.ContainsKey(message);
}
