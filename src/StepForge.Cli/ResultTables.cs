using System.Globalization;
using System.Text;
using StepForge.Learning;
using StepForge.Reports;

namespace StepForge.Cli;

/// <summary>Result rows as text tables, CSV and JSON objects, for <c>run</c> and <c>report</c>.</summary>
public static class ResultTables
{
    private static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Money(decimal? cost) => cost is { } c ? "$" + c.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    /// <summary>A speedup as people read it: 1.63x.</summary>
    public static string Times(double? speedup) => speedup is { } s ? s.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-";

    /// <summary>A p of fast_p as a key and a column name: 1, 2, 1.5.</summary>
    public static string P(double p) => p.ToString("R", CultureInfo.InvariantCulture);

    private static string Figure(long? v) => v is long x ? x.ToString(CultureInfo.InvariantCulture) : "-";

    /// <summary>The fast_p columns the rows carry, in order.</summary>
    private static IReadOnlyList<double> FastPs(IReadOnlyList<ResultRow> rows) => rows.Count == 0 ? [] : [.. rows[0].FastAt.Keys.Order()];

    /// <summary>
    /// Per model and setting: a table of tasks (pass@k, tokens, and the cheapest correct program's cycles and on-chip
    /// bytes against the reference program's, with every distinct correct program's cycles) and a table of groups
    /// (pass@k and fast_p).
    /// </summary>
    public static void Print(TextWriter output, IReadOnlyList<ResultRow> tasks, IReadOnlyList<ResultRow> groups, IReadOnlyList<int> ks)
    {
        var fastPs = FastPs(tasks);
        void Table(string title, IReadOnlyList<ResultRow> rows, bool isGroup)
        {
            int width = Math.Max(title.Length, rows.Count == 0 ? 0 : rows.Max(r => r.Name.Length));
            var header = new StringBuilder($"{title.PadRight(width)}  ");
            if (!isGroup) header.Append($"{"group",-10}  ");
            else header.Append($"{"tasks",5}  {"solved",6}  ");
            header.Append($"{"samples",7}  {"correct",7}  {"unique",6}");
            foreach (var k in ks) header.Append($"  {"pass@" + k,8}");
            header.Append($"  {"tokens in",10}  {"tokens out",10}  {"cost",9}");
            if (!isGroup) header.Append($"  {"cycles",9}  {"ref cycles",10}  {"speedup",8}  {"on-chip B",9}  {"ref on-chip",11}  programs (cycles)");
            else
            {
                foreach (var p in fastPs) header.Append($"  {"fast_" + P(p),7}");
                header.Append($"  {"speedup",8}");
            }
            output.WriteLine(header.ToString());
            foreach (var r in rows)
            {
                var line = new StringBuilder($"{r.Name.PadRight(width)}  ");
                if (!isGroup) line.Append($"{(r.Group ?? "-"),-10}  ");
                else line.Append($"{r.Tasks,5}  {r.Solved,6}  ");
                line.Append($"{r.Samples,7}  {r.Correct,7}  {r.UniqueCorrect,6}");
                foreach (var k in ks) line.Append($"  {(r.PassAt.TryGetValue(k, out var p) ? F(p) : "-"),8}");
                line.Append($"  {r.InputTokens,10}  {r.OutputTokens,10}  {Money(r.Cost),9}");
                if (!isGroup)
                {
                    line.Append($"  {Figure(r.Best?.Cycles),9}  {Figure(r.Reference?.Cycles),10}  {Times(r.Speedup),8}  {Figure(r.Best?.OnChipBytes),9}  {Figure(r.Reference?.OnChipBytes),11}  ");
                    line.Append(r.Programs.Count == 0 ? "-" : string.Join(", ", r.Programs.Select(x => x.Cost.Cycles.ToString(CultureInfo.InvariantCulture))));
                }
                else
                {
                    foreach (var p in fastPs) line.Append($"  {F(r.FastAt.GetValueOrDefault(p)),7}");
                    line.Append($"  {Times(r.Speedup),8}");
                }
                output.WriteLine(line.ToString());
            }
        }
        foreach (var run in tasks.GroupBy(t => (t.Experiment, t.Model, t.Setting)))
        {
            output.WriteLine($"experiment {run.Key.Experiment}: {run.Key.Model}, setting {run.Key.Setting}");
            Table("task", [.. run], isGroup: false);
            output.WriteLine();
            Table("group", [.. groups.Where(g => g.Experiment == run.Key.Experiment && g.Model == run.Key.Model && g.Setting == run.Key.Setting)], isGroup: true);
            output.WriteLine();
        }
        output.WriteLine("cycles and on-chip B: the cheapest correct program's (stepforge cost), beside the task's reference program's; speedup = ref cycles / cycles " +
            "(a group's: the geometric mean); fast_p: the fraction of tasks with a correct program at least p times as fast as the reference");
    }

    /// <summary>The task (or group) rows as CSV, one record per row, numbers in the invariant culture.</summary>
    public static string Csv(IReadOnlyList<ResultRow> rows, IReadOnlyList<int> ks)
    {
        var fastPs = FastPs(rows);
        var csv = new CsvWriter([
            "model", "setting", "task", "group", "samples", "correct", "unique_correct", .. ks.Select(k => $"pass_at_{k}"),
            "input_tokens", "output_tokens", "cost", "best_cycles", "reference_cycles", "speedup", "best_onchip_bytes", "reference_onchip_bytes",
            .. fastPs.Select(p => "fast_" + P(p)),
        ]);
        static string? R(double? v) => v?.ToString("R", CultureInfo.InvariantCulture);
        static string? L(long? v) => v?.ToString(CultureInfo.InvariantCulture);
        foreach (var r in rows)
            csv.Record([
                r.Model, r.Setting, r.Name, r.Group, L(r.Samples), L(r.Correct), L(r.UniqueCorrect), .. ks.Select(k => R(r.PassAt.TryGetValue(k, out var p) ? p : null)),
                L(r.InputTokens), L(r.OutputTokens), r.Cost?.ToString(CultureInfo.InvariantCulture), L(r.Best?.Cycles), L(r.Reference?.Cycles), R(r.Speedup),
                L(r.Best?.OnChipBytes), L(r.Reference?.OnChipBytes), .. fastPs.Select(p => R(r.FastAt.GetValueOrDefault(p))),
            ]);
        return csv.ToString();
    }

    public static RowJson Json(ResultRow r) => new(
        r.Name, r.Group, r.Experiment, r.Model, r.Setting, r.Tasks, r.Solved, r.Samples, r.Correct, r.UniqueCorrect, r.Verdicts,
        r.PassAt.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
        r.InputTokens, r.OutputTokens, r.Cost, r.Best?.Cycles, r.Best?.OnChipBytes, r.Reference?.Cycles, r.Reference?.OnChipBytes, r.Speedup,
        r.FastAt.OrderBy(kv => kv.Key).ToDictionary(kv => P(kv.Key), kv => kv.Value),
        [.. r.Programs.Select(p => new ProgramJson(p.Program, p.Samples, p.Cost.Cycles, p.Cost.OnChipBytes, p.Cost.OffChipBytes, p.Cost.Flops, p.Speedup))]);
}
