using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <param name="Seed">The first trial's data seed; trial t uses Seed + t.</param>
/// <param name="Sizes">Symbol sizes that replace the task's (a program right only at the default sizes is wrong).</param>
/// <param name="MaxMemoryBytes">A run whose estimated memory (<see cref="Simulation.MemoryEstimate"/>) exceeds this is refused with a limit.memory verdict.</param>
/// <param name="FixedTolerance">Compare with torch.testing's float32 tolerance at every size, instead of widening it with the sizes (<see cref="Tolerance.Widened"/>).</param>
/// <param name="Cost">When set, a correct program's verdict carries its cost (cost-model.md), at the task's own sizes whatever <paramref name="Sizes"/> says.</param>
public sealed record VerifyOptions(
    int Seed = 0,
    int Trials = 1,
    IReadOnlyDictionary<string, long>? Sizes = null,
    bool RepairAffine = false,
    AffineMode AffineMode = AffineMode.Upstream,
    Func<ExecutionBudget>? Budget = null,
    bool Batching = true,
    bool FixedTolerance = false,
    long MaxMemoryBytes = VerifyOptions.DefaultMaxMemoryBytes,
    CostOptions? Cost = null)
{
    /// <summary>
    /// The memory a verification may plan for (its data, the reference and the program's live streams). The runtime
    /// and the collector's slack add up to about 300 MB on top of the estimate (bench/README.md), so a verification
    /// admitted by this budget stays under 1 GB; every task at M=64 N=128 K=128 D=128 estimates at most 112 MiB.
    /// </summary>
    public const long DefaultMaxMemoryBytes = 640L << 20;
}

/// <summary>
/// The whole verification of a candidate: parse → types → affine (→ repair) → seeded data → the task's PyTorch
/// reference → simulation → comparison of every output component, over several seeds. Every failure is a verdict.
/// </summary>
public static class Verifier
{
    /// <summary>Verifies one candidate. To verify many candidates of one task, keep a <see cref="TaskVerifier"/>.</summary>
    /// <exception cref="TaskFileException">when there is no candidate at all.</exception>
    public static Verdict Verify(TaskSpec task, string? impl = null, VerifyOptions? options = null)
    {
        // Nothing of this verification outlives it but the verdict, which holds no tensors.
        using var scope = TensorArena.Open();
        return new TaskVerifier(task, options, withinScope: true).Verify(impl);
    }

    /// <summary>
    /// The reference tensors of every output (one per component) from the given input_data: entry i of an output's
    /// data_transform computes component i. The entries run in order in one scope, so a later one may use an earlier
    /// one's names.
    /// </summary>
    internal static List<List<Tensor>> ComputeReference(TaskSpec task, TaskRuntime runtime, IReadOnlyDictionary<string, Tensor> inputData)
    {
        var scope = new Scope(runtime.Globals);
        scope.Set("input_data", TaskRuntime.InputData(inputData));
        var results = new List<List<Tensor>>();
        foreach (var output in task.Outputs)
        {
            var components = output.Type.DType.Components;
            if (output.DataTransforms.Count != components.Count)
                throw new TensorException($"the data_transform of {output.Name} has {output.DataTransforms.Count} entries for {components.Count} component(s)");
            var tensors = new List<Tensor>();
            for (int c = 0; c < components.Count; c++)
            {
                var value = runtime.Interpreter.Run(ParsedSnippets.Get(output.DataTransforms[c]), scope);
                var tensor = value switch
                {
                    Tensor t => t,
                    // A list or tuple of one tensor is that tensor (upstream's generator accepts either).
                    PyList { Items: [Tensor t] } => t,
                    PyTuple { Items: [Tensor t] } => t,
                    _ => throw new TensorException($"{What(output, c)} gives {PyValue.TypeName(value)}, not a tensor"),
                };
                var declared = DataGenerator.TensorShape(output.Type, components[c], runtime.Sizes);
                if (!tensor.Shape.SequenceEqual(declared))
                    throw new TensorException($"{What(output, c)} gives shape ({string.Join(", ", tensor.Shape)}) but its dtype and dims need ({string.Join(", ", declared)})");
                tensors.Add(tensor);
            }
            results.Add(tensors);
        }
        return results;
    }

    /// <summary>Which snippet computes component <paramref name="c"/> of an output, as its errors name it.</summary>
    private static string What(OutputSpec output, int c) =>
        output.Type.DType.Components.Count == 1 ? $"the data_transform of {output.Name}" : $"entry {c} of the data_transform of {output.Name}";
}
