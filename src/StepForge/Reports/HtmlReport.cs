using System.Globalization;
using System.Net;
using System.Text;
using StepForge.Learning;

namespace StepForge.Reports;

/// <summary>Writes a report as one HTML page with its SVG images beside it: no script, no network.</summary>
public static class HtmlReport
{
    public const string CurvesImage = "learning-curves.svg";
    public const string PassAtKImage = "pass-at-k.svg";
    public const string SpeedupImage = "speedup-by-task.svg";

    /// <returns>The page's path.</returns>
    public static string Write(Report report, string folder)
    {
        Directory.CreateDirectory(folder);
        // One colour per experiment (model and setting) in every chart.
        var series = report.Groups.Where(g => g.Name == "all").Select(g => SvgChart.SeriesLabel(g.Experiment, g.Model, g.Setting))
            .Concat(report.Curves.Select(c => SvgChart.SeriesLabel(c.Experiment, c.Model, c.Setting))).Distinct().ToList();
        string ColorOf(string label) => SvgChart.Color(series.IndexOf(label));
        File.WriteAllText(Path.Combine(folder, PassAtKImage), SvgChart.PassAtK(report, ColorOf));
        File.WriteAllText(Path.Combine(folder, CurvesImage), SvgChart.LearningCurves(report.Curves, ColorOf));
        File.WriteAllText(Path.Combine(folder, SpeedupImage), SvgChart.Speedups(report.Tasks, ColorOf));
        var page = Path.Combine(folder, "index.html");
        File.WriteAllText(page, Page(report));
        return page;
    }

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string Number(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>The informational version as people read it: 0.7.0, commit fd2a4c3c1e2b.</summary>
    public static string VersionText(string? version)
    {
        if (version is null) return "not recorded";
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : $"{version[..plus]}, commit {version[(plus + 1)..][..Math.Min(12, version.Length - plus - 1)]}";
    }

    private static string Page(Report report)
    {
        var s = new StringBuilder();
        s.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>StepForge report</title><style>");
        s.AppendLine("body{font-family:sans-serif;margin:2em;color:#222;max-width:1500px}table{border-collapse:collapse;margin:1em 0;font-size:13px}" +
                     "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;vertical-align:top}th{background:#f3f3f3}td.l,th.l{text-align:left}" +
                     "table.meta th{text-align:left}td.n{white-space:nowrap}code{font-size:12px}h2{margin-top:1.6em}h3{font-size:15px;margin:1.2em 0 0}.note{color:#555;font-size:90%;max-width:70em}" +
                     "dl{font-size:13px;display:grid;grid-template-columns:max-content auto;gap:2px 14px;max-width:75em}dt{font-weight:bold}dd{margin:0}img{max-width:100%}");
        s.AppendLine("</style></head><body>");
        s.AppendLine("<h1>StepForge report</h1>");
        s.AppendLine("<table class=\"meta\">");
        if (report.Origin is { } origin)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"<tr><th>written by</th><td class=\"l\"><code>{E(origin.CommandLine)}</code></td></tr>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<tr><th>StepForge</th><td class=\"l\">{E(VersionText(origin.Version))}</td></tr>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<tr><th>date</th><td class=\"l\">{origin.Written.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC</td></tr>");
        }
        s.AppendLine(CultureInfo.InvariantCulture, $"<tr><th>stores</th><td class=\"l\">{string.Join("<br>", report.Stores.Select(p => $"<code>{E(p)}</code>"))}</td></tr>");
        s.AppendLine("</table>");

        Experiments(s, report);

        s.AppendLine("<h2>pass@k by group</h2>");
        s.AppendLine("<p class=\"note\">As the paper's Figure 7a: per experiment (model and setting), pass@k for each k in every group of tasks and in all of them; " +
            "the legend gives n, the samples per task the estimate is made from.</p>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<img src=\"{PassAtKImage}\" alt=\"pass@k by group, per experiment\">");

        s.AppendLine("<h2>Learning curves</h2>");
        if (report.Curves.Count == 0) s.AppendLine("<p>No self-improvement run in these stores.</p>");
        else
        {
            s.AppendLine("<p class=\"note\">As the paper's Figure 7b: tasks solved after each iteration of an improve run against the input tokens spent so far " +
                "(against the iteration when no tokens were spent), the training tasks and, beside them, the held-out ones.</p>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<img src=\"{CurvesImage}\" alt=\"tasks solved against input tokens\">");
            s.AppendLine("<table><tr><th class=\"l\">experiment</th><th class=\"l\">model</th><th class=\"l\">setting</th><th>iteration</th><th>input tokens</th>" +
                "<th>output tokens</th><th>solved (training)</th><th>solved (held-out)</th><th>Pareto-optimal</th></tr>");
            foreach (var curve in report.Curves)
                foreach (var p in curve.Points)
                    s.AppendLine(CultureInfo.InvariantCulture,
                        $"<tr><td class=\"l\">{E(curve.Experiment)}</td><td class=\"l\">{E(curve.Model)}</td><td class=\"l\">{E(curve.Setting)}</td><td>{p.Iteration}</td>" +
                        $"<td>{Number(p.InputTokens)}</td><td>{Number(p.OutputTokens)}</td><td>{p.Solved}/{curve.Tasks}</td>" +
                        $"<td>{(curve.TestTasks > 0 ? $"{p.SolvedTest}/{curve.TestTasks}" : "–")}</td><td>{(p.ParetoOptimal ? "yes" : "")}</td></tr>");
            s.AppendLine("</table>");
        }

