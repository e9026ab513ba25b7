using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>The CPUs a protecting restore keeps to: the last quarter of those it may use, at least one.</summary>
public sealed class ProcessPriorityTests
{
    [Theory]
    [InlineData(new[] { 0 }, new[] { 0 })]
    [InlineData(new[] { 0, 1 }, new[] { 1 })]
    [InlineData(new[] { 0, 1, 2, 3 }, new[] { 3 })]
    [InlineData(new[] { 0, 1, 2, 3, 4, 5, 6, 7 }, new[] { 6, 7 })]
    [InlineData(new[] { 2, 5, 9 }, new[] { 9 })]
    public void KeepsTheLastQuarterOfTheAllowedCpusAndAtLeastOne(int[] allowed, int[] kept)
    {
        Assert.Equal(kept, ProcessPriority.ProtectCpus(allowed));
    }

    [Fact]
    public void SixteenCpusKeepFour()
    {
        Assert.Equal([12, 13, 14, 15], ProcessPriority.ProtectCpus(Enumerable.Range(0, 16).ToList()));
    }

    [Fact]
    public void NoCpuIsAnError()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ProcessPriority.ProtectCpus([]));
    }
}
