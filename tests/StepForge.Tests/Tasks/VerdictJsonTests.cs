using System.Text.Json;
using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Tests.Tasks;

/// <summary>The verdict line keeps the keys, their order and the readable text that scripts and the README show.</summary>
public class VerdictJsonTests
{
    [Fact]
    public void AVerdictLine_HasTheContractsKeysInOrder_NullsWritten_OptionalPartsLeftOut()
    {
        var verdict = new Verdict(VerdictKind.Type, "t.yaml", "rowsum", "Accum needs 0 < b <= rank", 14, 6, "Accum", "Accum.b-range", "0 < b <= 1", "b = 2");
        var json = verdict.ToJson();
        Assert.StartsWith("{\"verdict\":\"type\",\"task\":\"t.yaml\",\"name\":\"rowsum\",\"line\":14,\"column\":6,\"op\":\"Accum\",\"rule\":\"Accum.b-range\"," +
            "\"message\":\"Accum needs 0 < b <= rank\",\"expected\":\"0 < b <= 1\",\"actual\":\"b = 2\"}", json, StringComparison.Ordinal);
        var bare = JsonDocument.Parse(Verdict.Invalid("x.yaml", "bad").ToJson()).RootElement;
        Assert.Equal(JsonValueKind.Null, bare.GetProperty("line").ValueKind);
        Assert.False(bare.TryGetProperty("file", out _));
        Assert.False(bare.TryGetProperty("outputs", out _));
        Assert.False(bare.TryGetProperty("cost", out _));
    }

    [Fact]
    public void ANonFiniteError_IsNull_AndARepairCarriesItsCopies()
    {
        var verdict = new Verdict(VerdictKind.Wrong, "t.yaml", "t", "differs", Outputs: [new OutputCheck("out", 0, double.NaN, false, null)],
            RepairedImpl: "return x\n", CopiesInserted: 2);
        var json = JsonDocument.Parse(verdict.ToJson()).RootElement;
        Assert.Equal(JsonValueKind.Null, json.GetProperty("outputs")[0].GetProperty("max_abs_error").ValueKind);
        Assert.Equal(2, json.GetProperty("copies_inserted").GetInt32());
        Assert.Equal("return x\n", json.GetProperty("repaired_impl").GetString());
    }
}
