using System.Diagnostics;
using System.Xml.Linq;
using StepForge.Agents;
using StepForge.Learning;
using StepForge.Llm;
using StepForge.Reports;
using StepForge.Tests.Learning;
using StepForge.Tests.Support;

namespace StepForge.Tests.Reports;

/// <summary>A store with a self-improvement run (the curriculum of <see cref="SelfImprovementTests"/>) and a plain run.</summary>
public static class ReportFixture
{
    private static readonly Lazy<string> Store = new(Make);

    public static string Db => Store.Value;

    private static string Make()
    {
        var db = Path.Combine(Scratch.Folder("stepforge-report-"), "exp.sqlite");
        var curriculum = new SelfImprovementTests.Curriculum();
        using var server = new FakeModelServer((r, _) => curriculum.Answer(r));
        var (train, test) = SelfImprovementTests.Tasks();
        using var store = new ExperienceStore(db);
        using (var client = ModelPipeline.Create(new ModelSettings(ModelSpec.Parse("fake-small", server.OpenAIUrl), null, new RetryPolicy(2)), new ResponseCache(db)))
            new SelfImprovement(new LlmProposer(client.Chat, client.Spec.Id), store, SelfImprovementTests.Options()).RunAsync(train, test).GetAwaiter().GetResult();
        using (var client = ModelPipeline.Create(new ModelSettings(ModelSpec.Parse("fake-large", server.OpenAIUrl), null, new RetryPolicy(2)), new ResponseCache(db)))
            new Sampler(new LlmProposer(client.Chat, client.Spec.Id), store, new SamplerOptions(Setting.Agent, 2, [0.7], Concurrency: 1)).RunAsync([.. train, .. test]).GetAwaiter().GetResult();
        return db;
    }
}

/// <summary>The report's numbers come from the store: recomputed here from the samples themselves.</summary>
public class ReportTests
{
    private static Report Build()
    {
        using var store = new ExperienceStore(ReportFixture.Db);
        return ReportBuilder.Build([(ReportFixture.Db, store)], [1, 2]);
    }

    [Fact]
    public void TheLearningCurve_MatchesTheSamplesInTheStore()
    {
        var report = Build();
        var curve = Assert.Single(report.Curves);
        Assert.Equal("improve", curve.Run);
        Assert.Equal(5, curve.Tasks);
        Assert.Equal(1, curve.TestTasks);
        using var store = new ExperienceStore(ReportFixture.Db);
        var samples = store.Samples();
        long tokens = 0;
        var solved = new HashSet<string>();
        int best = -1;
        for (int i = 0; i < curve.Points.Count; i++)
        {
            var mine = samples.Where(s => s.Key.Experiment == $"improve/iter-{i}").ToList();
            Assert.NotEmpty(mine);
            tokens += mine.Sum(s => s.InputTokens);
            solved.UnionWith(mine.Where(s => s.IsCorrect).Select(s => s.Key.Task));
            var point = curve.Points[i];
            Assert.Equal(i, point.Iteration);
            Assert.Equal(tokens, point.InputTokens);
            Assert.Equal(solved.Count(t => t != "rms-X"), point.Solved);
            Assert.Equal(solved.Contains("rms-X") ? 1 : 0, point.SolvedTest);
            int train = solved.Count(t => t != "rms-X");
            Assert.Equal(train > best, point.ParetoOptimal);
            best = Math.Max(best, train);
        }
        Assert.Equal([true, true, false, true, false, false], curve.Points.Select(p => p.ParetoOptimal));
    }

    [Fact]
    public void Tables_PoolAnImproveRunsIterations_AndKeepModelsAndSettingsApart()
    {
        var report = Build();
        var all = report.Groups.Where(g => g.Name == "all").ToList();
        Assert.Equal(["fake-large/agent", "fake-small/single"], all.Select(g => g.Model.Split(':')[1].Split('@')[0] + "/" + g.Setting).Order());
        var small = all.Single(g => g.Setting == "single");
        Assert.Equal(5, small.Solved);
        Assert.Equal(6, small.Tasks);
        var hard = report.Tasks.Single(t => t.Name == "rms-H" && t.Setting == "single");
        Assert.Equal(4, hard.Samples);
        Assert.Equal(0.25, hard.PassAt[1], 9);
        Assert.Equal(0.5, hard.PassAt[2], 9);
        Assert.Equal(report.Solved.Select(s => s.Solved), all.Select(g => g.Solved));
    }

    [Fact]
    public void TheCommand_PrintsTheCurveAndTheTables_AndFailsCleanlyOnBadFiles()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(0, Support.Cli.Invoke(["report", ReportFixture.Db, "--k", "1,2"], stdout, stderr, new StringReader("")));
        var text = stdout.ToString();
        Assert.Contains("learning curve: improve", text, StringComparison.Ordinal);
        Assert.Matches(@"\n\s+3\s+[\d,]+\s+[\d,]+\s+4\s+1\s+\*", text);
        Assert.Contains("pass@2", text, StringComparison.Ordinal);

