using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace StepForge.Cli;

/// <summary>
/// Option values checked by System.CommandLine's validators, with the one-line messages the commands have always given:
/// a refused value stops the invocation before any action runs (exit 2), and an action reads values known to be good.
/// </summary>
public static class OptionValues
{
    /// <summary>Refuses a given value of the option for which <paramref name="problem"/> returns a message.</summary>
    public static Option<T> Refusing<T>(this Option<T> option, ConsoleIo io, Func<T, string?> problem)
    {
        option.Validators.Add(result =>
        {
            if (problem(result.GetValueOrDefault<T>()) is { } message) io.Refuse(result, message);
        });
        return option;
    }

    /// <summary>
    /// Refuses a word shaped like an option (<c>-x</c>, <c>--name</c>) among files and folders: System.CommandLine hands
    /// a positional argument every word it does not know, so a mistyped option would otherwise be reported as a file
    /// that does not exist. A file or folder of that name is taken as one.
    /// </summary>
    public static Argument<string[]> RefusingUnknownOptions(this Argument<string[]> argument, ConsoleIo io)
    {
        argument.Validators.Add(result =>
        {
            if (result.Tokens.Select(t => t.Value).FirstOrDefault(LooksLikeUnknownOption) is not { } word) return;
            var command = CommandPath(result.Parent);
            io.Refuse(result, $"{word}: not an option of stepforge {command} (stepforge {command} --help lists its options)");
        });
        return argument;
    }

    private static bool LooksLikeUnknownOption(string word) =>
        word.Length > 1 && word[0] == '-' && !File.Exists(word) && !Directory.Exists(word);

    /// <summary>The words that name a command below the root, such as <c>bench verify</c>.</summary>
    private static string CommandPath(SymbolResult? result)
    {
        var names = new List<string>();
        for (; result is CommandResult { Parent: not null } command; result = command.Parent) names.Insert(0, command.Command.Name);
        return string.Join(" ", names);
    }

    /// <summary>
    /// The value of an option as a command validator sees it; false when the parser could not convert it (that is an
    /// error of its own already, and System.CommandLine throws when such a value is read).
    /// </summary>
    public static bool TryGet<T>(this CommandResult result, Option<T> option, out T? value)
    {
        try
        {
            value = result.GetValue(option);
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default;
            return false;
        }
    }

    /// <summary>A comma-separated list such as 1,5,10: distinct values in the order given; false when one does not parse or is not valid.</summary>
    public static bool TryParseList<T>(string text, Func<string, IFormatProvider, T> parse, Func<T, bool> valid, out IReadOnlyList<T> values)
    {
        var result = new List<T>();
        values = result;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                var value = parse(part, CultureInfo.InvariantCulture);
                if (!valid(value)) return false;
                if (!result.Contains(value)) result.Add(value);
            }
            catch (FormatException) { return false; }
            catch (OverflowException) { return false; }
        }
        return result.Count > 0;
    }

    /// <summary>The k of pass@k: positive integers, comma-separated.</summary>
    public static Option<string> Ks(ConsoleIo io) =>
        new Option<string>("--k") { Description = "The k of pass@k to report, comma-separated.", DefaultValueFactory = _ => "1,5,10" }
            .Refusing(io, text => TryParseList(text, int.Parse, k => k >= 1, out _) ? null : $"--k {text}: expected positive integers, comma-separated");

    public static IReadOnlyList<int> Ks(ParseResult parsed, Option<string> option) =>
        TryParseList(parsed.GetValue(option)!, int.Parse, k => k >= 1, out var ks) ? ks : throw Unchecked(option);

    /// <summary>More p of fast_p than 1 and 2: positive numbers, comma-separated.</summary>
    public static Option<string?> FastPs(ConsoleIo io) =>
        new Option<string?>("--fast-p") { Description = "More p for fast_p (fast_1 and fast_2 are always shown), comma-separated, e.g. 1.5,4.", HelpName = "P[,P...]" }
            .Refusing(io, text => text is null || TryParseList(text, double.Parse, p => p > 0 && double.IsFinite(p), out _) ? null
                : $"--fast-p {text}: expected positive numbers, comma-separated");

    /// <summary>fast_1, fast_2 and the --fast-p values, in order.</summary>
    public static IReadOnlyList<double> FastPs(ParseResult parsed, Option<string?> option) =>
        parsed.GetValue(option) is not { } text ? Learning.RunSummary.FastPs()
        : TryParseList(text, double.Parse, p => p > 0 && double.IsFinite(p), out var extra) ? Learning.RunSummary.FastPs(extra)
        : throw Unchecked(option);

    /// <summary>--size SYM=VALUE options (repeatable), refused with the first one that is malformed.</summary>
    public static Option<string[]> Sizes(this Option<string[]> option, ConsoleIo io) =>
        option.Refusing(io, items => items.FirstOrDefault(i => Size(i) is null) is { } bad
            ? $"{option.Name} {bad}: expected SYM=VALUE with a positive integer value, as in {option.Name} M=16"
            : null);

    public static Dictionary<string, long> Sizes(ParseResult parsed, Option<string[]> option)
    {
        var sizes = new Dictionary<string, long>();
        foreach (var item in parsed.GetValue(option) ?? [])
        {
            var (symbol, value) = Size(item) ?? throw Unchecked(option);
            sizes[symbol] = value;
        }
        return sizes;
    }

    private static (string Symbol, long Value)? Size(string item)
    {
        var parts = item.Split('=', 2);
        return parts.Length == 2 && parts[0].Length > 0 && parts[0].All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v is > 0 and <= 1_000_000
            ? (parts[0], v)
            : null;
    }

    /// <summary>An action read a value its validator should have refused: a bug, reported as an internal error.</summary>
    public static InvalidOperationException Unchecked(Option option) => new($"{option.Name} was not validated");
}
