using System.Globalization;
using System.Net;
using System.Text;
using StepForge.Learning;

namespace StepForge.Reports;

/// <summary>
/// Plain SVG charts (no script, no fonts to fetch), so a report opens anywhere without a network. Axes end at the data
/// and carry round-number ticks; legends sit under the plot, one entry a line, sized to their text, so none is cut.
/// </summary>
public static class SvgChart
{
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
    private const int LegendLine = 18;

    public static string Color(int index) => Palette[index % Palette.Length];

    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>Roughly how wide a line of sans-serif text is, to leave room for it.</summary>
    private static int TextWidth(string text, double fontSize) => (int)Math.Ceiling(text.Length * fontSize * 0.6);

    /// <summary>
    /// Round-number ticks from 0 up to <paramref name="max"/> (never past it): the smallest step of 1, 2, 2.5 or 5 times
    /// a power of ten (1, 2 or 5 for counts) that makes at most <paramref name="most"/> ticks.
    /// </summary>
    public static IReadOnlyList<double> Ticks(double max, bool integer, int most = 7)
    {
        if (max <= 0) return [0];
        double[] multiples = integer ? [1, 2, 5] : [1, 2, 2.5, 5];
        double step = 0;
        for (double magnitude = Math.Pow(10, Math.Floor(Math.Log10(max / most))); step == 0; magnitude *= 10)
            foreach (var m in multiples)
                if ((!integer || m * magnitude >= 1) && Math.Floor(max / (m * magnitude) + 1e-9) + 1 <= most)
                {
                    step = m * magnitude;
                    break;
                }
        var ticks = new List<double>();
        for (int i = 0; i * step <= max * (1 + 1e-9); i++) ticks.Add(i * step);
        return ticks;
    }

    /// <summary>A tick label: 250, 1.5k, 2M.</summary>
    public static string TickText(double v) => v switch
    {
        >= 1_000_000 => N(v / 1_000_000) + "M",
        >= 1_000 => N(v / 1_000) + "k",
        _ => N(v),
    };

