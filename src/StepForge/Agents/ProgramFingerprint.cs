using System.Security.Cryptography;
using System.Text;
using StepForge.PyLite;

namespace StepForge.Agents;

/// <summary>
/// A program's structure without its names and layout: local names are renamed in order of first assignment and
/// comments, spacing and blank lines are dropped. Two samples with one fingerprint are the same program.
/// </summary>
public static class ProgramFingerprint
{
    public static string Of(string impl)
    {
        IReadOnlyList<Token> tokens;
        HashSet<string> locals;
        try
        {
            tokens = Lexer.Tokenize(impl);
            locals = [.. Parser.ParseModule(impl).Body.OfType<AssignStmt>().SelectMany(a => a.Targets).SelectMany(Names)];
        }
        catch (PyLiteSyntaxException)
        {
            return Hash(string.Join("\n", impl.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))));
        }
        var renamed = new Dictionary<string, string>();
        var text = new StringBuilder();
        foreach (var token in tokens)
        {
            var spelling = token.Kind == TokenKind.Name && locals.Contains(token.Text)
                ? renamed.TryGetValue(token.Text, out var r) ? r : renamed[token.Text] = "v" + renamed.Count
                : token.Kind is TokenKind.String or TokenKind.FString ? "'" + token.Text + "'" : token.Text;
            text.Append(spelling).Append(token.Kind == TokenKind.Newline ? "\n" : " ");
        }
        return Hash(text.ToString());
    }

    private static IEnumerable<string> Names(Expr target) => target switch
    {
        NameExpr n => [n.Name],
        TupleExpr t => t.Items.SelectMany(Names),
        ListExpr l => l.Items.SelectMany(Names),
        _ => [],
    };

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
}
