using RestoreCluster.Archive;
using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>The plan splits the TOC like restore_toc_entries_prefork and fix_dependencies do.</summary>
public sealed class RestorePlanTests
{
    [Fact]
    public void PreforkHoldsMainPassPreDataAndNoneEntriesUntilTheFirstDataOrPostDataEntry()
    {
        var plan = new TocBuilder()
            .Add(1, "ENCODING", ArchiveSection.PreData)
            .Add(2, "SCHEMA", ArchiveSection.PreData)
            .Add(3, "COMMENT", ArchiveSection.None, 2)
            .Add(4, "TABLE", ArchiveSection.PreData, 2)
            .Add(5, "ACL", ArchiveSection.None, 4)
            .Add(6, "EVENT TRIGGER", ArchiveSection.PostData)
            .Add(7, "COMMENT", ArchiveSection.None, 4)
            .Data(8, "t", 10, 4)
            .Add(9, "COMMENT", ArchiveSection.None, 4)
            .Add(10, "FUNCTION", ArchiveSection.PreData)
            .Add(11, "INDEX", ArchiveSection.PostData, 4)
            .Plan();

        // 5 is ACL-pass and 6 POST_ACL-pass; 6 is also POST_DATA, so the COMMENT after it is deferred.
        Assert.Equal([1, 2, 3, 4, 10], plan.Prefork);
        Assert.Equal([5, 6, 7, 8, 9, 11], plan.Units.Select(u => u.Id));
        Assert.Equal(RestorePass.Acl, plan.GetUnit(5)!.Pass);
        Assert.Equal(RestorePass.PostAcl, plan.GetUnit(6)!.Pass);
        Assert.Null(plan.GetUnit(4));
    }

    [Fact]
    public void PostDataDependenciesOnATableWithDataAreRepointedToTheDataAndInheritItsLength()
    {
        var plan = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Add(2, "TABLE", ArchiveSection.PreData)
            .Add(3, "TABLE", ArchiveSection.PreData)
            .Data(11, "a", 500, 1)
            .Data(12, "b", 900, 2)
            .Add(20, "CONSTRAINT", ArchiveSection.PostData, 1)
            .Add(21, "FK CONSTRAINT", ArchiveSection.PostData, 1, 2, 20)
            .Add(22, "INDEX", ArchiveSection.PostData, 2)
            .Add(23, "TRIGGER", ArchiveSection.PostData, 3)
            .Plan();

        var pk = plan.GetUnit(20)!;
        Assert.Equal([11], pk.Dependencies);
        Assert.Equal(500, pk.Priority);
        Assert.Equal([11], pk.LockDependencies);

        var fk = plan.GetUnit(21)!;
        Assert.Equal([11, 12, 20], fk.Dependencies);
        Assert.Equal(900, fk.Priority);
        Assert.Equal([11, 12], fk.LockDependencies);

        var index = plan.GetUnit(22)!;
        Assert.Equal([12], index.Dependencies);
        Assert.Equal(900, index.Priority);
        Assert.Empty(index.LockDependencies);

        // A table without data keeps the dependency on the TABLE itself, which is still a lock.
        var trigger = plan.GetUnit(23)!;
        Assert.Equal([3], trigger.Dependencies);
        Assert.Equal(0, trigger.Priority);
        Assert.Equal([3], trigger.LockDependencies);

        // Data entries keep their dependency on the table.
        Assert.Equal([1], plan.GetUnit(11)!.Dependencies);
        Assert.Empty(plan.GetUnit(11)!.LockDependencies);
    }

    [Fact]
    public void DependenciesOnDumpIdsMissingFromTheTocAreDropped()
    {
        var plan = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData, 999)
            .Data(2, "t", 10, 1)
            .Add(3, "INDEX", ArchiveSection.PostData, 1, 777)
            .Plan();

        Assert.Equal([2], plan.GetUnit(3)!.Dependencies);
        var schedule = new RestoreSchedule(plan);
        schedule.RunPrefork();
        Assert.Equal(2, schedule.LeaseOne().UnitId);
    }

    [Fact]
    public void EntriesWithoutSelectedPartsAreSkippedUnitsAndCarryNoDataBytes()
    {
        var plan = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Data(2, "t", 10, 1)
            .Data(3, "u", 20, 1)
            .Skip(3)
            .Plan();

        Assert.False(plan.GetUnit(2)!.IsSkipped);
        Assert.True(plan.GetUnit(3)!.IsSkipped);
        Assert.Equal(10, plan.TotalDataBytes);
    }

    [Fact]
    public void DuplicateDumpIdsAreRejected()
    {
        var toc = new TocBuilder().Add(1, "TABLE", ArchiveSection.PreData).Add(1, "TABLE", ArchiveSection.PreData);
        Assert.Throws<PlanningException>(() => toc.Plan());
    }
}