        s.AppendLine("<h2>Speed against the reference program</h2>");
        s.AppendLine("<p class=\"note\">Costs from the cost model of cost-model.md (stepforge cost), at each task's own sizes: speedup = the reference " +
            "program's cycles / the cheapest correct program's cycles; fast_p = the fraction of tasks with a correct program at least p times as " +
            "fast as the reference (a group's speedup is the geometric mean over its tasks).</p>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<img src=\"{SpeedupImage}\" alt=\"speedup over the reference program per task\">");

        s.AppendLine("<h2>What the columns mean</h2>");
        Columns(s, report.Ks);
        s.AppendLine("<h2>By experiment</h2>");
        Table(s, [.. report.Groups.Where(g => g.Name == "all")], report.Ks, report.FastPs, first: null);
        // One table per experiment (model and setting), as the text report prints them.
        var series = report.Groups.Where(g => g.Name == "all").Select(g => (g.Experiment, g.Model, g.Setting)).ToList();
        s.AppendLine("<h2>By group</h2>");
        foreach (var (experiment, model, setting) in series)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"<h3>{E(SvgChart.SeriesLabel(experiment, model, setting))}</h3>");
            Table(s, [.. report.Groups.Where(g => g.Name != "all" && g.Experiment == experiment && g.Model == model && g.Setting == setting)], report.Ks, report.FastPs, first: "group");
        }
        s.AppendLine("<h2>By task</h2>");
        foreach (var (experiment, model, setting) in series)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"<h3>{E(SvgChart.SeriesLabel(experiment, model, setting))}</h3>");
            Table(s, [.. report.Tasks.Where(t => t.Experiment == experiment && t.Model == model && t.Setting == setting)], report.Ks, report.FastPs, first: "task");
        }
        s.AppendLine("</body></html>");
        return s.ToString();
    }

    /// <summary>Every experiment with what defines it: command, model, setting, tasks, the options that change results, who made it.</summary>
    private static void Experiments(StringBuilder s, Report report)
    {
        s.AppendLine("<h2>Experiments</h2>");
        s.AppendLine("<p class=\"note\">Each experiment is reported on its own. The only thing pooled is an improve run's iterations: its samples of a task, " +
            "from every iteration, make that task's pass@k. An experiment's name is unique in its store; a name in several stores is followed by its store.</p>");
        s.AppendLine("<table><tr><th class=\"l\">experiment</th><th class=\"l\">store</th><th class=\"l\">command</th><th class=\"l\">model</th><th class=\"l\">setting</th>" +
            "<th>tasks</th><th>held-out</th><th class=\"l\">budgets and options</th><th class=\"l\">made by</th><th class=\"l\">StepForge</th><th class=\"l\">created</th></tr>");
        foreach (var e in report.Experiments)
        {
            var d = e.Definition;
            string options = d is null ? "not recorded (stored by library code)"
                : d.Reconstructed ? "not recorded (a store from before experiment definitions)"
                : string.Join(" ", d.Options.Select(o => $"{o.Key}\u00a0{o.Value}"));
            s.AppendLine(CultureInfo.InvariantCulture,
                $"<tr><td class=\"l\">{E(e.Label)}</td><td class=\"l\"><code>{E(e.Store)}</code></td><td class=\"l\">{E(d?.Command ?? "–")}</td>" +
                $"<td class=\"l\">{E(d?.Model ?? "–")}</td><td class=\"l\">{E(d?.Setting ?? "–")}</td><td>{(d is null ? "–" : d.Tasks.Count.ToString(CultureInfo.InvariantCulture))}</td>" +
                $"<td>{(d is null || d.Reconstructed ? "–" : d.TestTasks.Count.ToString(CultureInfo.InvariantCulture))}</td><td class=\"l\">{E(options)}</td>" +
                $"<td class=\"l\">{(e.CommandLine is null ? "–" : $"<code>{E(e.CommandLine)}</code>")}</td><td class=\"l\">{E(VersionText(e.Version))}</td>" +
                $"<td class=\"l\">{E(e.Created is { Length: >= 16 } c ? c[..16].Replace('T', ' ') + " UTC" : e.Created ?? "–")}</td></tr>");
        }
        s.AppendLine("</table>");
    }

    private static void Columns(StringBuilder s, IReadOnlyList<int> ks)
    {
        var k = ks.Count > 0 ? ks[^1] : 1;
        (string Column, string Meaning)[] columns =
        [
            ("experiment", "the experiment the samples belong to (an improve run's iterations are one experiment)"),
            ("model, setting", "who wrote the programs (builtin:search is StepForge's own search) and how: single (the proposer alone), agent (with a guardian that makes programs affine), single-ws (the task as Python source)"),
            ("tasks, solved", "tasks sampled; tasks with at least one correct sample"),
            ("samples", "samples drawn (for an improve run, over all its iterations)"),
            ("correct", "samples whose program the verifier accepted (types, affine use, and the outputs against the PyTorch reference on several seeds)"),
            ("unique", "distinct correct programs, by structure (names aside)"),
            ("verdicts", "samples per verdict: correct; wrong (an output differs); type, affine, parse (a static check failed; parse also for an answer without a program); runtime; limit (a work or memory limit); unsolved (the proposer looked and found no program)"),
            ($"pass@k", $"the unbiased estimator of Chen et al. (2021) from n samples with c correct, 1 - C(n-c, k) / C(n, k): the chance that one of k samples is correct; a group's is the mean over its tasks; – when a task has fewer than k samples (pass@{k} needs {k})"),
            ("tokens in, tokens out", "model tokens spent (an answer taken from the store's cache counts as when it was bought)"),
            ("cost", "dollars at the model's price; – when the price is unknown"),
            ("cycles, on-chip B", "the cheapest correct program's cycles and on-chip bytes by the cost model (stepforge cost); ref cycles and ref on-chip B are the task's reference program's"),
            ("speedup", "ref cycles / cycles; a group's is the geometric mean over its tasks that have one"),
            ("fast_p", "the fraction of the group's tasks with a correct program at least p times as fast as the reference (fast_1: no slower), as KernelBench defines it"),
            ("correct programs (cycles)", "the cycles of every distinct correct program of the task, cheapest first"),
        ];
        s.AppendLine("<dl>");
        foreach (var (column, meaning) in columns) s.AppendLine(CultureInfo.InvariantCulture, $"<dt>{E(column)}</dt><dd>{E(meaning)}</dd>");
        s.AppendLine("</dl>");
    }

    private static string Figure(long? v) => v is long x ? Number(x) : "–";

    private static string Times(double? v) => v is double x ? x.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "–";

    /// <summary>Samples per verdict, as a reader scans them: 3 correct, 1 unsolved.</summary>
    public static string Verdicts(ResultRow r) => string.Join(", ", r.Verdicts.Select(v => $"{v.Value} {v.Key}"));

    /// <param name="first">The rows' kind (group or task), whose tables sit under their experiment's heading; null for the experiments' own rows.</param>
    private static void Table(StringBuilder s, IReadOnlyList<ResultRow> rows, IReadOnlyList<int> ks, IReadOnlyList<double> fastPs, string? first)
    {
        bool tasks = first == "task";
        s.Append("<table><tr>");
        if (first is null) s.Append("<th class=\"l\">experiment</th><th class=\"l\">model</th><th class=\"l\">setting</th>");
        else s.Append(CultureInfo.InvariantCulture, $"<th class=\"l\">{first}</th>");
        s.Append("<th>tasks</th><th>solved</th><th>samples</th><th>correct</th><th>unique</th><th class=\"l\">verdicts</th>");
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
            s.Append("<tr>");
            if (first is null) s.Append(CultureInfo.InvariantCulture, $"<td class=\"l\">{E(r.Experiment)}</td><td class=\"l\">{E(r.Model)}</td><td class=\"l\">{E(r.Setting)}</td>");
            else s.Append(CultureInfo.InvariantCulture, $"<td class=\"l n\">{E(r.Name)}</td>");
            s.Append(CultureInfo.InvariantCulture, $"<td>{r.Tasks}</td><td>{r.Solved}</td><td>{r.Samples}</td><td>{r.Correct}</td><td>{r.UniqueCorrect}</td><td class=\"l n\">{E(Verdicts(r))}</td>");
            foreach (var k in ks) s.Append("<td>").Append(r.PassAt.TryGetValue(k, out var p) ? p.ToString("0.000", CultureInfo.InvariantCulture) : "–").Append("</td>");
            s.Append(CultureInfo.InvariantCulture, $"<td>{Number(r.InputTokens)}</td><td>{Number(r.OutputTokens)}</td><td>{(r.Cost is { } c ? "$" + c.ToString("0.0000", CultureInfo.InvariantCulture) : "–")}</td>");
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
