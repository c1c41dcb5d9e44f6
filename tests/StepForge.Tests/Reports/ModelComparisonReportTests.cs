using System.Collections.Concurrent;
using System.Text.Json;
using System.Xml.Linq;
using StepForge.Reports;
using StepForge.Tests.Agents;
using StepForge.Tests.Support;

namespace StepForge.Tests.Reports;

/// <summary>
/// Two fake models in two settings, each an improve run with held-out tasks, in four stores, and one report of the
/// four: the page a reader compares models with (as the paper's Figure 7).
/// </summary>
public static class ModelComparison
{
    /// <summary>Training tasks by group, and the held-out ones.</summary>
    public static readonly (string Task, string Group)[] Train = [("E", "norm"), ("H", "norm"), ("T1", "attn"), ("T2", "attn"), ("U", "rope")];
    public static readonly (string Task, string Group)[] Test = [("X", "attn"), ("Y", "rope")];

    private static readonly Lazy<(string Folder, string[] Stores)> Made = new(Make);

    public static string[] Stores => Made.Value.Stores;

    /// <summary>
    /// The fake models: fake-small solves E always and H once in four; T1 and X once H's program is shown, T2 once E's is;
    /// never U or Y. fake-large also solves H and T1 always, U once T1's program is shown and Y once in four. Without E's
    /// program both answer T2 with a program that consumes a stream twice, which the agent setting's guardian repairs.
    /// </summary>
    private static FakeReply Answer(FakeRequest request, ConcurrentDictionary<(string, string), int> asked)
    {
        var task = AgentScenario.TaskOf(request)["rms-".Length..];
        bool large = request.Model.Contains("large", StringComparison.Ordinal);
        var shown = request.User[..request.User.LastIndexOf("Your task:", StringComparison.Ordinal)];
        bool Shown(string name) => shown.Contains($"name: rms-{name}\n", StringComparison.Ordinal);
        int n = asked.AddOrUpdate((request.Model, task), 1, (_, c) => c + 1);
        var kind = task switch
        {
            "E" => "correct",
            "H" => large || n % 4 == 1 ? "correct" : "wrong",
            "T1" => large || Shown("H") ? "correct" : "wrong",
            "X" => Shown("H") ? "correct" : "wrong",
            "T2" => Shown("E") ? "correct" : "nonaffine",
            "U" => large && Shown("T1") ? "correct" : "wrong",
            "Y" => large && n % 4 == 1 ? "correct" : "wrong",
            _ => "wrong",
        };
        var program = AgentScenario.Program(kind);
        return new FakeReply.Answer(AgentScenario.Fenced(program));
    }

    private static string Write(string folder, (string Task, string Group) t)
    {
        File.WriteAllText(Path.Combine(folder, $"rms-{t.Task}.yaml"), AgentScenario.Source
            .Replace("name: norm-rmsnorm", $"name: rms-{t.Task}", StringComparison.Ordinal)
            .Replace("group: norm", $"group: {t.Group}", StringComparison.Ordinal));
        return folder;
    }

    private static (string, string[]) Make()
    {
        var folder = Scratch.Folder("stepforge-models-");
        var train = Directory.CreateDirectory(Path.Combine(folder, "train")).FullName;
        var test = Directory.CreateDirectory(Path.Combine(folder, "test")).FullName;
        foreach (var t in Train) Write(train, t);
        foreach (var t in Test) Write(test, t);
        var asked = new ConcurrentDictionary<(string, string), int>();
        using var server = new FakeModelServer((r, _) => Answer(r, asked));
        var stores = new List<string>();
        foreach (var model in new[] { "fake-small", "fake-large" })
            foreach (var setting in new[] { "single", "agent" })
            {
                var db = Path.Combine(folder, "runs", $"{model}-{setting}.sqlite");
                var (exit, _, err) = Support.Cli.Run("improve", train, "--test", test, "--model", model, "--base-url", server.OpenAIUrl, "--setting", setting,
                    "--samples", "2", "--temperature", "0.2,0.8", "--granularity", "2", "--concurrency", "1", "--trials", "1", "--price", "3,15", "--db", db);
                Assert.True(exit == 0, err);
                stores.Add(db);
            }
        return (folder, [.. stores]);
    }
}

/// <summary>The model comparison's report: four experiments apart, each with its held-out curve, and what Chromium shows of it.</summary>
public class ModelComparisonHtmlReportTests
{
    private static string Write(string folder)
    {
        var (exit, _, err) = Support.Cli.Run(["report", .. ModelComparison.Stores, "--html", folder, "--k", "1,2,4"]);
        Assert.True(exit == 0, err);
        return folder;
    }

    [Fact]
    public void FourExperiments_StayApart_EachWithItsTrainingAndHeldOutCurve()
    {
        var (exit, output, err) = Support.Cli.Run(["report", .. ModelComparison.Stores, "--json", "--k", "1,2,4"]);
        Assert.True(exit == 0, err);
        var json = JsonDocument.Parse(output).RootElement;
        // Every store's experiment is called improve: the report adds the store to tell them apart.
        var experiments = json.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("label").GetString()).ToList();
        Assert.Equal(["improve (fake-large-agent.sqlite)", "improve (fake-large-single.sqlite)", "improve (fake-small-agent.sqlite)", "improve (fake-small-single.sqlite)"],
            experiments.Order(StringComparer.Ordinal));
        var curves = json.GetProperty("curves").EnumerateArray().ToList();
        Assert.Equal(4, curves.Count);
        Assert.All(curves, c => Assert.Equal((5, 2), (c.GetProperty("tasks").GetInt32(), c.GetProperty("test_tasks").GetInt32())));
        // The agent's guardian repairs T2 at once; the large model solves more than the small one.
        var solved = json.GetProperty("solved").EnumerateArray().ToDictionary(s => s.GetProperty("experiment").GetString()!, s => s.GetProperty("solved").GetInt32());
        Assert.True(solved["improve (fake-large-agent.sqlite)"] > solved["improve (fake-small-single.sqlite)"]);

        var folder = Write(Scratch.Folder("stepforge-models-html-"));
        XNamespace svg = "http://www.w3.org/2000/svg";
        var curvesSvg = XDocument.Load(Path.Combine(folder, HtmlReport.CurvesImage));
        // Four frontiers in each panel.
        Assert.Equal(8, curvesSvg.Descendants(svg + "path").Count());
        var passAtK = File.ReadAllText(Path.Combine(folder, HtmlReport.PassAtKImage));
        // Tasks solved early are sampled in fewer iterations: every legend gives its range of samples per task.
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Count(passAtK, @"\(n = \d+ to \d+ samples per task\)"));
    }

    [ChromiumFact]
    public void HeadlessChromium_RendersTheModelComparison()
    {
        var artifacts = Path.Combine(TestPaths.RepoRoot, "artifacts");
        var folder = Write(Path.Combine(artifacts, "report-models"));
        var bytes = HeadlessChromium.Screenshot(Path.Combine(folder, "index.html"), Path.Combine(artifacts, "report-models.png"), "1400,5200");
        Assert.True(bytes.Length > 60_000, $"the screenshot is only {bytes.Length} bytes: the page looks empty");
    }
}
