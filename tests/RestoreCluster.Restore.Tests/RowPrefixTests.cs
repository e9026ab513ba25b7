using System.Text;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary><c>tune --sample</c>'s cut of COPY text: whole rows up to the one that crosses the limit, then the end-of-data line.</summary>
public sealed class RowPrefixTests
{
    private const string Rows = "1\tone\n2\ttwo\\nlines\n3\tthree\n\\.\n\n";

    [Theory]
    [InlineData(1, "1\tone\n")]
    [InlineData(6, "1\tone\n")]
    [InlineData(7, "1\tone\n2\ttwo\\nlines\n")]
    [InlineData(22, "1\tone\n2\ttwo\\nlines\n3\tthree\n")]
    public void TheCutEndsAfterTheRowThatReachesTheLimit(int limit, string rows)
    {
        foreach (int chunk in (int[])[1, 3, 4096])
        {
            Assert.Equal(rows + "\\.\n\n", Cut(Rows, limit, chunk));
        }
    }

    [Fact]
    public void DataShorterThanTheLimitIsPassedWhole() => Assert.Equal(Rows, Cut(Rows, 10_000, 4096));

    private static string Cut(string data, long limit, int chunk)
    {
        var output = new MemoryStream();
        RowPrefix.Copy(new ChunkedStream(Encoding.UTF8.GetBytes(data), chunk), limit, bytes => output.Write(bytes));
        return Encoding.UTF8.GetString(output.ToArray());
    }

    // Reads at most `chunk` bytes a call, as a decompressor's blocks may end anywhere in a row.
    private sealed class ChunkedStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));
    }
}
