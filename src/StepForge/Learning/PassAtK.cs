namespace StepForge.Learning;

/// <summary>The unbiased pass@k estimator of Chen et al. (2021): 1 - C(n-c, k) / C(n, k).</summary>
public static class PassAtK
{
    /// <param name="n">Samples drawn.</param>
    /// <param name="c">Correct samples among them.</param>
    /// <param name="k">Samples a user would draw; must not exceed n.</param>
    public static double Estimate(int n, int c, int k)
    {
        if (k < 1 || n < k) throw new ArgumentOutOfRangeException(nameof(k), $"pass@{k} needs at least {k} samples (have {n})");
        if (c < 0 || c > n) throw new ArgumentOutOfRangeException(nameof(c));
        if (n - c < k) return 1.0;
        // The product form avoids huge binomials: C(n-c, k) / C(n, k) = prod over i in (n-c, n] of (1 - k / i).
        double fail = 1.0;
        for (int i = n - c + 1; i <= n; i++) fail *= 1.0 - (double)k / i;
        return 1.0 - fail;
    }
}
