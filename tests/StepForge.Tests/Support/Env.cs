using StepForge.Step;

namespace StepForge.Tests.Support;

/// <summary>
/// A compact way to write program environments in tests: streams as <c>"x: Buffer(fp32, [D]) [N, M]"</c>
/// (dtype, then dims innermost first) and functions by signature.
/// </summary>
public sealed class Env
{
    private readonly List<StreamDecl> _inputs = [];
    private readonly List<FnDecl> _fns = [];
    private readonly List<StreamDecl> _outputs = [];
    private readonly Dictionary<string, long> _sizes = new() { ["M"] = 5, ["N"] = 7, ["K"] = 9, ["D"] = 16, ["E"] = 3 };

    public static Env With(params string[] inputs)
    {
        var env = new Env();
        foreach (var i in inputs) env._inputs.Add(Decl(i));
        return env;
    }

    public Env Fn(string funcName, string input, string output, params double[] init)
    {
        _fns.Add(new FnDecl(funcName, funcName, DTypeSyntax.ParseDType(input), DTypeSyntax.ParseDType(output), "return [input[0]]",
            init.Length == 0 ? null : new ValueList<double>(init)));
        return this;
    }

    public Env Out(params string[] outputs)
    {
        for (int i = 0; i < outputs.Length; i++) _outputs.Add(Decl($"S{i}: {outputs[i]}"));
        return this;
    }

    public ProgramEnvironment Build() => new(_inputs, _fns, _outputs, _sizes,
        new Dictionary<string, long> { ["E_value"] = 3, ["two"] = 2 }, new HashSet<string> { "E_value", "two", "softmax" });

    public static StreamType Type(string text)
    {
        int open = text.LastIndexOf('[');
        var dtype = DTypeSyntax.ParseDType(text[..open].Trim());
        var dims = text[(open + 1)..text.LastIndexOf(']')].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(DTypeSyntax.ParseDim);
        return new StreamType(dtype, new ValueList<Dim>(dims));
    }

    private static StreamDecl Decl(string text)
    {
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        return new StreamDecl(text[..colon].Trim(), Type(text[(colon + 1)..]));
    }

    /// <summary>Runs the static pipeline; null when the program passes.</summary>
    public Diagnostic? Check(string program, StaticCheckOptions? options = null) =>
        StaticChecker.Check(program, Build(), options).Problem;

    /// <summary>Binds a program and returns the type of the stream named <paramref name="name"/>, failing the test on any problem.</summary>
    public StreamType TypeOf(string program, string name)
    {
        var module = StepForge.PyLite.Parser.ParseModule(program + $"\nreturn {name}");
        var (bound, problem) = ProgramBinder.Bind(module, Build(), checkOutputs: false);
        Assert.True(bound is not null, $"unexpected problem: {problem}");
        return bound.Program.Streams[bound.Program.Returns[0]];
    }
}
