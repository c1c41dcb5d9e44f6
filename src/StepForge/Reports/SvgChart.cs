using System.Globalization;
using System.Net;
using System.Text;
using StepForge.Learning;

namespace StepForge.Reports;

/// <summary>Plain SVG charts (no script, no fonts to fetch), so a report opens anywhere without a network.</summary>
public static class SvgChart
{
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
    private const int Width = 720, Height = 420, Left = 70, Right = 200, Top = 40, Bottom = 60;

    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>Tasks solved against input tokens, one step line per run; Pareto-optimal points are filled.</summary>
    public static string LearningCurves(IReadOnlyList<LearningCurve> curves)
    {
        // A model-free run spends no tokens: its curve is drawn against iterations instead.
        long spent = curves.SelectMany(c => c.Points).Select(p => p.InputTokens).DefaultIfEmpty(0).Max();
        bool byIteration = spent == 0;
        var s = Begin(byIteration ? "Tasks solved by iteration (no tokens spent)" : "Tasks solved against input tokens");
        long maxX = byIteration ? Math.Max(4, curves.SelectMany(c => c.Points).Select(p => (long)p.Iteration + 1).DefaultIfEmpty(1).Max()) : spent;
        int maxSolved = Math.Max(1, curves.Select(c => c.Tasks).DefaultIfEmpty(1).Max());
        double X(long tokens) => Left + (Width - Left - Right) * (double)tokens / maxX;
        double Y(int solved) => Height - Bottom - (Height - Top - Bottom) * (double)solved / maxSolved;
        long At(CurvePoint p) => byIteration ? p.Iteration + 1 : p.InputTokens;
        Axes(s, byIteration ? "iterations done" : "input tokens", "tasks solved", maxX, maxSolved);
        for (int i = 0; i < curves.Count; i++)
        {
            var color = Palette[i % Palette.Length];
            var points = curves[i].Points;
            var path = new StringBuilder();
            for (int p = 0; p < points.Count; p++)
            {
                int solved = points[p].Solved + points[p].SolvedTest;
                if (p == 0) path.Append(CultureInfo.InvariantCulture, $"M{N(X(0))},{N(Y(0))} L{N(X(At(points[p])))},{N(Y(0))} ");
                else path.Append(CultureInfo.InvariantCulture, $"L{N(X(At(points[p])))},{N(Y(points[p - 1].Solved + points[p - 1].SolvedTest))} ");
                path.Append(CultureInfo.InvariantCulture, $"L{N(X(At(points[p])))},{N(Y(solved))} ");
            }
            s.AppendLine(CultureInfo.InvariantCulture, $"<path d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>");
            foreach (var point in points)
            {
                int solved = point.Solved + point.SolvedTest;
                s.AppendLine(CultureInfo.InvariantCulture,
                    $"<circle cx=\"{N(X(At(point)))}\" cy=\"{N(Y(solved))}\" r=\"5\" stroke=\"{color}\" stroke-width=\"2\" fill=\"{(point.ParetoOptimal ? color : "white")}\">" +
                    $"<title>iteration {point.Iteration}: {solved} solved, {point.InputTokens:N0} input tokens{(point.ParetoOptimal ? " (Pareto-optimal)" : "")}</title></circle>");
            }
            Legend(s, i, color, $"{curves[i].Run} ({curves[i].Model}, {curves[i].Setting})");
        }
        s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right + 10}\" y=\"{Top + 20 * curves.Count + 24}\" font-size=\"11\" fill=\"#444\">filled: Pareto-optimal</text>");
        return End(s);
    }

    /// <summary>Solved fraction per model and setting, side by side.</summary>
    public static string SolvedFractions(IReadOnlyList<SolvedFraction> bars)
    {
        var s = Begin("Tasks solved, by model and setting");
        Axes(s, "", "solved fraction", 0, 1);
        int count = Math.Max(1, bars.Count);
        double slot = (Width - Left - Right) / (double)count;
        var models = bars.Select(b => b.Model).Distinct().ToList();
        for (int i = 0; i < bars.Count; i++)
        {
            var b = bars[i];
            double h = (Height - Top - Bottom) * b.Fraction;
            double x = Left + i * slot + slot * 0.15;
            var color = Palette[models.IndexOf(b.Model) % Palette.Length];
            s.AppendLine(CultureInfo.InvariantCulture,
                $"<rect x=\"{N(x)}\" y=\"{N(Height - Bottom - h)}\" width=\"{N(slot * 0.7)}\" height=\"{N(h)}\" fill=\"{color}\"><title>{E(b.Model)}, {E(b.Setting)}: {b.Solved} of {b.Tasks}</title></rect>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{N(x + slot * 0.35)}\" y=\"{N(Height - Bottom - h - 6)}\" font-size=\"12\" text-anchor=\"middle\">{b.Solved}/{b.Tasks}</text>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{N(x + slot * 0.35)}\" y=\"{Height - Bottom + 18}\" font-size=\"12\" text-anchor=\"middle\">{E(b.Setting)}</text>");
        }
        for (int m = 0; m < models.Count; m++) Legend(s, m, Palette[m % Palette.Length], models[m]);
        return End(s);
    }

    /// <summary>
    /// The speedup of each task's cheapest correct program over its reference program (reference cycles / cycles), one
    /// bar per model and setting, with the reference at 1 drawn as a dashed line; a task without a costed correct
    /// program gets no bar.
    /// </summary>
    public static string Speedups(IReadOnlyList<ResultRow> tasks)
    {
        var runs = tasks.Select(t => (t.Model, t.Setting)).Distinct().ToList();
        var names = tasks.Where(t => t.Reference is not null).Select(t => t.Name).Distinct().Order(StringComparer.Ordinal).ToList();
        // Task names are written at 45 degrees under the bars: room below, and on the left for the first one.
        const int left = Left + 100;
        int width = Math.Max(Width, left + Right + 34 * Math.Max(1, names.Count)), height = Height + 80;
        int bottom = Bottom + 80;
        double most = Math.Max(2, Math.Ceiling(tasks.Select(t => t.Speedup ?? 0).DefaultIfEmpty(0).Max()));
        double Y(double v) => height - bottom - (height - Top - bottom) * v / most;
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\">");
        s.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Speedup of the cheapest correct program over the reference, per task</text>");
        int x0 = left, x1 = width - Right, y0 = height - bottom;
        s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#333\"/>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{Top}\" stroke=\"#333\"/>");
        for (int t = 0; t <= 4; t++)
        {
            double v = most * t / 4;
            s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{N(Y(v))}\" x2=\"{x1}\" y2=\"{N(Y(v))}\" stroke=\"#ddd\"/>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 - 8}\" y=\"{N(Y(v) + 4)}\" font-size=\"11\" text-anchor=\"end\">{N(v)}x</text>");
        }
        s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{N(Y(1))}\" x2=\"{x1}\" y2=\"{N(Y(1))}\" stroke=\"#333\" stroke-dasharray=\"6 4\"><title>the reference program (1x)</title></line>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left - 54}\" y=\"{(y0 + Top) / 2}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 {left - 54} {(y0 + Top) / 2})\">reference cycles / cycles</text>");
        double slot = (x1 - x0) / (double)Math.Max(1, names.Count);
        double bar = slot * 0.8 / Math.Max(1, runs.Count);
        for (int i = 0; i < names.Count; i++)
        {
            double start = x0 + i * slot + slot * 0.1;
            for (int r = 0; r < runs.Count; r++)
            {
                var row = tasks.FirstOrDefault(t => t.Name == names[i] && t.Model == runs[r].Model && t.Setting == runs[r].Setting);
                if (row?.Speedup is not { } speedup) continue;
                s.AppendLine(CultureInfo.InvariantCulture,
                    $"<rect x=\"{N(start + r * bar)}\" y=\"{N(Y(speedup))}\" width=\"{N(bar)}\" height=\"{N(y0 - Y(speedup))}\" fill=\"{Palette[r % Palette.Length]}\">" +
                    $"<title>{E(names[i])}, {E(runs[r].Model)} ({E(runs[r].Setting)}): {speedup.ToString("0.00", CultureInfo.InvariantCulture)}x ({row.Best!.Cycles:N0} against {row.Reference!.Cycles:N0} cycles)</title></rect>");
            }
            double cx = start + slot * 0.4;
            s.AppendLine(CultureInfo.InvariantCulture,
                $"<text x=\"{N(cx)}\" y=\"{y0 + 12}\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-45 {N(cx)} {y0 + 12})\">{E(names[i].Length > 30 ? names[i][..29] + "…" : names[i])}</text>");
        }
        for (int r = 0; r < runs.Count; r++)
        {
            int y = Top + 20 * r + 4;
            s.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{width - Right + 10}\" y=\"{y - 9}\" width=\"12\" height=\"12\" fill=\"{Palette[r % Palette.Length]}\"/>");
            var label = $"{runs[r].Model} ({runs[r].Setting})";
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{width - Right + 28}\" y=\"{y + 2}\" font-size=\"11\">{E(label.Length > 28 ? label[..27] + "…" : label)}</text>");
        }
        return End(s);
    }

    private static StringBuilder Begin(string title)
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\">");
        s.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">{E(title)}</text>");
        return s;
    }

    private static string End(StringBuilder s) => s.AppendLine("</svg>").ToString();

    private static void Axes(StringBuilder s, string xLabel, string yLabel, long maxX, double maxY)
    {
        int x0 = Left, y0 = Height - Bottom, x1 = Width - Right, y1 = Top;
        s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#333\"/>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y1}\" stroke=\"#333\"/>");
        for (int t = 0; t <= 4; t++)
        {
            double y = y0 - (y0 - y1) * t / 4.0;
            s.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{N(y)}\" x2=\"{x1}\" y2=\"{N(y)}\" stroke=\"#ddd\"/>");
            s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 - 8}\" y=\"{N(y + 4)}\" font-size=\"11\" text-anchor=\"end\">{N(maxY * t / 4.0)}</text>");
            if (maxX > 0)
            {
                double x = x0 + (x1 - x0) * t / 4.0;
                s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{N(x)}\" y=\"{y0 + 16}\" font-size=\"11\" text-anchor=\"middle\">{(maxX * t / 4.0).ToString("N0", CultureInfo.InvariantCulture)}</text>");
            }
        }
        if (xLabel.Length > 0) s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{(x0 + x1) / 2}\" y=\"{Height - 16}\" font-size=\"12\" text-anchor=\"middle\">{E(xLabel)}</text>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"16\" y=\"{(y0 + y1) / 2}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(y0 + y1) / 2})\">{E(yLabel)}</text>");
    }

    private static void Legend(StringBuilder s, int index, string color, string label)
    {
        int y = Top + 20 * index + 4;
        s.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{Width - Right + 10}\" y=\"{y - 9}\" width=\"12\" height=\"12\" fill=\"{color}\"/>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right + 28}\" y=\"{y + 2}\" font-size=\"11\">{E(label.Length > 28 ? label[..27] + "…" : label)}</text>");
    }
}
