using RestoreCluster.Archive;
using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>The live progress of a job: bytes read by running units, the phase, rows and the slowest units.</summary>
public sealed class RestoreProgressTests
{
    private static readonly DateTimeOffset T0 = TocBuilder.T0;

    // A table, its 1000-byte data, a small 10-byte data of another table, and an index on the first.
    private static TocBuilder Toc() => new TocBuilder()
        .Add(1, "TABLE", ArchiveSection.PreData, 0, "big")
        .Add(2, "TABLE", ArchiveSection.PreData, 0, "small")
        .Data(3, "big", 1000, 1)
        .Data(4, "small", 10, 2)
        .Add(5, "INDEX", ArchiveSection.PostData, 0, "big_idx", 1);

    private static RestoreProgress Progress(RestorePlan plan) => new(plan, id => $"unit {id}");

    [Fact]
    public void BytesDoneCountsWhatRunningUnitsReadCappedAtTheirSizeAndNeverDecreasesOnRetry()
    {
        var s = Toc().Schedule();
        var p = Progress(s.Plan);
        s.RunPrefork();
        var big = s.LeaseOne();
        Assert.Equal(3, big.UnitId);
        p.Leased(big.LeaseId, big.UnitId, T0);
        Assert.Equal(0, p.BytesDone(s.Progress.DoneDataBytes));

        p.Read(big.LeaseId, 400);
        Assert.Equal(400, p.BytesDone(s.Progress.DoneDataBytes));
        Assert.Equal(400, Assert.Single(p.Running).BytesRead);

        // The session was lost: the retry reads from 0 again, but progress keeps the most read.
        p.Read(big.LeaseId, 100);
        Assert.Equal(400, p.BytesDone(s.Progress.DoneDataBytes));

        // The data length includes the block framing: what was read never counts above it.
        p.Read(big.LeaseId, 5000);
        Assert.Equal(1000, p.BytesDone(s.Progress.DoneDataBytes));

        s.Done(big);
        p.Finished(big.LeaseId, rows: 42, bytesRead: 5000, T0.AddSeconds(3));
        Assert.Equal(1000, p.BytesDone(s.Progress.DoneDataBytes));
        Assert.Empty(p.Running);
        Assert.Equal(42, p.Rows);
        var slowest = Assert.Single(p.Slowest);
        Assert.Equal(("unit 3", 3.0, 1000L, 42L), (slowest.Label, slowest.Seconds, slowest.Bytes, slowest.Rows));
    }

    [Fact]
    public void ALapsedLeaseKeepsItsUnitsBytesUntilTheUnitFinishesOnAnotherLease()
    {
        var s = Toc().Schedule();
        var p = Progress(s.Plan);
        s.RunPrefork();
        var first = s.LeaseOne();
        p.Leased(first.LeaseId, first.UnitId, T0);
        p.Read(first.LeaseId, 600);

        Assert.Equal(1, s.ExpireLeases(T0 + TocBuilder.Ttl));
        p.Retain(s.Leases.Select(l => l.LeaseId));
        Assert.Empty(p.Running);
        Assert.Equal(600, p.BytesDone(s.Progress.DoneDataBytes));

        var again = s.LeaseOne();
        Assert.Equal(first.UnitId, again.UnitId);
        p.Leased(again.LeaseId, again.UnitId, T0.AddMinutes(2));
        Assert.Equal(600, Assert.Single(p.Running).BytesRead);
        p.Read(again.LeaseId, 200);
        p.Read(first.LeaseId, 900);
        Assert.Equal(600, p.BytesDone(s.Progress.DoneDataBytes));
    }

    [Fact]
    public void UnitsOfUnknownSizeCountTheBytesTheyRead()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData, 0, "t")
            .Data(2, "t", 0, 1)
            .Schedule();
        var p = Progress(s.Plan);
        s.RunPrefork();
        var data = s.LeaseOne();
        p.Leased(data.LeaseId, data.UnitId, T0);
        p.Read(data.LeaseId, 300);
        Assert.Equal(300, p.BytesDone(s.Progress.DoneDataBytes));
        s.Done(data);
        p.Finished(data.LeaseId, rows: 3, bytesRead: 350, T0.AddSeconds(1));
        Assert.Equal(350, p.BytesDone(s.Progress.DoneDataBytes));
        Assert.Equal(0, s.Progress.TotalDataBytes);
    }

    [Fact]
    public void ThePhaseIsTheEarliestSectionWithUnitsNotDoneAndPrefork()
    {
        var s = Toc().Schedule();
        Assert.Equal(RestorePhase.PreData, s.CurrentPhase);
        s.RunPrefork();
        Assert.Equal(RestorePhase.Data, s.CurrentPhase);

        var big = s.LeaseOne();
        var small = s.LeaseOne();
        s.Done(big);
        // The index of big may run now, but small's data is not done: still the data phase.
        var index = s.LeaseOne();
        Assert.Equal(5, index.UnitId);
        Assert.Equal(RestorePhase.Data, s.CurrentPhase);
        s.Done(small);
        Assert.Equal(RestorePhase.PostData, s.CurrentPhase);
        s.Done(index);
        Assert.Equal(RestorePhase.Finished, s.CurrentPhase);
    }

    [Fact]
    public void PhaseSecondsRunFromEachPhasesStartToTheNextAndSkippedPhasesTakeNone()
    {
        var p = Progress(Toc().Plan());
        p.Phase(RestorePhase.PreData, T0);
        p.Phase(RestorePhase.Data, T0.AddSeconds(2));
        Assert.Equal((2.0, 3.0, 0.0), p.PhaseSeconds(T0.AddSeconds(5)));

        // A cancelled job jumps to the end: post-data never started.
        p.Phase(RestorePhase.Finished, T0.AddSeconds(6));
        Assert.Equal((2.0, 4.0, 0.0), p.PhaseSeconds(T0.AddSeconds(60)));
    }

    [Fact]
    public void OnlyTheFiveSlowestUnitsAreKeptSlowestFirst()
    {
        var s = new TocBuilder();
        for (int i = 1; i <= 8; i++)
        {
            s.Add(i, "INDEX", ArchiveSection.PostData, 0, $"i{i}");
        }

        var schedule = s.Schedule();
        var p = Progress(schedule.Plan);
        int[] seconds = [3, 1, 7, 5, 2, 8, 4, 6];
        for (int i = 0; i < seconds.Length; i++)
        {
            p.Leased($"l{i}", i + 1, T0);
            p.Finished($"l{i}", 0, 0, T0.AddSeconds(seconds[i]));
        }

        Assert.Equal([8.0, 7.0, 6.0, 5.0, 4.0], p.Slowest.Select(w => w.Seconds));
        Assert.Equal("unit 6", p.Slowest[0].Label);
    }
}
