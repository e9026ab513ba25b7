using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

public sealed class AdaptiveBudgetTests
{
    [Fact]
    public void WithAFastProbeAndWaitingSlotsItRisesOneAtATimeToTheMaximum()
    {
        var budget = new AdaptiveBudget(max: 4, protectMs: 50);
        Assert.Equal(2, budget.Budget);
        Assert.Equal(1, budget.UnitPermits);

        Assert.Equal("2 slots waiting, throughput 1 units/s, probe p95 3 ms under 50 ms: raised from 2 to 3", budget.Next(new(3, 1, 2)));
        Assert.Equal(3, budget.Budget);
        Assert.NotNull(budget.Next(new(3, 1.5, 1)));
        Assert.Equal(4, budget.Budget);
        Assert.Null(budget.Next(new(3, 2, 1)));
        Assert.Equal(4, budget.Budget);
        Assert.Equal(3, budget.UnitPermits);
    }

    [Fact]
    public void ItHalvesWhenTheProbeGoesOverAndPausesTheUnitsAtOne()
    {
        var budget = new AdaptiveBudget(max: 8, protectMs: 50);
        for (int i = 0; i < 6; i++)
        {
            budget.Next(new(5, 1 + i, 3));
        }

        Assert.Equal(8, budget.Budget);
        Assert.Equal("probe p95 80 ms over 50 ms: halved from 8 to 4", budget.Next(new(80, 5, 3)));
        Assert.Equal(4, budget.Budget);
        budget.Next(new(80, 5, 3));
        Assert.Equal(2, budget.Budget);
        Assert.Equal("probe p95 120 ms over 50 ms: halved from 2 to 1 (units pause: only the probe runs)", budget.Next(new(120, 5, 3)));
        Assert.Equal(1, budget.Budget);
        Assert.Equal(0, budget.UnitPermits);
    }

    [Fact]
    public void APauseEndsWhenTheProbeRecoversOrAfterAtMostFiveWindows()
    {
        var budget = new AdaptiveBudget(max: 4, protectMs: 50);
        budget.Next(new(90, 0, 1));
        Assert.Equal(0, budget.UnitPermits);
        for (int i = 1; i < AdaptiveBudget.MostPausedWindows; i++)
        {
            Assert.Null(budget.Next(new(90, 0, 1)));
            Assert.Equal(1, budget.Budget);
        }

        Assert.Equal("paused 5 windows with the probe still over 50 ms: one unit goes on", budget.Next(new(90, 0, 1)));
        Assert.Equal(1, budget.UnitPermits);

        budget.Next(new(90, 0, 1));
        Assert.Equal(0, budget.UnitPermits);
        Assert.Equal("probe p95 10 ms under 50 ms again: one unit goes on", budget.Next(new(10, 0, 1)));
        Assert.Equal(2, budget.Budget);
    }

    [Fact]
    public void ItDoesNotRiseWithoutWaitingSlotsOrWhenThroughputFellAfterTheLastRaise()
    {
        var budget = new AdaptiveBudget(max: 6, protectMs: null);
        Assert.Equal(1, budget.Budget);
        Assert.Equal(1, budget.UnitPermits);
        Assert.Null(budget.Next(new(null, 4, 0)));
        Assert.Equal("1 slot waiting, throughput 4 units/s: raised from 1 to 2", budget.Next(new(null, 4, 1)));
        Assert.Null(budget.Next(new(null, 2, 1)));
        Assert.Equal(2, budget.Budget);
        Assert.NotNull(budget.Next(new(null, 4.5, 1)));
        Assert.Equal(3, budget.Budget);
    }

    [Fact]
    public void AWindowWithoutAnAnswerFromTheProbeHolds()
    {
        var budget = new AdaptiveBudget(max: 4, protectMs: 50);
        Assert.Null(budget.Next(new(null, 3, 3)));
        Assert.Equal(2, budget.Budget);
    }

    [Fact]
    public void TheBudgetNeverLeavesOneToMax()
    {
        var random = new Random(7);
        var budget = new AdaptiveBudget(max: 3, protectMs: 20);
        for (int i = 0; i < 2_000; i++)
        {
            budget.Next(new(random.NextDouble() * 40, random.NextDouble() * 5, random.Next(0, 3)));
            Assert.InRange(budget.Budget, 1, 3);
            Assert.InRange(budget.UnitPermits, 0, 2);
        }
    }

    [Fact]
    public void AProbeNeedsRoomForAUnitBesideIt() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveBudget(max: 1, protectMs: 10));

    [Fact]
    public void P95IsTheNearestRank()
    {
        Assert.Null(Latencies.P95([]));
        Assert.Equal(7.0, Latencies.P95([7.0]));
        // 20 values: the 19th smallest; 21 values: the 20th (ceil(21 × 0.95) = 20).
        Assert.Equal(19.0, Latencies.P95(Enumerable.Range(1, 20).Select(i => (double)i).Reverse()));
        Assert.Equal(20.0, Latencies.P95(Enumerable.Range(1, 21).Select(i => (double)i)));
    }
}