    private static StringBuilder Begin(int width, int height)
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\">");
        s.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        return s;
    }

    private static string End(StringBuilder s) => s.AppendLine("</svg>").ToString();

    private static void Title(StringBuilder s, int x, int y, string text, int size = 15) =>
        s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{y}\" font-size=\"{size}\" font-weight=\"bold\">{E(text)}</text>");

    /// <summary>Legend entries under a plot, one a line: a swatch (a marker on a line, or a box) and the label.</summary>
    private static void Legend(StringBuilder s, int x, int y, IReadOnlyList<(string Color, string Label)> entries, bool line)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            int cy = y + i * LegendLine;
            var (color, label) = entries[i];
            if (line)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x}\" y1=\"{cy - 4}\" x2=\"{x + 22}\" y2=\"{cy - 4}\" stroke=\"{color}\" stroke-width=\"2\"/>");
                s.AppendLine(CultureInfo.InvariantCulture, $"<circle cx=\"{x + 11}\" cy=\"{cy - 4}\" r=\"4\" fill=\"{color}\"/>");
            }
            else s.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x + 5}\" y=\"{cy - 10}\" width=\"12\" height=\"12\" fill=\"{color}\"/>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x + 30}\" y=\"{cy}\" font-size=\"12\">{E(label)}</text>");
        }
    }

    private static int LegendWidth(IEnumerable<string> labels) => 30 + labels.Select(l => TextWidth(l, 12)).DefaultIfEmpty(0).Max();

    /// <summary>A plot area's axes: the frame's left and bottom lines, grid lines and labels at the ticks, and the axis titles.</summary>
    private static void Axes(StringBuilder s, int x0, int y0, int width, int height, IReadOnlyList<double> xTicks, Func<double, double> x,
        IReadOnlyList<double> yTicks, Func<double, double> y, string xTitle, string yTitle, Func<double, string> xText, Func<double, string> yText)
    {
        foreach (var t in yTicks)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{N(y(t))}\" x2=\"{x0 + width}\" y2=\"{N(y(t))}\" stroke=\"#e3e3e3\"/>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 - 6}\" y=\"{N(y(t) + 4)}\" font-size=\"11\" text-anchor=\"end\">{E(yText(t))}</text>");
        }
        foreach (var t in xTicks)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{N(x(t))}\" y1=\"{y0 + height}\" x2=\"{N(x(t))}\" y2=\"{y0 + height + 4}\" stroke=\"#333\"/>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{N(x(t))}\" y=\"{y0 + height + 16}\" font-size=\"11\" text-anchor=\"middle\">{E(xText(t))}</text>");
        }
        s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{y0 + height}\" x2=\"{x0 + width}\" y2=\"{y0 + height}\" stroke=\"#333\"/>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{y0 + height}\" x2=\"{x0}\" y2=\"{y0}\" stroke=\"#333\"/>");
        if (xTitle.Length > 0)
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 + width / 2}\" y=\"{y0 + height + 34}\" font-size=\"12\" text-anchor=\"middle\">{E(xTitle)}</text>");
        int ly = y0 + height / 2, lx = x0 - 44;
        s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{lx}\" y=\"{ly}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 {lx} {ly})\">{E(yTitle)}</text>");
    }

    /// <summary>A series' name in every chart: the experiment, then the model and setting.</summary>
    public static string SeriesLabel(string experiment, string model, string setting) => $"{experiment}: {model}, {setting}";

    /// <summary>
    /// The learning curves (the paper's Figure 7b): tasks solved against input tokens spent (against iterations when
    /// a run spent none), the training tasks and, beside them, the held-out ones. Every iteration is a marker; the
    /// Pareto-optimal ones (more solved than at every cheaper point) are filled and joined into the frontier, a
    /// staircase that runs on to the last iteration.
    /// </summary>
    public static string LearningCurves(IReadOnlyList<LearningCurve> curves, Func<string, string>? colorOf = null)
    {
        colorOf ??= label => Color(curves.Select(c => SeriesLabel(c.Experiment, c.Model, c.Setting)).Distinct().ToList().IndexOf(label));
        bool byIteration = curves.Any(c => c.Points.Count > 0 && c.Points[^1].InputTokens == 0);
        bool heldOut = curves.Any(c => c.TestTasks > 0);
        const int left = 64, top = 58, plotHeight = 250, gap = 90;
        int plotWidth = heldOut ? 380 : 560;
        var labels = curves.Select(c => SeriesLabel(c.Experiment, c.Model, c.Setting) + (c.TestTasks > 0 ? $" ({c.Tasks} training, {c.TestTasks} held-out tasks)" : $" ({c.Tasks} tasks)")).ToList();
        const string note = "filled: Pareto-optimal (more tasks solved than at every cheaper point); line: the frontier they form";
        var title = byIteration ? "Tasks solved by iteration (no tokens spent)" : "Tasks solved against input tokens spent";
        int width = Math.Max(left + plotWidth * (heldOut ? 2 : 1) + (heldOut ? gap : 0) + 30,
            20 + Math.Max(Math.Max(LegendWidth(labels), TextWidth(note, 11) + 10), TextWidth(title, 15)));
        int legendTop = top + plotHeight + 64;
        int height = legendTop + LegendLine * (labels.Count + 1) + 10;
        var s = Begin(width, height);
        Title(s, 16, 22, title);
        double maxX = byIteration ? curves.SelectMany(c => c.Points).Select(p => (double)p.Iteration).DefaultIfEmpty(0).Max()
            : curves.SelectMany(c => c.Points).Select(p => (double)p.InputTokens).DefaultIfEmpty(0).Max();
        maxX = Math.Max(maxX, 1);
        double At(CurvePoint p) => byIteration ? p.Iteration : p.InputTokens;

        void Panel(int x0, string title, int tasks, Func<CurvePoint, int> solved, Func<CurvePoint, bool> optimal, bool testPanel)
        {
            int maxY = Math.Max(1, Math.Max(tasks, curves.SelectMany(c => c.Points).Select(solved).DefaultIfEmpty(0).Max()));
            // Markers sit a little inside the frame, so that none is cut by an axis.
            const int pad = 8;
            double X(double v) => x0 + pad + (plotWidth - 2 * pad) * v / maxX;
            double Y(double v) => top + plotHeight - pad - (plotHeight - 2 * pad) * v / maxY;
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0}\" y=\"{top - 10}\" font-size=\"13\">{E(title)}</text>");
            Axes(s, x0, top, plotWidth, plotHeight, Ticks(maxX, integer: byIteration), X, Ticks(maxY, integer: true), Y,
                byIteration ? "iteration" : "input tokens, cumulative", "tasks solved", TickText, TickText);
            for (int i = 0; i < curves.Count; i++)
            {
                var curve = curves[i];
                if (testPanel && curve.TestTasks == 0) continue;
                var color = colorOf(SeriesLabel(curve.Experiment, curve.Model, curve.Setting));
                var frontier = curve.Points.Where(optimal).ToList();
                if (frontier.Count > 0)
                {
                    var path = new StringBuilder($"M{N(X(At(frontier[0])))},{N(Y(solved(frontier[0])))}");
                    foreach (var p in frontier.Skip(1)) path.Append(CultureInfo.InvariantCulture, $" H{N(X(At(p)))} V{N(Y(solved(p)))}");
                    path.Append(CultureInfo.InvariantCulture, $" H{N(X(At(curve.Points[^1])))}");
                    s.AppendLine(CultureInfo.InvariantCulture, $"<path d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>");
                }
                foreach (var p in curve.Points)
                {
                    bool best = optimal(p);
                    s.AppendLine(CultureInfo.InvariantCulture,
                        $"<circle cx=\"{N(X(At(p)))}\" cy=\"{N(Y(solved(p)))}\" r=\"4.5\" stroke=\"{color}\" stroke-width=\"2\" fill=\"{(best ? color : "white")}\">" +
                        $"<title>{E(curve.Experiment)}, iteration {p.Iteration}: {solved(p)} of {(testPanel ? curve.TestTasks : curve.Tasks)} solved, " +
                        $"{p.InputTokens.ToString("N0", CultureInfo.InvariantCulture)} input tokens{(best ? " (Pareto-optimal)" : "")}</title></circle>");
                }
            }
        }

        Panel(left, $"Training tasks", curves.Select(c => c.Tasks).DefaultIfEmpty(0).Max(), p => p.Solved, p => p.ParetoOptimal, testPanel: false);
        if (heldOut)
            Panel(left + plotWidth + gap, "Held-out tasks (never shown as demonstrations)", curves.Select(c => c.TestTasks).Max(), p => p.SolvedTest, p => p.ParetoOptimalTest, testPanel: true);
        Legend(s, 16, legendTop, [.. curves.Select((c, i) => (colorOf(SeriesLabel(c.Experiment, c.Model, c.Setting)), labels[i]))], line: true);
        s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"16\" y=\"{legendTop + LegendLine * labels.Count}\" font-size=\"11\" fill=\"#444\">{E(note)}</text>");
        return End(s);
    }

    /// <summary>
    /// pass@k per group (the paper's Figure 7a): for each k a row of bars, one bar per experiment (model and setting)
    /// in every group and in "all", the mean over the group's tasks of the unbiased estimator. A k above a task's
    /// sample count has no estimate: its group gets no bar and an "n &lt; k" mark instead.
    /// </summary>
    public static string PassAtK(Report report, Func<string, string>? colorOf = null)
    {
        var series = report.Groups.Where(g => g.Name == "all").Select(g => (g.Experiment, g.Model, g.Setting)).ToList();
        var labelOf = series.ToDictionary(r => r, r => SeriesLabel(r.Experiment, r.Model, r.Setting));
        colorOf ??= label => Color(labelOf.Values.ToList().IndexOf(label));
        var groups = report.Groups.Where(g => g.Name != "all").Select(g => g.Name).Distinct().Order(StringComparer.Ordinal).Append("all").ToList();
        int tasksIn(string group) => report.Groups.Where(g => g.Name == group).Select(g => g.Tasks).DefaultIfEmpty(0).Max();
        string GroupLabel(string group) => $"{group} ({tasksIn(group)})";
        // A k no experiment has enough samples for gets no panel, only a line saying so.
        var ks = report.Ks.Where(k => report.Groups.Any(g => g.PassAt.ContainsKey(k))).ToList();
        var missing = report.Ks.Except(ks).ToList();
        const int left = 64, panelHeight = 170, panelGap = 78, top = 46;
        int seriesCount = Math.Max(1, series.Count);
        int slot = Math.Max(Math.Max(56, seriesCount * 16 + 20), groups.Select(g => TextWidth(GroupLabel(g), 11) + 12).DefaultIfEmpty(0).Max());
        int plotWidth = Math.Max(480, slot * groups.Count);
        slot = plotWidth / Math.Max(1, groups.Count);
        double bar = Math.Min(36, (slot - 20.0) / seriesCount);
        // How many samples each series drew per task: the estimator's n.
        string SampleCount((string Experiment, string Model, string Setting) r)
        {
            var counts = report.Tasks.Where(t => t.Experiment == r.Experiment && t.Model == r.Model && t.Setting == r.Setting).Select(t => t.Samples).ToList();
            if (counts.Count == 0) return "no samples";
            int lo = counts.Min(), hi = counts.Max();
            return lo == hi ? $"n = {lo} sample{(lo == 1 ? "" : "s")} per task" : $"n = {lo} to {hi} samples per task";
        }
        var legend = series.Select(r => (colorOf(labelOf[r]), $"{labelOf[r]} ({SampleCount(r)})")).ToList();
        var notes = new List<string> { "n < k: pass@k needs at least k samples of every task in the group" };
        if (missing.Count > 0)
            notes.Add($"{string.Join(", ", missing.Select(k => $"pass@{k}"))}: not drawn, no experiment has that many samples of every task");
        const string title = "pass@k by group: the mean over the group's tasks of the unbiased estimator";
        int width = Math.Max(left + plotWidth + 24, 20 + Math.Max(Math.Max(LegendWidth(legend.Select(l => l.Item2)), notes.Max(n => TextWidth(n, 11)) + 10), TextWidth(title, 15)));
        int legendTop = top + ks.Count * (panelHeight + panelGap) + 4;
        int height = legendTop + LegendLine * (legend.Count + notes.Count) + 10;
        var s = Begin(width, height);
        Title(s, 16, 22, title);
        for (int p = 0; p < ks.Count; p++)
        {
            int k = ks[p];
            int y0 = top + p * (panelHeight + panelGap) + 20;
            double Y(double v) => y0 + panelHeight - panelHeight * v;
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{y0 - 18}\" font-size=\"13\" font-weight=\"bold\">pass@{k}</text>");
            Axes(s, left, y0, plotWidth, panelHeight, [], v => v, Ticks(1, integer: false), Y, "", $"pass@{k}", TickText, v => v.ToString("0.0", CultureInfo.InvariantCulture));
            for (int g = 0; g < groups.Count; g++)
            {
                double start = left + g * slot + (slot - bar * seriesCount) / 2;
                for (int r = 0; r < series.Count; r++)
                {
                    var (experiment, model, setting) = series[r];
                    var row = report.Groups.FirstOrDefault(x => x.Name == groups[g] && x.Experiment == experiment && x.Model == model && x.Setting == setting);
                    if (row is null) continue;
                    double bx = start + r * bar;
                    if (row.PassAt.TryGetValue(k, out var value))
                    {
                        s.AppendLine(CultureInfo.InvariantCulture,
                            $"<rect x=\"{N(bx)}\" y=\"{N(Y(value))}\" width=\"{N(bar - 1)}\" height=\"{N(panelHeight * value)}\" fill=\"{colorOf(labelOf[series[r]])}\">" +
                            $"<title>{E(labelOf[series[r]])}, {E(groups[g])}: pass@{k} = {value.ToString("0.000", CultureInfo.InvariantCulture)} over {row.Tasks} task(s), {row.Samples} samples</title></rect>");
                        if (bar >= 20)
                            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{N(bx + bar / 2)}\" y=\"{N(Y(value) - 3)}\" font-size=\"9\" text-anchor=\"middle\">{value.ToString("0.00", CultureInfo.InvariantCulture)}</text>");
                    }
                    else
                        s.AppendLine(CultureInfo.InvariantCulture,
                            $"<text x=\"{N(bx + bar / 2)}\" y=\"{N(Y(0) - 4)}\" font-size=\"9\" fill=\"#888\" text-anchor=\"middle\">n&lt;k<title>{E(labelOf[series[r]])}, {E(groups[g])}: some task has fewer than {k} samples</title></text>");
                }
                var label = GroupLabel(groups[g]);
                s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{N(left + g * slot + slot / 2.0)}\" y=\"{y0 + panelHeight + 16}\" font-size=\"11\" text-anchor=\"middle\">{E(label)}</text>");
            }
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left + plotWidth / 2}\" y=\"{y0 + panelHeight + 32}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#444\">group (tasks)</text>");
        }
        Legend(s, 16, legendTop, legend, line: false);
        for (int i = 0; i < notes.Count; i++)
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"16\" y=\"{legendTop + LegendLine * (legend.Count + i)}\" font-size=\"11\" fill=\"#444\">{E(notes[i])}</text>");
        return End(s);
    }

    /// <summary>
    /// The speedup of each task's cheapest correct program over its reference program (reference cycles / cycles), one
    /// bar per experiment (model and setting), with the reference at 1 drawn as a dashed line; a task without a costed
    /// correct program gets no bar.
    /// </summary>
    public static string Speedups(IReadOnlyList<ResultRow> tasks, Func<string, string>? colorOf = null)
    {
        var runs = tasks.Select(t => (t.Experiment, t.Model, t.Setting)).Distinct().ToList();
        var labelOf = runs.ToDictionary(r => r, r => SeriesLabel(r.Experiment, r.Model, r.Setting));
        colorOf ??= label => Color(labelOf.Values.ToList().IndexOf(label));
        var names = tasks.Where(t => t.Reference is not null).Select(t => t.Name).Distinct().Order(StringComparer.Ordinal).ToList();
        // Task names are written at 45 degrees under the bars: room below for the longest.
        int below = 20 + (int)(TextWidth(names.OrderByDescending(n => n.Length).FirstOrDefault() ?? "", 10) * 0.72);
        // The first name reaches left of its bar: room for it too.
        int left = Math.Max(64, 10 + (int)(TextWidth(names.FirstOrDefault() ?? "", 10) * 0.72));
        const int top = 40, plotHeight = 240;
        int slot = Math.Max(22, 8 * runs.Count + 10);
        int plotWidth = Math.Max(480, slot * names.Count);
        slot = plotWidth / Math.Max(1, names.Count);
        var legend = runs.Select(r => (colorOf(labelOf[r]), labelOf[r])).ToList();
        const string title = "Speedup of the cheapest correct program over the reference program, per task";
        int width = Math.Max(left + plotWidth + 24, 20 + Math.Max(LegendWidth(legend.Select(l => l.Item2)), TextWidth(title, 15)));
        int legendTop = top + plotHeight + below + 24;
        int height = legendTop + LegendLine * (legend.Count + 1) + 10;
        double most = Math.Max(1, tasks.Select(t => t.Speedup ?? 0).DefaultIfEmpty(0).Max());
        double Y(double v) => top + plotHeight - plotHeight * v / most;
        var s = Begin(width, height);
        Title(s, 16, 22, title);
        Axes(s, left, top, plotWidth, plotHeight, [], v => v, Ticks(most, integer: false), Y, "", "reference cycles / cycles", TickText, v => TickText(v) + "x");
        s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{N(Y(1))}\" x2=\"{left + plotWidth}\" y2=\"{N(Y(1))}\" stroke=\"#333\" stroke-dasharray=\"6 4\"><title>the reference program (1x)</title></line>");
        double bar = Math.Min(28, (slot - 6.0) / Math.Max(1, runs.Count));
        for (int i = 0; i < names.Count; i++)
        {
            double start = left + i * slot + (slot - bar * runs.Count) / 2;
            for (int r = 0; r < runs.Count; r++)
            {
                var row = tasks.FirstOrDefault(t => t.Name == names[i] && t.Experiment == runs[r].Experiment && t.Model == runs[r].Model && t.Setting == runs[r].Setting);
                if (row?.Speedup is not { } speedup) continue;
                s.AppendLine(CultureInfo.InvariantCulture,
                    $"<rect x=\"{N(start + r * bar)}\" y=\"{N(Y(speedup))}\" width=\"{N(bar - 1)}\" height=\"{N(top + plotHeight - Y(speedup))}\" fill=\"{colorOf(labelOf[runs[r]])}\">" +
                    $"<title>{E(names[i])}, {E(runs[r].Model)} ({E(runs[r].Setting)}): {speedup.ToString("0.00", CultureInfo.InvariantCulture)}x ({row.Best!.Cycles:N0} against {row.Reference!.Cycles:N0} cycles)</title></rect>");
            }
            double cx = left + i * slot + slot / 2.0;
            s.AppendLine(CultureInfo.InvariantCulture,
                $"<text x=\"{N(cx)}\" y=\"{top + plotHeight + 12}\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-45 {N(cx)} {top + plotHeight + 12})\">{E(names[i])}</text>");
        }
        Legend(s, 16, legendTop, legend, line: false);
        return End(s);
    }
}
