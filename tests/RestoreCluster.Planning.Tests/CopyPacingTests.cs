using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

public sealed class CopyPacingTests
{
    [Fact]
    public void AnswersOverTheLimitHalveThePaceDownToTheSlowestAndQuickerOnesRaiseItByTheRiseUpToFullSpeed()
    {
        var pacer = new CopyPacer(limitMs: 6);
        Assert.Equal(1, pacer.Pace);

        pacer.Observe(6);
        Assert.Equal(1, pacer.Pace);
        pacer.Observe(6.1);
        Assert.Equal(0.5, pacer.Pace);
        pacer.Observe(50);
        Assert.Equal(0.25, pacer.Pace);
        for (int i = 0; i < 10; i++)
        {
            pacer.Observe(60_000);
        }

        Assert.Equal(CopyPacer.Slowest, pacer.Pace);

        pacer.Observe(1);
        Assert.Equal(CopyPacer.Slowest * CopyPacer.Rise, pacer.Pace, 9);

        // From the slowest to full speed: ln(1 / Slowest) / ln(Rise) quick answers, about 12 s of the probe's.
        int toFull = (int)Math.Ceiling(Math.Log(1 / CopyPacer.Slowest) / Math.Log(CopyPacer.Rise));
        for (int i = 1; i < toFull - 1; i++)
        {
            pacer.Observe(1);
        }

        Assert.True(pacer.Pace < 1, $"pace {pacer.Pace} reached full speed before {toFull} quick answers");
        pacer.Observe(1);
        pacer.Observe(1);
        Assert.Equal(1, pacer.Pace);
    }

    [Theory]
    [InlineData(40, 0.125, 0.25 - 1e-9, 0.25 + 1e-9)]    // one answer in 40 over the limit (the slow share): the pace holds
    [InlineData(20, CopyPacer.Slowest, CopyPacer.Slowest, 0.1 - 1e-9)] // one in 20, as many as a p95 allows: it falls to the slowest and stays near it
    [InlineData(80, 0.125, 1.0, 1.0)]                      // one in 80: it rises to full speed
    public void ThePaceHoldsStillWhereTheSlowShareOfAnswersIsOverTheLimit(int oneSlowIn, double lowestSeen, double endsFrom, double endsTo)
    {
        var pacer = new CopyPacer(limitMs: 2);
        pacer.Observe(3);
        pacer.Observe(3);
        Assert.Equal(0.25, pacer.Pace);

        double lowest = 1;
        for (int i = 1; i <= 200 * oneSlowIn; i++)
        {
            // Each run of oneSlowIn answers starts with the slow one.
            pacer.Observe(i % oneSlowIn == 1 ? 3 : 1);
            lowest = Math.Min(lowest, pacer.Pace);
        }

        Assert.Equal(lowestSeen, lowest, 6);
        Assert.InRange(pacer.Pace, endsFrom, endsTo);
    }

    [Theory]
    [InlineData(0.005, 0.05, 0.4)]  // a quiet server: 0.5% of answers slow + 5% of the pace; settles at 0.4
    [InlineData(0.01, 0.1, 0.15)]   // a busier one: 1% + 10% of the pace; settles at 0.15
    public void AgainstAServerTheCopySlowsThePaceSettlesWhereTheSlowShareIsMet(double quietShare, double harm, double settles)
    {
        // A model server: each answer is over the limit with a chance that grows with the COPY's pace.
        var random = new Random(12);
        var pacer = new CopyPacer(limitMs: 2);
        int slow = 0;
        double paceSum = 0;
        const int Warm = 2_000, Measured = 40_000;
        for (int i = 0; i < Warm + Measured; i++)
        {
            bool over = random.NextDouble() < quietShare + harm * pacer.Pace;
            pacer.Observe(over ? 3 : 1);
            if (i >= Warm)
            {
                slow += over ? 1 : 0;
                paceSum += pacer.Pace;
            }
        }

        double share = (double)slow / Measured;
        double pace = paceSum / Measured;
        Assert.InRange(share, CopyPacer.SlowShare * 0.8, CopyPacer.SlowShare * 1.2);
        Assert.InRange(pace, settles * 0.5, settles * 1.5);
    }

