using System.Xml.Linq;
using StepForge.Reports;

namespace StepForge.Tests.Reports;

/// <summary>Readable charts: ticks at round numbers, axes that end at the data, legends written whole.</summary>
public class SvgChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void Ticks_AreRoundNumbers_NeverPastTheData()
    {
        Assert.Equal([0, 5, 10, 15, 20, 25], SvgChart.Ticks(27, integer: true));
        Assert.Equal([0, 1], SvgChart.Ticks(1, integer: true));
        Assert.Equal([0, 0.2, 0.4, 0.6000000000000001, 0.8, 1], SvgChart.Ticks(1.05, integer: false));
        Assert.Equal([0, 500_000, 1_000_000, 1_500_000, 2_000_000], SvgChart.Ticks(2_400_000, integer: false));
        Assert.Equal(["0", "500k", "1M", "1.5M", "2M"], SvgChart.Ticks(2_400_000, integer: false).Select(SvgChart.TickText));
        // The 6.75 / 13.5 / 20.25: a count axis to 27 gets whole, round ticks.
        Assert.All(SvgChart.Ticks(27, integer: true), t => Assert.Equal(0, t % 5));
    }

    [Fact]
    public void ARunOfTwoIterations_HasAnIterationAxisThatEndsAtOne()
    {
        var curve = new LearningCurve("s.sqlite", "improve", "builtin:search", "single", 27,
            [new CurvePoint(0, 0, 0, 26, 0, true), new CurvePoint(1, 0, 0, 26, 0, false)]);
        var svg = XDocument.Parse(SvgChart.LearningCurves([curve]));
        var xLabels = svg.Descendants(Svg + "text").Where(t => (string?)t.Attribute("text-anchor") == "middle" && t.Attribute("transform") is null)
            .Select(t => t.Value).Where(v => v.All(char.IsDigit)).ToList();
        Assert.Equal(["0", "1"], xLabels);
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "iteration");
        // The y axis is the task count: 0 to 27 in fives.
        var yLabels = svg.Descendants(Svg + "text").Where(t => (string?)t.Attribute("text-anchor") == "end").Select(t => t.Value).ToList();
        Assert.Equal(["0", "5", "10", "15", "20", "25"], yLabels);
    }

    [Fact]
    public void ALongLegendLabel_IsWrittenWhole_InsideTheImage()
    {
        var model = "openai:a-model-with-a-rather-long-name@http://127.0.0.1:54321/v1";
        var curve = new LearningCurve("s.sqlite", "improve", model, "agent", 6, [new CurvePoint(0, 1000, 100, 2, 0, true)]) { TestTasks = 1 };
        var svg = XDocument.Parse(SvgChart.LearningCurves([curve]));
        var label = svg.Descendants(Svg + "text").Single(t => t.Value.Contains(model, StringComparison.Ordinal));
        Assert.Equal($"improve: {model}, agent (6 training, 1 held-out tasks)", label.Value);
        int width = int.Parse((string)svg.Root!.Attribute("width")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(width >= int.Parse((string)label.Attribute("x")!, System.Globalization.CultureInfo.InvariantCulture) + label.Value.Length * 12 * 0.6);
    }
}