        var notAStore = Path.Combine(Scratch.Folder(), "x.sqlite");
        File.WriteAllText(notAStore, "this is not a database, just text that is long enough to look like a file header...");
        var err = new StringWriter();
        Assert.Equal(2, Support.Cli.Invoke(["report", notAStore], new StringWriter(), err, new StringReader("")));
        Assert.Contains("not a StepForge experience store", err.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, Support.Cli.Invoke(["report", notAStore + ".missing"], new StringWriter(), new StringWriter(), new StringReader("")));
    }
}

/// <summary>The HTML report: one page and its SVG plots, and what headless Chromium shows of them.</summary>
public class HtmlReportTests
{
    private static string Write()
    {
        var folder = Scratch.Folder("stepforge-html-");
        var err = new StringWriter();
        Assert.Equal(0, Support.Cli.Invoke(["report", ReportFixture.Db, "--html", folder, "--k", "1,2"], new StringWriter(), err, new StringReader("")));
        return folder;
    }

    [Fact]
    public void ThePage_HasItsTablesAndPlots_AndNeedsNoNetwork()
    {
        var folder = Write();
        var page = File.ReadAllText(Path.Combine(folder, "index.html"));
        foreach (var part in new[] { "<h2>Experiments</h2>", "<h2>pass@k by group</h2>", "<h2>Learning curves</h2>", "<h2>What the columns mean</h2>",
                     "<h2>By experiment</h2>", "<h2>By group</h2>", "<h2>By task</h2>",
                     $"<img src=\"{HtmlReport.CurvesImage}\"", $"<img src=\"{HtmlReport.PassAtKImage}\"", "<td class=\"l n\">rms-H</td>",
                     "<th>written by</th><td class=\"l\"><code>stepforge report ", "<th>StepForge</th>", "<th>date</th>", "<dt>unique</dt>", "<dt>verdicts</dt>" })
            Assert.Contains(part, page, StringComparison.Ordinal);
        Assert.Contains(", commit ", page, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(src|href)=""(https?:)?//", page);
        Assert.DoesNotContain("<link", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.Ordinal);
        var curves = XDocument.Load(Path.Combine(folder, HtmlReport.CurvesImage));
        XNamespace svg = "http://www.w3.org/2000/svg";
        // One marker per iteration in each panel, training and held-out, filled for the Pareto-optimal ones, which the frontier joins.
        var markers = curves.Descendants(svg + "circle").Where(c => c.Element(svg + "title") is not null).ToList();
        var training = markers.Where(c => c.Element(svg + "title")!.Value.Contains("of 5 solved", StringComparison.Ordinal)).ToList();
        var heldOut = markers.Where(c => c.Element(svg + "title")!.Value.Contains("of 1 solved", StringComparison.Ordinal)).ToList();
        Assert.Equal((6, 6), (training.Count, heldOut.Count));
        Assert.Equal(3, training.Count(c => (string?)c.Attribute("fill") != "white"));
        Assert.Equal(2, heldOut.Count(c => (string?)c.Attribute("fill") != "white"));
        Assert.Equal(2, curves.Descendants(svg + "path").Count());
        // pass@1 and pass@2 for two experiments in one group and in all: 2 x 2 x 2 bars, each with its figures.
        var bars = XDocument.Load(Path.Combine(folder, HtmlReport.PassAtKImage));
        Assert.Equal(8, bars.Descendants(svg + "rect").Count(r => r.Element(svg + "title") is not null));
    }

    [ChromiumFact]
    public void HeadlessChromium_RendersTheReport()
    {
        var folder = Write();
        var artifacts = Path.Combine(TestPaths.RepoRoot, "artifacts");
        Directory.CreateDirectory(artifacts);
        var bytes = HeadlessChromium.Screenshot(Path.Combine(folder, "index.html"), Path.Combine(artifacts, "report.png"), "1280,2400");
        // A blank page of this size compresses to a few kilobytes; tables, text and plots take far more.
        Assert.True(bytes.Length > 40_000, $"the screenshot is only {bytes.Length} bytes: the page looks empty");
    }
}

/// <summary>Headless Chromium's screenshot of a page, as the report tests take it.</summary>
public static class HeadlessChromium
{
    /// <summary>Writes the screenshot to <paramref name="png"/> and returns its bytes, which must be a PNG.</summary>
    /// <param name="windowSize">WIDTH,HEIGHT in pixels.</param>
    public static byte[] Screenshot(string page, string png, string windowSize)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(png)!);
        File.Delete(png);
        var start = new ProcessStartInfo(ChromiumFactAttribute.Chromium!) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", $"--window-size={windowSize}", $"--screenshot={png}", $"file://{page}" })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEndAsync();
        // A safety net far above the few seconds it takes, so a loaded machine never fails the test.
        Assert.True(process.WaitForExit(600_000), "chromium did not finish within ten minutes");
        Assert.True(File.Exists(png), "no screenshot written");
        var bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        return bytes;
    }
}

/// <summary>A test that needs headless Chromium; skipped, saying how to get it, when it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public static string? Chromium { get; } = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    public ChromiumFactAttribute()
    {
        if (Chromium is null) Skip = "headless Chromium is not installed; scripts/screenshot-report.sh installs it and runs this test";
    }
}
