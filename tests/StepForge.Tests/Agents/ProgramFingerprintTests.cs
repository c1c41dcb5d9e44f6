using StepForge.Agents;

namespace StepForge.Tests.Agents;

/// <summary>Duplicates are found by structure: names, spacing and comments do not matter; anything else does.</summary>
public class ProgramFingerprintTests
{
    private const string Program = "a, b = step.Copy().apply(x)\nc = step.Zip().apply((a, b))\nreturn step.Map(fn=f).apply(c)\n";

    [Fact]
    public void RenamingLocalsAndReformatting_KeepsTheFingerprint() =>
        Assert.Equal(ProgramFingerprint.Of(Program),
            ProgramFingerprint.Of("# pairs\nleft,right = step.Copy().apply( x )\n\nzipped = step.Zip().apply((left, right))  # zip\nreturn step.Map(fn=f).apply(zipped)\n"));

    [Theory]
    [InlineData("a, b = step.Copy().apply(x)\nc = step.Zip().apply((b, a))\nreturn step.Map(fn=f).apply(c)\n")]
    [InlineData("a, b = step.Copy().apply(x)\nc = step.Zip().apply((a, b))\nreturn step.Map(fn=g).apply(c)\n")]
    [InlineData("a, b = step.Copy().apply(y)\nc = step.Zip().apply((a, b))\nreturn step.Map(fn=f).apply(c)\n")]
    public void AnyOtherChange_ChangesIt(string other) =>
        Assert.NotEqual(ProgramFingerprint.Of(Program), ProgramFingerprint.Of(other));

    [Fact]
    public void UnparsableText_StillHasOne() =>
        Assert.Equal(ProgramFingerprint.Of("x = = y\n"), ProgramFingerprint.Of("  x = = y  \n\n"));
}
