using System.Text;
using StepForge.PyLite;
using StepForge.Step;
using StepForge.Tasks;
using StepForge.Tests.Support;

namespace StepForge.Tests.Step;

/// <summary>
/// The static checker never throws: random programs over the op catalogue, mutated reference programs and broken
/// syntax each get a verdict. Seeded, so a failure can be replayed.
/// </summary>
public class CheckerPropertyTests
{
    private static readonly string[] Ops = [.. OpCatalog.Names];
    private static readonly string[] Fragments =
    [
        "(", ")", "[", "]", ",", "=", ".apply", "step.", " for ", " in ", "zip(", "range(", "return ", "\n", "#", "'", "\"",
        "f'", "...", "**", "@", ":", "-", "1", "0", "-1", "10**9", "lambda", "import os", "__import__('os')", "\t", "  ",
    ];

    private static Env Environment() => Env.With("E0: fp32 [N, M]", "E1: Buffer(fp32, [D]) [N, M]", "E2: Multihot(fp32, E) [M]", "E3: fp32 [K, N, M]")
        .Fn("fn_add", "fp32", "fp32", 0).Fn("fn_mul", "[fp32, fp32]", "fp32").Fn("fn_buf", "Buffer(fp32, [D])", "Buffer(fp32, [D])", 0)
        .Fn("fn_pair", "[fp32, Buffer(fp32, [D])]", "Buffer(fp32, [D])", 0).Out("fp32 [M]");

    private static string RandomConfig(Random rng, string op)
    {
        string Int() => rng.Next(6) switch { 0 => "-1", 1 => "0", 2 => "1", 3 => "2", 4 => "3", _ => "10**9" };
        string Fn() => rng.Next(6) switch { 0 => "fn_add", 1 => "fn_mul", 2 => "fn_buf", 3 => "fn_pair", 4 => "E0", _ => "nope" };
        string Dim() => rng.Next(5) switch { 0 => "D", 1 => "E_value", 2 => Int(), 3 => "M*N", _ => "fn_add" };
        var parameters = OpCatalog.Parameters[op];
        var parts = parameters.Select(p => p.Kind switch
        {
            ParamKind.Fn => $"fn={Fn()}",
            ParamKind.Int => $"{p.Name}={Int()}",
            ParamKind.IntList => $"{p.Name}=" + (rng.Next(3) switch { 0 => "[1]", 1 => "(1, 2)", _ => $"[{Int()}, {Int()}]" }),
            _ => $"{p.Name}={Dim()}",
        }).ToList();
        if (rng.Next(8) == 0 && parts.Count > 0) parts.RemoveAt(rng.Next(parts.Count));
        if (rng.Next(10) == 0) parts.Add("bogus=1");
        return string.Join(", ", parts);
    }

    private static string RandomProgram(Random rng)
    {
        var names = new List<string> { "E0", "E1", "E2", "E3" };
        var sb = new StringBuilder();
        int lines = rng.Next(1, 9);
        for (int i = 0; i < lines; i++)
        {
            var op = Ops[rng.Next(Ops.Length)];
            string Pick() => rng.Next(12) == 0 ? "undefined" : names[rng.Next(names.Count)];
            var arg = op switch
            {
                "Zip" or "RepeatRef" or "Partition" => $"({Pick()}, {Pick()})",
                "Merge" => $"([{Pick()}, {Pick()}, {Pick()}], {Pick()})",
                _ => rng.Next(10) == 0 ? $"({Pick()}, {Pick()})" : Pick(),
            };
            var target = $"V{i}";
            if (op is "Copy") { sb.AppendLine($"{target}, {target}b = step.Copy().apply({Pick()})"); names.Add(target + "b"); }
            else if (op is "Partition") sb.AppendLine($"{target} = step.{op}({RandomConfig(rng, op)}).apply({arg})");
            else sb.AppendLine($"{target} = step.{op}({RandomConfig(rng, op)}).apply({arg})");
            names.Add(op == "Partition" ? $"{target}[{rng.Next(-1, 4)}]" : target);
            if (rng.Next(10) == 0)
                sb.AppendLine($"W{i} = [step.Map(fn=fn_add).apply(s) for s in {(op == "Partition" ? target : "[E0]")}]");
        }
        sb.Append("return ").AppendLine(rng.Next(5) == 0 ? $"{names[^1]}, {names[0]}" : names[^1]);
        return sb.ToString();
    }

