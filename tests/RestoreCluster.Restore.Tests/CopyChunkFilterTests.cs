using System.Globalization;
using System.Text;
using RestoreCluster.Restore;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// A table's COPY data cut into chunks by the blocks its rows start in: every row in exactly one chunk, whole,
/// the end line in none, the same chunks however the bytes arrive, and chunks of about equal size.
/// </summary>
public sealed class CopyChunkFilterTests
{
    // Rows of varying length, some with escapes that look like the end line inside a value.
    private static readonly string[] Rows =
    [
        .. Enumerable.Range(1, 2000).Select(i => string.Create(CultureInfo.InvariantCulture, $"{i}\t{new string('x', i % 37)}\t\\\\.{(i % 5 == 0 ? "\\n" : "")}\n")),
    ];

    private static readonly string Data = string.Concat(Rows) + "\\.\n\n";

    [Theory]
    [InlineData(1, 4096, 1)]
    [InlineData(3, 64, 7)]
    [InlineData(3, 100, 65536)]
    [InlineData(4, 1000, 13)]
    public void EveryRowLandsInExactlyOneChunkWholeAndTheEndLineInNone(int chunks, int blockBytes, int bufferBytes)
    {
        var outputs = Enumerable.Range(0, chunks).Select(k => Run(k, chunks, blockBytes, bufferBytes)).ToList();

        var all = outputs.SelectMany(o => Lines(o.Text)).ToList();
        Assert.Equal(Rows.Order(StringComparer.Ordinal), all.Order(StringComparer.Ordinal));
        Assert.Equal(Rows.Length, outputs.Sum(o => o.Rows));
        Assert.All(outputs, o => Assert.DoesNotContain("\n\\.\n", "\n" + o.Text, StringComparison.Ordinal));
        Assert.All(outputs, o => Assert.Equal(Rows.Length, o.AllRows));
    }

    [Fact]
    public void TheChunksAreTheSameHoweverTheBytesArrive()
    {
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(Run(k, 3, 256, 1).Text, Run(k, 3, 256, 4093).Text);
        }
    }

    [Fact]
    public void ARowBelongsToTheBlockItsFirstByteIsIn()
    {
        // Blocks of 4 bytes: "aaaaaa\n" starts in block 0, "b\n" at offset 7 in block 1, "c\n" at 9 in block 2.
        const string data = "aaaaaa\nb\nc\n\\.\n";
        Assert.Equal("aaaaaa\nc\n", Run(0, 2, 4, 3, data).Text);
        Assert.Equal("b\n", Run(1, 2, 4, 3, data).Text);
    }

    [Fact]
    public void ChunksAreAboutEqual()
    {
        var sizes = Enumerable.Range(0, 4).Select(k => Run(k, 4, 1000, 8192).Text.Length).ToList();
        Assert.True(sizes.Max() - sizes.Min() <= 2 * 1000, string.Join(", ", sizes));
    }

    private static (string Text, long Rows, long AllRows) Run(int index, int count, int blockBytes, int bufferBytes, string data = "")
    {
        var bytes = Encoding.UTF8.GetBytes(data.Length > 0 ? data : Data);
        var filter = new CopyChunkFilter(index, count, blockBytes);
        using var output = new MemoryStream();
        for (int i = 0; i < bytes.Length; i += bufferBytes)
        {
            filter.Write(bytes.AsSpan(i, Math.Min(bufferBytes, bytes.Length - i)), output);
        }

        return (Encoding.UTF8.GetString(output.ToArray()), filter.Rows, filter.AllRows);
    }

    private static IEnumerable<string> Lines(string text) =>
        text.Split('\n').SkipLast(1).Select(l => l + "\n");
}
