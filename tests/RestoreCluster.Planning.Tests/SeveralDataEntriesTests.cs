using RestoreCluster.Archive;
using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>
/// A table whose rows come in several TABLE DATA entries (a proposed pg_dump feature): its post-data waits for
/// every part, no part truncates the table (it would take away the others' rows), and a table whose creation
/// failed with --no-data-for-failed-tables has every part switched off.
/// </summary>
public sealed class SeveralDataEntriesTests
{
    private static TocBuilder Toc() => new TocBuilder()
        .Add(1, "TABLE", ArchiveSection.PreData)
        .Data(11, "t", 30, 1)
        .Data(12, "t", 20, 1)
        .Data(13, "t", 10, 1)
        .Add(20, "INDEX", ArchiveSection.PostData, 1);

    [Fact]
    public void TheTablesIndexWaitsForEveryDataEntryOfIt()
    {
        var s = Toc().Schedule();
        s.RunPrefork(new Dictionary<int, UnitStatus> { [1] = UnitStatus.TableCreated });

        var parts = new[] { s.LeaseOne("w1"), s.LeaseOne("w2"), s.LeaseOne("w3") };
        Assert.Equal([11, 12, 13], parts.Select(p => p.UnitId).Order());
        // Several units load the table: none may truncate it first.
        Assert.All(parts, p => Assert.False(p.TableCreated, $"unit {p.UnitId} would truncate the table"));
        Assert.Null(s.Lease("w4", TocBuilder.T0, TocBuilder.Ttl));

        // The last part in the TOC (the one pg_restore's single data entry per table would name) and the first are
        // in; the middle one is not: the index still waits.
        s.Done(parts.Single(p => p.UnitId == 13));
        s.Done(parts.Single(p => p.UnitId == 11));
        Assert.Null(s.Lease("w4", TocBuilder.T0, TocBuilder.Ttl));
        Assert.Equal(UnitState.Pending, s.GetState(20));

        s.Done(parts.Single(p => p.UnitId == 12));
        Assert.Equal(20, s.LeaseOne("w4").UnitId);
    }

    [Fact]
    public void ATableWithOneDataEntryIsStillTruncatedBeforeItsData()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Data(11, "t", 30, 1)
            .Add(20, "INDEX", ArchiveSection.PostData, 1)
            .Schedule();
        s.RunPrefork(new Dictionary<int, UnitStatus> { [1] = UnitStatus.TableCreated });
        Assert.True(s.LeaseOne().TableCreated);
    }

    [Fact]
    public void AFailedTableHasEveryDataEntrySwitchedOff()
    {
        var s = Toc().Schedule();
        s.RunPrefork(new Dictionary<int, UnitStatus> { [1] = UnitStatus.InhibitData });

        Assert.Equal(1, s.ErrorCount);
        Assert.All(new[] { 11, 12, 13 }, id => Assert.Equal(UnitState.Done, s.GetState(id)));
        Assert.Equal(20, s.LeaseOne().UnitId);
    }

    [Fact]
    public void TheIndexTakesThePriorityOfTheTablesBiggestPart()
    {
        var plan = Toc().Plan();
        Assert.Equal(30, plan.GetUnit(20)!.Priority);
    }
}