    private static string Mutate(Random rng, string program)
    {
        var sb = new StringBuilder(program);
        int edits = rng.Next(1, 4);
        for (int e = 0; e < edits && sb.Length > 0; e++)
        {
            int at = rng.Next(sb.Length);
            switch (rng.Next(5))
            {
                case 0: sb.Remove(at, Math.Min(rng.Next(1, 6), sb.Length - at)); break;
                case 1: sb.Insert(at, Fragments[rng.Next(Fragments.Length)]); break;
                case 2: sb[at] = (char)rng.Next(32, 127); break;
                case 3:
                {
                    var lines = sb.ToString().Split('\n').ToList();
                    int a = rng.Next(lines.Count), b = rng.Next(lines.Count);
                    (lines[a], lines[b]) = (lines[b], lines[a]);
                    sb.Clear().Append(string.Join('\n', lines));
                    break;
                }
                default:
                {
                    var lines = sb.ToString().Split('\n').ToList();
                    lines.Insert(rng.Next(lines.Count), lines[rng.Next(lines.Count)]);
                    sb.Clear().Append(string.Join('\n', lines));
                    break;
                }
            }
        }
        return sb.ToString();
    }

    private static void AssertVerdict(string program, ProgramEnvironment env, StaticCheckOptions options, Dictionary<VerdictKind, int> seen)
    {
        StaticCheckResult result;
        try
        {
            result = StaticChecker.Check(program, env, options);
        }
        catch (Exception e)
        {
            Assert.Fail($"the checker threw {e.GetType().Name}: {e.Message}\nprogram:\n{program}");
            return;
        }
        var kind = result.Problem?.Kind ?? VerdictKind.Correct;
        Assert.True(result.Problem is not null || result.Program is not null, "a passing check has a program");
        if (result.Problem is { } p) Assert.False(string.IsNullOrWhiteSpace(p.Message));
        seen[kind] = seen.GetValueOrDefault(kind) + 1;
    }

    [Fact]
    public void TenThousandRandomAndMutatedPrograms_EachGetAVerdict()
    {
        var rng = new Random(20261124);
        var env = Environment().Build();
        var seeds = new List<(string Program, ProgramEnvironment Env)>();
        foreach (var file in TestPaths.UpstreamFiles("_ref.yaml").Concat(
                     Directory.Exists(TestPaths.ProjectBenchmark) ? Directory.EnumerateFiles(TestPaths.ProjectBenchmark, "*.yaml", SearchOption.AllDirectories) : []))
        {
            var task = TaskReader.ReadFile(file);
            if (task.Impl is not null) seeds.Add((task.Impl, task.Environment()));
        }
        var seen = new Dictionary<VerdictKind, int>();
        int count = 0;
        for (; count < 10_000; count++)
        {
            var options = new StaticCheckOptions(RepairAffine: rng.Next(2) == 0, AffineMode: rng.Next(4) == 0 ? AffineMode.Strict : AffineMode.Upstream);
            switch (count % 3)
            {
                case 0:
                    AssertVerdict(RandomProgram(rng), env, options, seen);
                    break;
                case 1 when seeds.Count > 0:
                {
                    var (program, taskEnv) = seeds[rng.Next(seeds.Count)];
                    AssertVerdict(Mutate(rng, program), taskEnv, options, seen);
                    break;
                }
                default:
                    AssertVerdict(Mutate(rng, RandomProgram(rng)), env, options, seen);
                    break;
            }
        }
        Assert.Equal(10_000, count);
        // The generator must reach every stage, or the property says little.
        Assert.True(seen.GetValueOrDefault(VerdictKind.Parse) > 100, $"verdicts: {string.Join(", ", seen)}");
        Assert.True(seen.GetValueOrDefault(VerdictKind.Type) > 100, $"verdicts: {string.Join(", ", seen)}");
        Assert.True(seen.GetValueOrDefault(VerdictKind.Correct) + seen.GetValueOrDefault(VerdictKind.Affine) > 10, $"verdicts: {string.Join(", ", seen)}");
    }

    [Fact]
    public void HostileInputs_GetAVerdictQuickly()
    {
        var env = Environment().Build();
        string[] hostile =
        [
            "x = [0 for i in range(10**9)]\nreturn E0",
            "x = [[0 for i in range(1000)] for j in range(1000)]\nreturn E0",
            "x = " + new string('[', 5000) + new string(']', 5000) + "\nreturn E0",
            "x = " + string.Concat(Enumerable.Repeat("1+", 50_000)) + "1\nreturn E0",
            "x = 9" + new string('9', 5000) + "\nreturn E0",
            "E9 = step.Repeat(n=10**9).apply(E0)\nreturn E9",
            string.Join("\n", Enumerable.Range(0, 10_000).Select(i => $"E{i + 10} = step.Map(fn=fn_add).apply({(i == 0 ? "E0" : $"E{i + 9}")})")) + "\nreturn E10009",
            "\0\u0001\uffff",
            "",
        ];
        foreach (var program in hostile)
        {
            var result = StaticChecker.Check(program, env);
            Assert.True(result.Problem is not null || result.Program is not null, program[..Math.Min(40, program.Length)]);
        }
    }

    [Fact]
    public void SyntaxErrors_FromTheParserAreParseVerdicts()
    {
        Assert.Throws<PyLiteSyntaxException>(() => Parser.ParseModule("x = ("));
        Assert.Equal(VerdictKind.Parse, StaticChecker.Check("x = (", Environment().Build()).Problem?.Kind);
    }
}
