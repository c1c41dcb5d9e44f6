using System.Globalization;
using System.Text;
using StepForge.Learning;

namespace StepForge.Cli;

/// <summary>Result rows as text tables, CSV and JSON objects, for <c>run</c> and <c>report</c>.</summary>
public static class ResultTables
{
    private static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Money(decimal? cost) => cost is { } c ? "$" + c.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    /// <summary>Per model and setting: a table of tasks and a table of groups.</summary>
    public static void Print(TextWriter output, IReadOnlyList<ResultRow> tasks, IReadOnlyList<ResultRow> groups, IReadOnlyList<int> ks)
    {
        void Table(string title, IReadOnlyList<ResultRow> rows, bool isGroup)
        {
            int width = Math.Max(title.Length, rows.Count == 0 ? 0 : rows.Max(r => r.Name.Length));
            var header = new StringBuilder($"{title.PadRight(width)}  ");
            if (!isGroup) header.Append($"{"group",-10}  ");
            else header.Append($"{"tasks",5}  {"solved",6}  ");
            header.Append($"{"samples",7}  {"correct",7}  {"unique",6}");
            foreach (var k in ks) header.Append($"  {"pass@" + k,8}");
            header.Append($"  {"tokens in",10}  {"tokens out",10}  {"cost",9}");
            output.WriteLine(header.ToString());
            foreach (var r in rows)
            {
                var line = new StringBuilder($"{r.Name.PadRight(width)}  ");
                if (!isGroup) line.Append($"{(r.Group ?? "-"),-10}  ");
                else line.Append($"{r.Tasks,5}  {r.Solved,6}  ");
                line.Append($"{r.Samples,7}  {r.Correct,7}  {r.UniqueCorrect,6}");
                foreach (var k in ks) line.Append($"  {(r.PassAt.TryGetValue(k, out var p) ? F(p) : "-"),8}");
                line.Append($"  {r.InputTokens,10}  {r.OutputTokens,10}  {Money(r.Cost),9}");
                output.WriteLine(line.ToString());
            }
        }
        foreach (var run in tasks.GroupBy(t => (t.Model, t.Setting)))
        {
            output.WriteLine($"{run.Key.Model}, setting {run.Key.Setting}");
            Table("task", [.. run], isGroup: false);
            output.WriteLine();
            Table("group", [.. groups.Where(g => g.Model == run.Key.Model && g.Setting == run.Key.Setting)], isGroup: true);
            output.WriteLine();
        }
    }

    public static string Csv(IReadOnlyList<ResultRow> rows, IReadOnlyList<int> ks)
    {
        var s = new StringBuilder("model,setting,task,group,samples,correct,unique_correct");
        foreach (var k in ks) s.Append(CultureInfo.InvariantCulture, $",pass_at_{k}");
        s.AppendLine(",input_tokens,output_tokens,cost");
        static string Q(string? v) => v is null ? "" : v.Contains(',', StringComparison.Ordinal) || v.Contains('"', StringComparison.Ordinal) ? "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : v;
        foreach (var r in rows)
        {
            s.Append(CultureInfo.InvariantCulture, $"{Q(r.Model)},{Q(r.Setting)},{Q(r.Name)},{Q(r.Group)},{r.Samples},{r.Correct},{r.UniqueCorrect}");
            foreach (var k in ks) s.Append(',').Append(r.PassAt.TryGetValue(k, out var p) ? p.ToString("R", CultureInfo.InvariantCulture) : "");
            s.AppendLine(CultureInfo.InvariantCulture, $",{r.InputTokens},{r.OutputTokens},{(r.Cost is { } c ? c.ToString(CultureInfo.InvariantCulture) : "")}");
        }
        return s.ToString();
    }

    public static object Json(ResultRow r) => new
    {
        name = r.Name,
        group = r.Group,
        model = r.Model,
        setting = r.Setting,
        tasks = r.Tasks,
        solved = r.Solved,
        samples = r.Samples,
        correct = r.Correct,
        unique_correct = r.UniqueCorrect,
        pass_at = r.PassAt.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
        input_tokens = r.InputTokens,
        output_tokens = r.OutputTokens,
        cost = r.Cost,
    };
}
