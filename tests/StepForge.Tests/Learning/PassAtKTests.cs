using StepForge.Learning;

namespace StepForge.Tests.Learning;

/// <summary>The unbiased estimator of Chen et al. (2021).</summary>
public class PassAtKTests
{
    [Theory]
    [InlineData(10, 0, 1, 0.0)]
    [InlineData(10, 10, 5, 1.0)]
    [InlineData(10, 3, 1, 0.3)]
    [InlineData(5, 1, 5, 1.0)]
    [InlineData(4, 2, 2, 1.0 - 1.0 / 6.0)]
    [InlineData(10, 1, 5, 0.5)]
    public void MatchesOneMinusTheRatioOfBinomials(int n, int c, int k, double expected) =>
        Assert.Equal(expected, PassAtK.Estimate(n, c, k), 12);

    [Fact]
    public void AgreesWithTheBinomialFormula_OnManyCases()
    {
        static double Binomial(int n, int k) => k < 0 || k > n ? 0 : Enumerable.Range(1, k).Aggregate(1.0, (acc, i) => acc * (n - k + i) / i);
        for (int n = 1; n <= 30; n++)
            for (int c = 0; c <= n; c++)
                for (int k = 1; k <= n; k++)
                    Assert.Equal(1 - Binomial(n - c, k) / Binomial(n, k), PassAtK.Estimate(n, c, k), 9);
    }

    [Fact]
    public void KAboveN_IsRefused() => Assert.Throws<ArgumentOutOfRangeException>(() => PassAtK.Estimate(3, 1, 5));
}
