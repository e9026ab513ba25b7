using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

public sealed class CopyPacingTests
{
    [Fact]
    public void AnswersOverTwoThirdsOfTheLimitHalveThePaceDownToTheSlowestAndQuickerOnesRaiseItByAStepUpToFullSpeed()
    {
        // The limit is on a p95: single answers are held under two thirds of it (4 ms of 6).
        var pacer = new CopyPacer(limitMs: 6);
        Assert.Equal(1, pacer.Pace);

        pacer.Observe(3.9);
        Assert.Equal(1, pacer.Pace);
        pacer.Observe(4.1);
        Assert.Equal(0.5, pacer.Pace);
        pacer.Observe(50);
        Assert.Equal(0.25, pacer.Pace);
        for (int i = 0; i < 5; i++)
        {
            pacer.Observe(60_000);
        }

        Assert.Equal(CopyPacer.Slowest, pacer.Pace);

        pacer.Observe(1);
        Assert.Equal(CopyPacer.Slowest + CopyPacer.Step, pacer.Pace, 9);
        for (int i = 0; i < 40; i++)
        {
            pacer.Observe(1);
        }

        Assert.Equal(1, pacer.Pace);
    }

    [Fact]
    public void APacerNeedsALimitAboveZero() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CopyPacer(0));

    [Fact]
    public void AtFullSpeedNothingIsOwed()
    {
        var debt = new PaceDebt();
        Assert.Equal(TimeSpan.Zero, debt.Worked(TimeSpan.FromSeconds(5), 1));
    }

    [Fact]
    public void RestIsOwedInProportionAndTakenOnceItIsWorthASleep()
    {
        var debt = new PaceDebt();
        // Pace 0.5: one unit of rest per unit of work. 4 ms owed is under the shortest rest: kept for later.
        Assert.Equal(TimeSpan.Zero, debt.Worked(TimeSpan.FromMilliseconds(4), 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(12), debt.Worked(TimeSpan.FromMilliseconds(8), 0.5));

        // Pace 0.25: three of rest per one of work; at most the longest rest at a time, the rest stays owed.
        Assert.Equal(PaceDebt.LongestRest, debt.Worked(TimeSpan.FromMilliseconds(100), 0.25));
        Assert.Equal(TimeSpan.FromMilliseconds(100), debt.Worked(TimeSpan.Zero, 0.25));
        Assert.Equal(TimeSpan.Zero, debt.Worked(TimeSpan.Zero, 0.25));
    }

    [Fact]
    public void BackAtFullSpeedOrAfterClearWhatWasOwedIsForgotten()
    {
        var debt = new PaceDebt();
        Assert.Equal(PaceDebt.LongestRest, debt.Worked(TimeSpan.FromSeconds(1), CopyPacer.Slowest));
        Assert.Equal(TimeSpan.Zero, debt.Worked(TimeSpan.FromMilliseconds(1), 1));
        Assert.Equal(TimeSpan.Zero, debt.Worked(TimeSpan.FromMilliseconds(1), 0.5));

        Assert.Equal(PaceDebt.LongestRest, debt.Worked(TimeSpan.FromSeconds(1), 0.5));
        debt.Clear();
        Assert.Equal(TimeSpan.Zero, debt.Worked(TimeSpan.FromMilliseconds(1), 0.5));
    }

    [Fact]
    public void APaceUnderTheSlowestOwesAsTheSlowest()
    {
        var debt = new PaceDebt();
        // 10 ms of work at pace 0.1 owes 90 ms; a pace of 0.01 owes no more.
        Assert.Equal(TimeSpan.FromMilliseconds(90), debt.Worked(TimeSpan.FromMilliseconds(10), 0.01));
    }
}
