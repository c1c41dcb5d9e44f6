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
        var stores = new Argument<string[]>("DB") { Description = "Experience stores (SQLite files written by run and improve).", Arity = ArgumentArity.OneOrMore };
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
                var report = ReportBuilder.Build(opened, kList, fastPs);
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

    private static void Print(TextWriter output, Report report)
    {
        foreach (var curve in report.Curves)
        {
            output.WriteLine($"learning curve: {curve.Run} ({curve.Model}, setting {curve.Setting}, {curve.Tasks} tasks) in {curve.Store}");
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
        [.. r.Curves.Select(c => new CurveJson(c.Store, c.Run, c.Model, c.Setting, c.Tasks,
            [.. c.Points.Select(p => new PointJson(p.Iteration, p.InputTokens, p.OutputTokens, p.Solved, p.SolvedTest, p.ParetoOptimal))]))],
        [.. r.Solved.Select(s => new SolvedJson(s.Model, s.Setting, s.Solved, s.Tasks))],
        [.. r.Tasks.Select(ResultTables.Json)], [.. r.Groups.Select(ResultTables.Json)]), CliJson.Style.ReportJson);
}