    // A probe answer still awaited (the server does not answer, or its session hangs) is over the limit once it has
    // taken longer, and counts again each probe period, as answers coming each period would: each count halves the pace.
    [Fact]
    public void AnAnswerStillAwaitedIsOverdueOnceItPassesTheLimitAndAgainEachPeriodAndEachTimeHalvesThePace()
    {
        var pacer = new CopyPacer(limitMs: 6);
        var period = TimeSpan.FromMilliseconds(100);

        Assert.Equal(TimeSpan.FromMilliseconds(6), pacer.OverdueAt(0, period));
        Assert.Equal(TimeSpan.FromMilliseconds(106), pacer.OverdueAt(1, period));
        Assert.Equal(TimeSpan.FromMilliseconds(506), pacer.OverdueAt(5, period));

        pacer.Overdue();
        Assert.Equal(0.5, pacer.Pace);
        pacer.Overdue();
        Assert.Equal(0.25, pacer.Pace);
        for (int i = 0; i < 10; i++)
        {
            pacer.Overdue();
        }

        Assert.Equal(CopyPacer.Slowest, pacer.Pace);
        Assert.Throws<ArgumentOutOfRangeException>(() => pacer.OverdueAt(-1, period));
        Assert.Throws<ArgumentOutOfRangeException>(() => pacer.OverdueAt(0, TimeSpan.Zero));
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
        // 5 ms of work at the slowest pace (0.05) owes 95 ms; a pace of 0.01 owes no more.
        Assert.Equal(0.05, CopyPacer.Slowest);
        Assert.Equal(TimeSpan.FromMilliseconds(95), debt.Worked(TimeSpan.FromMilliseconds(5), 0.01));
    }
}

public sealed class BatchRestTests
{
    [Fact]
    public void AtFullSpeedOrWithNothingWorkedNoRestIsOwed()
    {
        Assert.Equal(TimeSpan.Zero, BatchRest.After(TimeSpan.FromSeconds(5), TimeSpan.Zero, 1));
        Assert.Equal(TimeSpan.Zero, BatchRest.After(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 0.5));
    }

    [Fact]
    public void AnUnpacedStatementOwesItsWorkAtThePaceUpToTheLongest()
    {
        // An index build of 300 ms at pace 0.25 owes three times its work; one of 2 s at the slowest, the longest.
        Assert.Equal(TimeSpan.FromMilliseconds(900), BatchRest.After(TimeSpan.FromMilliseconds(300), TimeSpan.Zero, 0.25));
        Assert.Equal(BatchRest.Longest, BatchRest.After(TimeSpan.FromSeconds(2), TimeSpan.Zero, CopyPacer.Slowest));
        // Under the slowest pace it owes as at the slowest: 100 ms at 0.05 owes 1.9 s.
        Assert.Equal(TimeSpan.FromMilliseconds(1900), BatchRest.After(TimeSpan.FromMilliseconds(100), TimeSpan.Zero, 0.001));
    }

    [Fact]
    public void WhatTheCopyRestedCountsAgainstWhatIsOwed()
    {
        // A COPY at pace 0.5 that worked 400 ms and rested 400 ms owes nothing more; one that worked 500 ms and rested
        // 300 ms owes 500 ms less the 300 ms rested.
        Assert.Equal(TimeSpan.Zero, BatchRest.After(TimeSpan.FromMilliseconds(800), TimeSpan.FromMilliseconds(400), 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(200), BatchRest.After(TimeSpan.FromMilliseconds(800), TimeSpan.FromMilliseconds(300), 0.5));
        // Owed less than the shortest rest: not taken.
        Assert.Equal(TimeSpan.Zero, BatchRest.After(TimeSpan.FromMilliseconds(8), TimeSpan.Zero, 0.5));
    }
}
