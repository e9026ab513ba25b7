using RestoreCluster.Cli;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>Throughput and ETA come from the last seconds of samples, not from the whole elapsed time.</summary>
public sealed class ThroughputWindowTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void NoRateBeforeOneSecondAndNoEtaBeforeThreeSecondsOfSamples()
    {
        var w = new ThroughputWindow();
        w.Add(S(0), 0);
        w.Add(S(0.5), 500);
        Assert.Null(w.BytesPerSecond);
        Assert.Null(w.Eta(10_000));

        w.Add(S(2), 2000);
        Assert.Equal(1000, w.BytesPerSecond);
        Assert.Null(w.Eta(10_000));

        w.Add(S(3), 3000);
        Assert.Equal(S(7), w.Eta(10_000));
    }

    [Fact]
    public void ALongQuietStartDoesNotSlowTheRateOnceDataFlows()
    {
        var w = new ThroughputWindow();
        // A minute of pre-data with no table data, then 10 MB/s.
        for (double t = 0; t <= 60; t += 0.5)
        {
            w.Add(S(t), 0);
        }

        for (double t = 60.5; t <= 75; t += 0.5)
        {
            w.Add(S(t), (long)((t - 60) * 10_000_000));
        }

        Assert.Equal(10_000_000, w.BytesPerSecond!.Value, precision: 0);
        Assert.Equal(S(10), w.Eta(250_000_000));
    }

    [Fact]
    public void AStalledRestoreHasRateZeroAndNoEta()
    {
        var w = new ThroughputWindow();
        w.Add(S(0), 0);
        w.Add(S(5), 5000);
        for (double t = 5.5; t <= 20; t += 0.5)
        {
            w.Add(S(t), 5000);
        }

        Assert.Equal(0, w.BytesPerSecond);
        Assert.Null(w.Eta(10_000));
    }

    [Fact]
    public void WithoutAKnownTotalThereIsNoEta()
    {
        var w = new ThroughputWindow();
        w.Add(S(0), 0);
        w.Add(S(5), 5000);
        Assert.Equal(1000, w.BytesPerSecond);
        Assert.Null(w.Eta(0));
    }

    [Fact]
    public void SamplesCloserThanATenthOfASecondAreDropped()
    {
        var w = new ThroughputWindow();
        w.Add(S(0), 0);
        w.Add(S(0.05), 1_000_000);
        w.Add(S(2), 2000);
        Assert.Equal(1000, w.BytesPerSecond);
    }
}
