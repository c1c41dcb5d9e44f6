using System.Globalization;
using System.Net;
using System.Text;
using StepForge.Learning;

namespace StepForge.Reports;

/// <summary>Writes a report as one HTML page with its SVG images beside it: no script, no network.</summary>
public static class HtmlReport
{
    public const string CurvesImage = "learning-curves.svg";
    public const string SolvedImage = "solved-by-model.svg";
    public const string SpeedupImage = "speedup-by-task.svg";

    /// <returns>The page's path.</returns>
    public static string Write(Report report, string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, CurvesImage), SvgChart.LearningCurves(report.Curves));
        File.WriteAllText(Path.Combine(folder, SolvedImage), SvgChart.SolvedFractions(report.Solved));
        File.WriteAllText(Path.Combine(folder, SpeedupImage), SvgChart.Speedups(report.Tasks));
        var page = Path.Combine(folder, "index.html");
        File.WriteAllText(page, Page(report));
        return page;
    }

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string Page(Report report)
    {
        var s = new StringBuilder();
        s.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>StepForge report</title><style>");
        s.AppendLine("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}" +
                     "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}" +
                     "h2{margin-top:1.6em}.note{color:#555;font-size:90%}");
        s.AppendLine("</style></head><body>");
        s.AppendLine("<h1>StepForge report</h1>");
        s.Append("<p class=\"note\">From ").AppendJoin(", ", report.Stores.Select(E)).AppendLine(". pass@k: the unbiased estimator of Chen et al. (2021), " +
            "over all samples of a task (self-improvement iterations pooled); a group's pass@k is the mean over its tasks.</p>");
        s.AppendLine("<h2>Learning curves</h2>");
        if (report.Curves.Count == 0) s.AppendLine("<p>No self-improvement run in these stores.</p>");
        else
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"<img src=\"{CurvesImage}\" alt=\"tasks solved against input tokens\">");
            s.AppendLine("<table><tr><th class=\"l\">run</th><th class=\"l\">model</th><th class=\"l\">setting</th><th>iteration</th><th>input tokens</th><th>output tokens</th><th>solved</th><th>solved (test)</th><th>Pareto-optimal</th></tr>");
            foreach (var curve in report.Curves)
                foreach (var p in curve.Points)
                    s.AppendLine(CultureInfo.InvariantCulture,
                        $"<tr><td class=\"l\">{E(curve.Run)}</td><td class=\"l\">{E(curve.Model)}</td><td class=\"l\">{E(curve.Setting)}</td><td>{p.Iteration}</td><td>{p.InputTokens:N0}</td><td>{p.OutputTokens:N0}</td><td>{p.Solved}</td><td>{p.SolvedTest}</td><td>{(p.ParetoOptimal ? "yes" : "")}</td></tr>");
            s.AppendLine("</table>");
        }
        s.AppendLine("<h2>Solved by model and setting</h2>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<img src=\"{SolvedImage}\" alt=\"solved fraction by model and setting\">");
        s.AppendLine("<h2>Speed against the reference program</h2>");
        s.AppendLine("<p class=\"note\">Costs from the cost model of cost-model.md (stepforge cost), at each task's own sizes: speedup = the reference " +
            "program's cycles / the cheapest correct program's cycles; fast_p = the fraction of tasks with a correct program at least p times as " +
            "fast as the reference (a group's speedup is the geometric mean over its tasks).</p>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<img src=\"{SpeedupImage}\" alt=\"speedup over the reference program per task\">");
        s.AppendLine("<h2>By model and setting</h2>");
        Table(s, report.Groups.Where(g => g.Name == "all").ToList(), report.Ks, report.FastPs, first: null);
        s.AppendLine("<h2>By group</h2>");
        Table(s, report.Groups.Where(g => g.Name != "all").ToList(), report.Ks, report.FastPs, first: "group");
        s.AppendLine("<h2>By task</h2>");
        Table(s, report.Tasks, report.Ks, report.FastPs, first: "task");
        s.AppendLine("</body></html>");
        return s.ToString();
    }

    private static string Figure(long? v) => v is long x ? x.ToString("N0", CultureInfo.InvariantCulture) : "–";

    private static string Times(double? v) => v is double x ? x.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "–";

    private static void Table(StringBuilder s, IReadOnlyList<ResultRow> rows, IReadOnlyList<int> ks, IReadOnlyList<double> fastPs, string? first)
    {
        bool tasks = first == "task";
        s.Append("<table><tr><th class=\"l\">model</th><th class=\"l\">setting</th>");
        if (first is not null) s.Append(CultureInfo.InvariantCulture, $"<th class=\"l\">{first}</th>");
        s.Append("<th>tasks</th><th>solved</th><th>samples</th><th>correct</th><th>unique</th>");
        foreach (var k in ks) s.Append(CultureInfo.InvariantCulture, $"<th>pass@{k}</th>");
        s.Append("<th>tokens in</th><th>tokens out</th><th>cost</th>");
        if (tasks) s.Append("<th>cycles</th><th>ref cycles</th><th>speedup</th><th>on-chip B</th><th>ref on-chip B</th><th class=\"l\">correct programs (cycles)</th>");
        else
        {
            foreach (var p in fastPs) s.Append(CultureInfo.InvariantCulture, $"<th>fast_{p.ToString("R", CultureInfo.InvariantCulture)}</th>");
            s.Append("<th>speedup</th>");
        }
        s.AppendLine("</tr>");
        foreach (var r in rows)
        {
            s.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"l\">{E(r.Model)}</td><td class=\"l\">{E(r.Setting)}</td>");
            if (first is not null) s.Append(CultureInfo.InvariantCulture, $"<td class=\"l\">{E(r.Name)}</td>");
            s.Append(CultureInfo.InvariantCulture, $"<td>{r.Tasks}</td><td>{r.Solved}</td><td>{r.Samples}</td><td>{r.Correct}</td><td>{r.UniqueCorrect}</td>");
            foreach (var k in ks) s.Append("<td>").Append(r.PassAt.TryGetValue(k, out var p) ? p.ToString("0.000", CultureInfo.InvariantCulture) : "–").Append("</td>");
            s.Append(CultureInfo.InvariantCulture, $"<td>{r.InputTokens:N0}</td><td>{r.OutputTokens:N0}</td><td>{(r.Cost is { } c ? "$" + c.ToString("0.0000", CultureInfo.InvariantCulture) : "–")}</td>");
            if (tasks)
                s.Append(CultureInfo.InvariantCulture, $"<td>{Figure(r.Best?.Cycles)}</td><td>{Figure(r.Reference?.Cycles)}</td><td>{Times(r.Speedup)}</td><td>{Figure(r.Best?.OnChipBytes)}</td>" +
                    $"<td>{Figure(r.Reference?.OnChipBytes)}</td><td class=\"l\">{(r.Programs.Count == 0 ? "–" : string.Join(", ", r.Programs.Select(p => Figure(p.Cost.Cycles))))}</td>");
            else
            {
                foreach (var p in fastPs) s.Append("<td>").Append(r.FastAt.GetValueOrDefault(p).ToString("0.000", CultureInfo.InvariantCulture)).Append("</td>");
                s.Append("<td>").Append(Times(r.Speedup)).Append("</td>");
            }
            s.AppendLine("</tr>");
        }
        s.AppendLine("</table>");
    }
}
