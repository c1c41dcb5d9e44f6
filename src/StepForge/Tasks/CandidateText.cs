using YamlDotNet.RepresentationModel;

namespace StepForge.Tasks;

/// <summary>Reads a candidate program given with <c>--impl</c>: a YAML file with an <c>impl:</c> key, or a bare program.</summary>
public static class CandidateText
{
    public static string FromText(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode map
                && map.Children.TryGetValue(new YamlScalarNode("impl"), out var impl) && impl is YamlScalarNode scalar)
                return scalar.Value ?? "";
        }
        catch (YamlDotNet.Core.YamlException)
        {
            // Not YAML: a bare program.
        }
        return text;
    }
}
