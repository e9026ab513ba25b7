using RestoreCluster.Cli.Fleet;
using RestoreCluster.Grains.Abstractions;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>status's fleet table: jobs by state, table data per target server, an ETA at the rate so far.</summary>
public sealed class FleetSummaryTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static (JobEntry, JobStatus) Job(string id, string? fleet, string host, JobState state, long done, long total) =>
        (new JobEntry(id, "/a.dump", "t", host, Start, fleet),
         new JobStatus(id, state, 0, 0, done, total, 0, 0, 0, null, [], JobPhase.Data, [], 0, new PhaseSeconds(0, 0, 0), []));

    [Fact]
    public void JobsAreCountedByStateBytesAddUpPerHostAndTheEtaFollowsTheRateSoFar()
    {
        var fleets = FleetSummary.Of(
            [
                Job("j1", "f", "h1", JobState.Running, 100, 400),
                Job("j2", "f", "h1", JobState.Succeeded, 300, 300),
                Job("j3", "f", "h2", JobState.Failed, 200, 1300),
                Job("alone", null, "h1", JobState.Running, 0, 10),
            ],
            Start + TimeSpan.FromSeconds(60));

        var f = Assert.Single(fleets);
        Assert.Equal("f", f.FleetId);
        Assert.Equal(new Dictionary<JobState, int> { [JobState.Running] = 1, [JobState.Succeeded] = 1, [JobState.Failed] = 1 }, f.JobsByState);
        Assert.Equal([new FleetHostBytes("h1", 400, 700), new FleetHostBytes("h2", 200, 1300)], f.Hosts);
        // 600 bytes in 60 s: the 1,400 left take 140 s.
        Assert.Equal(TimeSpan.FromSeconds(140), f.Eta);
    }

    [Fact]
    public void AnEndedFleetOrOneThatLoadedNothingYetHasNoEta()
    {
        Assert.Null(Assert.Single(FleetSummary.Of([Job("j", "f", "h", JobState.Succeeded, 5, 5)], Start + TimeSpan.FromSeconds(9))).Eta);
        Assert.Null(Assert.Single(FleetSummary.Of([Job("j", "f", "h", JobState.Running, 0, 5)], Start + TimeSpan.FromSeconds(9))).Eta);
    }
}
