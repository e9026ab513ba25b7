using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>Which waiting work a free worker slot takes across a fleet's jobs (docs/concurrency.md, "Scheduling across jobs").</summary>
public sealed class FleetPolicyTests
{
    private static FleetCandidate C(string job, int priority = 0, bool room = true, double work = 10, double waitedSeconds = 1) =>
        new(job, priority, "h", room, work, TimeSpan.FromSeconds(waitedSeconds));

    [Fact]
    public void WorkForAServerAtItsBudgetIsNeverTakenAndNoneIsMinusOne()
    {
        Assert.Equal(1, FleetPolicy.Choose([C("a", priority: 9, room: false, work: 1000), C("b")]));
        Assert.Equal(-1, FleetPolicy.Choose([C("a", room: false), C("b", room: false)]));
        Assert.Equal(-1, FleetPolicy.Choose([]));
    }

    [Fact]
    public void AHigherPriorityGoesFirstThenTheMostWorkLeft()
    {
        Assert.Equal(1, FleetPolicy.Choose([C("a", priority: 0, work: 1000), C("b", priority: 5, work: 1)]));
        Assert.Equal(2, FleetPolicy.Choose([C("a", work: 10), C("b", work: 20), C("c", work: 30)]));
    }

    [Fact]
    public void WorkThatWaitedPastTheStarvationLimitGoesFirstWhateverItsPriority()
    {
        double limit = FleetPolicy.StarvationLimit.TotalSeconds;
        Assert.Equal(0, FleetPolicy.Choose([C("low", priority: -5, work: 1, waitedSeconds: limit + 1), C("high", priority: 5, work: 1000)]));
        // Of two starved ones, the longer wait.
        Assert.Equal(1, FleetPolicy.Choose([C("a", waitedSeconds: limit + 1), C("b", waitedSeconds: limit + 9)]));
    }

    [Fact]
    public void TiesGoToTheLongerWaitThenTheJobId()
    {
        Assert.Equal(1, FleetPolicy.Choose([C("a", waitedSeconds: 1), C("b", waitedSeconds: 2)]));
        Assert.Equal(0, FleetPolicy.Choose([C("a"), C("b")]));
    }
}
