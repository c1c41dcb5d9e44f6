using StepForge.Reports;

namespace StepForge.Tests.Reports;

/// <summary>CSV as RFC 4180 says: CRLF after every record, quotes only where a field needs them, quotes doubled.</summary>
public class CsvWriterTests
{
    [Fact]
    public void AFieldWithACommaQuoteOrLineBreak_IsQuoted_WithItsQuotesDoubled()
    {
        var csv = new CsvWriter(["name", "note"])
            .Record(["plain", "a,b"])
            .Record(["say \"hi\"", "two\nlines"])
            .Record(["cr\rhere", null])
            .ToString();
        Assert.Equal("name,note\r\nplain,\"a,b\"\r\n\"say \"\"hi\"\"\",\"two\nlines\"\r\n\"cr\rhere\",\r\n", csv);
    }

    [Fact]
    public void ARecordOfTheWrongLength_IsRefused()
    {
        var csv = new CsvWriter(["a", "b"]);
        Assert.Throws<ArgumentException>(() => csv.Record(["only one"]));
    }
}
