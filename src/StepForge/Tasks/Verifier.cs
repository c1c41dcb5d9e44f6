using StepForge.PyLite;
using StepForge.PyLite.Runtime;
using StepForge.Step;
using StepForge.Tensors;

namespace StepForge.Tasks;

/// <param name="Seed">The first trial's data seed; trial t uses Seed + t.</param>
/// <param name="Sizes">Symbol sizes that replace the task's (a program right only at the default sizes is wrong).</param>
/// <param name="FixedTolerance">Compare with torch.testing's float32 tolerance at every size, instead of widening it with the sizes (<see cref="Tolerance.ForSizes"/>).</param>
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
    CostOptions? Cost = null);

/// <summary>
/// The whole verification of a candidate: parse → types → affine (→ repair) → seeded data → the task's PyTorch
/// reference → simulation → comparison of every output component, over several seeds. Every failure is a verdict.
/// </summary>
public static class Verifier
{
    /// <summary>Verifies one candidate. To verify many candidates of one task, keep a <see cref="TaskVerifier"/>.</summary>
    /// <exception cref="TaskFileException">when there is no candidate at all.</exception>
    public static Verdict Verify(TaskSpec task, string? impl = null, VerifyOptions? options = null) =>
        new TaskVerifier(task, options).Verify(impl);

    /// <summary>
    /// The reference tensors of every output (one per component) from the given input_data; the data transforms run
    /// in order in one scope, so a later one may use an earlier one's names.
    /// </summary>
    internal static List<List<Tensor>> ComputeReference(TaskSpec task, TaskRuntime runtime, IReadOnlyDictionary<string, Tensor> inputData)
    {
        var scope = new Scope(runtime.Globals);
        scope.Set("input_data", TaskRuntime.InputData(inputData));
        var results = new List<List<Tensor>>();
        foreach (var output in task.Outputs)
        {
            var value = runtime.Interpreter.Run(ParsedSnippets.Get(output.DataTransform), scope);
            var tensors = value switch
            {
                Tensor t => [t],
                PyList or PyTuple => Torch.Tensors(value),
                _ => throw new TensorException($"the data_transform of {output.Name} gives {PyValue.TypeName(value)}, not a tensor"),
            };
            var components = output.Type.DType.Components;
            if (tensors.Count != components.Count)
                throw new TensorException($"the data_transform of {output.Name} gives {tensors.Count} tensor(s) for {components.Count} component(s)");
            for (int c = 0; c < components.Count; c++)
            {
                var declared = DataGenerator.TensorShape(output.Type, components[c], runtime.Sizes);
                if (!tensors[c].Shape.SequenceEqual(declared))
                    throw new TensorException($"the data_transform of {output.Name} gives shape ({string.Join(", ", tensors[c].Shape)}) but its dtype and dims need ({string.Join(", ", declared)})");
            }
            results.Add(tensors);
        }
        return results;
    }
}
