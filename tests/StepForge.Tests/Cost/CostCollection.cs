namespace StepForge.Tests.Cost;

/// <summary>
/// The cost tests run by themselves, after the parallel ones: several cost all 27 benchmark programs or run whole
/// sampling loops, and the suite's verification limits count wall-clock time (10 s per verification), which a
/// 2-core machine under load otherwise reaches in the slowest per-element checks running beside them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CostCollection
{
    public const string Name = "cost model";
}
