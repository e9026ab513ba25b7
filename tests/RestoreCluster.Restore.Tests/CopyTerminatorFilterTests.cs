using System.Text;
using RestoreCluster.Restore;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>COPY data goes to the server unchanged up to pg_dump's end line, however the bytes are chunked.</summary>
public sealed class CopyTerminatorFilterTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public void RowsPassAndTheEndLineStopsTheData(int chunk)
    {
        string rows = "1\t\\.x\tend\\\n\\\\.\tback\n2\ttab\\there\n\\N\t\\\\\n";
        string data = rows + "\\.\n\n\n";

        string sent = Filter(data, chunk);

        Assert.Equal(rows, sent);
    }

    [Fact]
    public void DataWithoutEndLinePassesWhole()
    {
        Assert.Equal("1\ta\n2\tb\n", Filter("1\ta\n2\tb\n", 3));
    }

    [Fact]
    public void EndLineWithCarriageReturnAlsoEnds()
    {
        Assert.Equal("1\n", Filter("1\n\\.\r\n", 1));
    }

    private static string Filter(string data, int chunk)
    {
        var bytes = Encoding.UTF8.GetBytes(data);
        var filter = new CopyTerminatorFilter();
        using var output = new MemoryStream();
        for (int i = 0; i < bytes.Length; i += chunk)
        {
            filter.Write(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)), output);
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }
}
