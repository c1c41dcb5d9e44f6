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

    /// <returns>The page's path.</returns>
    public static string Write(Report report, string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, CurvesImage), SvgChart.LearningCurves(report.Curves));
        File.WriteAllText(Path.Combine(folder, SolvedImage), SvgChart.SolvedFractions(report.Solved));
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
        s.AppendLine("<h2>By model and setting</h2>");
        Table(s, report.Groups.Where(g => g.Name == "all").ToList(), report.Ks, first: null);
        s.AppendLine("<h2>By group</h2>");
        Table(s, report.Groups.Where(g => g.Name != "all").ToList(), report.Ks, first: "group");
        s.AppendLine("<h2>By task</h2>");
        Table(s, report.Tasks, report.Ks, first: "task");
        s.AppendLine("</body></html>");
        return s.ToString();
    }

    private static void Table(StringBuilder s, IReadOnlyList<ResultRow> rows, IReadOnlyList<int> ks, string? first)
    {
        s.Append("<table><tr><th class=\"l\">model</th><th class=\"l\">setting</th>");
        if (first is not null) s.Append(CultureInfo.InvariantCulture, $"<th class=\"l\">{first}</th>");
        s.Append("<th>tasks</th><th>solved</th><th>samples</th><th>correct</th><th>unique</th>");
        foreach (var k in ks) s.Append(CultureInfo.InvariantCulture, $"<th>pass@{k}</th>");
        s.AppendLine("<th>tokens in</th><th>tokens out</th><th>cost</th></tr>");
        foreach (var r in rows)
        {
            s.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"l\">{E(r.Model)}</td><td class=\"l\">{E(r.Setting)}</td>");
            if (first is not null) s.Append(CultureInfo.InvariantCulture, $"<td class=\"l\">{E(r.Name)}</td>");
            s.Append(CultureInfo.InvariantCulture, $"<td>{r.Tasks}</td><td>{r.Solved}</td><td>{r.Samples}</td><td>{r.Correct}</td><td>{r.UniqueCorrect}</td>");
            foreach (var k in ks) s.Append("<td>").Append(r.PassAt.TryGetValue(k, out var p) ? p.ToString("0.000", CultureInfo.InvariantCulture) : "–").Append("</td>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<td>{r.InputTokens:N0}</td><td>{r.OutputTokens:N0}</td><td>{(r.Cost is { } c ? "$" + c.ToString("0.0000", CultureInfo.InvariantCulture) : "–")}</td></tr>");
        }
        s.AppendLine("</table>");
    }
}
