using StepForge.Cost;

namespace StepForge.Tests.Cost;

/// <summary>cost-model.md, "The machine": the defaults are the doc's, and a YAML file can override every number.</summary>
[Collection(CostCollection.Name)]
public class MachineTests
{
    [Fact]
    public void TheDefaults_AreTheDocs()
    {
        var m = Machine.Default;
        Assert.Equal(16, m.Lanes);
        Assert.Equal(64, m.OnChipBytesPerCycle);
        Assert.Equal(64, m.OffChipBytesPerCycle);
        Assert.Equal(2, m.FifoDepth);
        Assert.True(m.DoubleBuffer);
        Assert.Equal(1.0, m.ClockGhz);
        Assert.Equal(["lanes", "onchip_bytes_per_cycle", "offchip_bytes_per_cycle", "fifo_depth", "double_buffer", "clock_ghz"], Machine.Keys.Select(k => k.Key));
    }

    [Fact]
    public void AYamlFile_OverridesEveryNumber()
    {
        var m = Machine.Read("""
            lanes: 32
            onchip_bytes_per_cycle: 128
            offchip_bytes_per_cycle: 16
            fifo_depth: 8
            double_buffer: false
            clock_ghz: 1.5
            """, "m.yaml");
        Assert.Equal(new Machine(32, 128, 16, 8, false, 1.5), m);
        Assert.Equal(Machine.Default with { FifoDepth = 4 }, Machine.Read("fifo_depth: 4\n", "m.yaml"));
    }

    [Theory]
    [InlineData("lanes: 0\n", "lanes: expected a positive integer")]
    [InlineData("lanse: 4\n", "unknown key 'lanse'")]
    [InlineData("double_buffer: maybe\n", "double_buffer: expected true or false")]
    [InlineData("- 1\n", "a YAML mapping")]
    public void ABadFile_IsNamed_WithWhatIsWrong(string yaml, string message)
    {
        var e = Assert.Throws<MachineFileException>(() => Machine.Read(yaml, "m.yaml"));
        Assert.StartsWith("m.yaml: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheClock_OnlyTurnsCyclesIntoTime()
    {
        var fast = CostFixture.CostOf(CostFixture.RowSum, machine: Machine.Default with { ClockGhz = 2 });
        var plain = CostFixture.CostOf(CostFixture.RowSum);
        Assert.Equal(plain.Cycles, fast.Cycles);
        // 37 cycles at 2 GHz: 18.5 ns.
        Assert.Equal(37 / 2.0 / 1000, fast.Microseconds, 9);
    }
}
