using System.CommandLine;
using System.Text.Json;
using StepForge.Learning;
using StepForge.Reports;

namespace StepForge.Cli;

/// <summary><c>stepforge report</c>: tables and learning curves from experience stores, as text, JSON or an HTML page.</summary>
public static class ReportCommand
{
    public static Command Create(ConsoleIo io)
    {
        var stores = new Argument<string[]>("DB") { Description = "Experience stores (SQLite files written by run and improve).", Arity = ArgumentArity.OneOrMore }
            .RefusingUnknownOptions(io);
        var html = new Option<string?>("--html") { Description = "Also write an HTML page (index.html) with SVG plots into this folder; it needs no network to open.", HelpName = "DIR" };
        var ks = OptionValues.Ks(io);
        var json = new Option<bool>("--json") { Description = "Print the report as one JSON object." };
        var fastP = OptionValues.FastPs(io);
        var command = new Command("report",
            "Per task, per group and per model and setting: samples, correct, pass@1 and pass@k, tasks solved, tokens and cost; per task the cheapest " +
            "correct program's cycles and on-chip bytes against the reference program's (speedup = reference cycles / cycles) and per group fast_p " +
            "(the fraction of tasks with a correct program at least p times as fast); the learning curves of self-improvement runs (tasks solved " +
            "against input tokens, Pareto-optimal steps marked).\n" +
            StepForgeCli.ExitCodes("when the report was written", null))
        {
            stores, html, ks, json, fastP,
        };
        command.SetAction(parsed =>
        {
            var kList = OptionValues.Ks(parsed, ks);
            var fastPs = OptionValues.FastPs(parsed, fastP);
            var opened = new List<(string, ExperienceStore)>();
            try
            {
                foreach (var path in parsed.GetValue(stores) ?? [])
                {
                    if (!File.Exists(path))
                    {
                        io.Error.WriteLine($"stepforge: error: {path}: no such file");
                        return StepForgeCli.ExitBadInput;
                    }
                    var store = new ExperienceStore(path);
                    opened.Add((path, store));
                    // A store from before the cost model gets its costs once, here.
                    if (store.FillInCosts() is > 0 and var filled) io.Error.WriteLine($"{path}: computed {filled} missing cost(s) and stored them");
                }
                var report = ReportBuilder.Build(opened, kList, fastPs, Origin(parsed));
                if (parsed.GetValue(json)) io.Out.WriteLine(Json(report));
                else Print(io.Out, report);
                if (parsed.GetValue(html) is { } folder)
                {
                    var page = HtmlReport.Write(report, folder);
                    io.Error.WriteLine($"wrote {page}");
                }
                return StepForgeCli.ExitOk;
            }
            catch (ExperienceStoreException e)
            {
                io.Error.WriteLine($"stepforge: error: {e.Message}");
                return StepForgeCli.ExitBadInput;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                io.Error.WriteLine($"stepforge: error: --html {parsed.GetValue(html)}: {e.Message}");
                return StepForgeCli.ExitBadInput;
            }
            finally
            {
                foreach (var (_, store) in opened) store.Dispose();
            }
        });
        return command;
    }

    /// <summary>Who writes a report: the command line, this StepForge, now.</summary>
    public static ReportOrigin Origin(ParseResult parsed) => new(StepForgeCli.CommandLine(parsed), StepForgeCli.Version, DateTimeOffset.UtcNow);

    /// <summary>The report of <paramref name="stores"/> as an HTML page in <paramref name="folder"/> (run --html, improve --html); returns the page.</summary>
    /// <exception cref="IOException">when the folder cannot be written.</exception>
    public static string WriteHtml(IReadOnlyList<(string Path, ExperienceStore Store)> stores, IReadOnlyList<int> ks, IReadOnlyList<double> fastPs, string folder, ParseResult parsed) =>
        HtmlReport.Write(ReportBuilder.Build(stores, ks, fastPs, Origin(parsed)), folder);

    private static void Print(TextWriter output, Report report)
    {
        foreach (var e in report.Experiments)
            output.WriteLine($"experiment {e.Label} in {e.Store}: " + (e.Definition is { } d
                ? $"{d.Command}, {d.Model ?? "several models"}, setting {d.Setting ?? "several"}, {d.Tasks.Count} task(s)" + (d.TestTasks.Count > 0 ? $" and {d.TestTasks.Count} held out" : "") +
                  (d.Reconstructed ? "; options not recorded (a store from before experiment definitions)" : "; " + string.Join(", ", d.Options.Select(o => $"{o.Key} {o.Value}"))) +
                  (e.CommandLine is null ? "" : $"; made by {e.CommandLine} (StepForge {HtmlReport.VersionText(e.Version)})")
                : "no definition recorded"));
        if (report.Experiments.Count > 0) output.WriteLine();
        foreach (var curve in report.Curves)
        {
            output.WriteLine($"learning curve: {curve.Experiment} ({curve.Model}, setting {curve.Setting}, {curve.Tasks} training and {curve.TestTasks} held-out tasks) in {curve.Store}");
            output.WriteLine($"{"iteration",9}  {"input tokens",12}  {"output tokens",13}  {"solved",6}  {"test",4}  pareto");
            foreach (var p in curve.Points)
                output.WriteLine($"{p.Iteration,9}  {p.InputTokens,12:N0}  {p.OutputTokens,13:N0}  {p.Solved,6}  {p.SolvedTest,4}  {(p.ParetoOptimal ? "*" : "")}");
            output.WriteLine();
        }
        if (report.Tasks.Count == 0)
        {
            output.WriteLine("no samples in these stores");
            return;
        }
        ResultTables.Print(output, report.Tasks, report.Groups, report.Ks);
    }

    private static string Json(Report r) => JsonSerializer.Serialize(new ReportJson(
        r.Stores, r.FastPs,
        [.. r.Experiments.Select(e => new ExperimentJson(e.Store, e.Name, e.Label, e.Definition?.Command, e.Definition?.Model, e.Definition?.Setting,
            e.Definition?.Tasks.Keys.ToList(), e.Definition?.TestTasks.Keys.ToList(), e.Definition?.Options, e.Definition?.Reconstructed ?? false, e.CommandLine, e.Version, e.Created))],
        [.. r.Curves.Select(c => new CurveJson(c.Store, c.Run, c.Experiment, c.Model, c.Setting, c.Tasks, c.TestTasks,
            [.. c.Points.Select(p => new PointJson(p.Iteration, p.InputTokens, p.OutputTokens, p.Solved, p.SolvedTest, p.ParetoOptimal, p.ParetoOptimalTest))]))],
        [.. r.Solved.Select(s => new SolvedJson(s.Experiment, s.Model, s.Setting, s.Solved, s.Tasks))],
        [.. r.Tasks.Select(ResultTables.Json)], [.. r.Groups.Select(ResultTables.Json)]), CliJson.Style.ReportJson);
}
