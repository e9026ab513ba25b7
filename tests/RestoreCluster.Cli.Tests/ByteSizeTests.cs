using Xunit;

namespace RestoreCluster.Cli.Tests;

public sealed class ByteSizeTests
{
    [Theory]
    [InlineData("4096", 4096)]
    [InlineData("512B", 512)]
    [InlineData("64kB", 64 * 1024)]
    [InlineData("64 KB", 64 * 1024)]
    [InlineData("1.5MB", 3 * 512 * 1024)]
    [InlineData("2gb", 2L << 30)]
    [InlineData("1TB", 1L << 40)]
    public void SizesAreBytesOrNumbersWithPostgresUnits(string text, long bytes) =>
        Assert.Equal(bytes, ByteSize.Parse(text, "--sample"));

    [Theory]
    [InlineData("")]
    [InlineData("MB")]
    [InlineData("-1MB")]
    [InlineData("0")]
    [InlineData("0.1B")]
    [InlineData("ten MB")]
    [InlineData("5 PB")]
    [InlineData("99999999999TB")]
    public void AnythingElseIsAUsageErrorNamingTheOption(string text)
    {
        var e = Assert.Throws<CliError>(() => ByteSize.Parse(text, "--sample"));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.Contains("for --sample", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(100, "100 B")]
    [InlineData(64 * 1024, "64 kB")]
    [InlineData(3 * 512 * 1024, "1.5 MB")]
    [InlineData(5L << 30, "5 GB")]
    public void SizesAreShownInTheLargestWholeUnit(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes));
}
