using RestoreCluster.Archive;
using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>
/// --analyze's units in the plan: one ANALYZE per table or materialized view the restore creates or loads, after its
/// data and every index and constraint of it (a materialized view: after its REFRESH, in the post-ACL pass), and
/// after the foreign keys of its table and those that reference it; none without --analyze.
/// </summary>
public sealed class AnalyzeUnitsTests
{
    private static TocBuilder Toc() => new TocBuilder()
        .Add(1, "TABLE", ArchiveSection.PreData)
        .Add(2, "TABLE", ArchiveSection.PreData)
        .Data(11, "t", 1000, 1)
        .Add(20, "INDEX", ArchiveSection.PostData, 1)
        .Add(21, "CONSTRAINT", ArchiveSection.PostData, 1)
        .Add(22, "FK CONSTRAINT", ArchiveSection.PostData, 1, 21);

    private static readonly int AnalyzeT = AnalyzeUnits.IdOf(1);

    [Fact]
    public void ATablesAnalyzeWaitsForItsDataItsIndexAndItsConstraint()
    {
        var s = Toc().Schedule(analyze: true);
        s.RunPrefork();
        // Only the data and the other table's ANALYZE (it has no data, no keys) are ready.
        var data = s.LeaseOne("w1");
        Assert.Equal(11, data.UnitId);
        var other = s.LeaseOne("w2");
        Assert.Equal(AnalyzeUnits.IdOf(2), other.UnitId);
        Assert.Null(s.Lease("w3", TocBuilder.T0, TocBuilder.Ttl));
        s.Done(other);
        s.Done(data);

        // The index, then the constraint; the ANALYZE waits for both.
        var index = s.LeaseOne("w1");
        Assert.Equal(20, index.UnitId);
        s.Done(index);
        Assert.Equal(UnitState.Pending, s.GetState(AnalyzeT));
        var constraint = s.LeaseOne("w1");
        Assert.Equal(21, constraint.UnitId);
        s.Done(constraint);
        Assert.Equal(UnitState.Pending, s.GetState(AnalyzeT));
        var foreignKey = s.LeaseOne("w1");
        Assert.Equal(22, foreignKey.UnitId);
        s.Done(foreignKey);

        Assert.Equal(UnitState.Ready, s.GetState(AnalyzeT));
    }

    [Fact]
    public void AnAnalyzeComesAfterTheForeignKeysOfItsTableAndThoseThatReferenceIt()
    {
        // child (2) references parent (1) through parent's key (21): the foreign key (22) locks both tables.
        var plan = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Add(2, "TABLE", ArchiveSection.PreData)
            .Data(11, "parent", 1000, 1)
            .Data(12, "child", 1000, 2)
            .Add(21, "CONSTRAINT", ArchiveSection.PostData, 1)
            .Add(22, "FK CONSTRAINT", ArchiveSection.PostData, 2, 21)
            .Add(23, "INDEX", ArchiveSection.PostData, 2)
            .Plan(analyze: true);

        Assert.Contains(22, plan.GetUnit(AnalyzeUnits.IdOf(1))!.Dependencies);
        Assert.Contains(22, plan.GetUnit(AnalyzeUnits.IdOf(2))!.Dependencies);
        var order = new RestoreSchedule(plan).DrainSerially();
        Assert.True(order.IndexOf(22) < order.IndexOf(AnalyzeUnits.IdOf(1)), string.Join(' ', order));
        Assert.True(order.IndexOf(22) < order.IndexOf(AnalyzeUnits.IdOf(2)), string.Join(' ', order));
    }

    [Fact]
    public void TablesWithoutDataAndDataOnlyTablesAreAnalyzedTablesLeftOutAreNot()
    {
        var toc = Toc().Add(3, "TABLE", ArchiveSection.PreData).Skip(3)
            .Add(4, "TABLE", ArchiveSection.PreData).WithParts(4, RestoreParts.None).Data(14, "d", 10, 4);
        var targets = AnalyzeUnits.Targets(toc.Entries, toc.SelectedParts);

        Assert.Equal([1, 2, 4], targets.Select(t => t.Relation.DumpId));
        Assert.Equal([AnalyzeUnits.IdOf(1), AnalyzeUnits.IdOf(2), AnalyzeUnits.IdOf(4)], targets.Select(t => t.UnitId));
        Assert.All(targets, t => Assert.Equal(t.Relation.DumpId, AnalyzeUnits.RelationOf(t.UnitId)));
        Assert.False(AnalyzeUnits.IsAnalyze(toc.Entries.Max(e => e.DumpId)));
    }

    [Fact]
    public void AMaterializedViewIsAnalyzedAfterItsRefreshInThePostAclPass()
    {
        var plan = new TocBuilder()
            .Add(5, "MATERIALIZED VIEW", ArchiveSection.PreData)
            .Add(25, "INDEX", ArchiveSection.PostData, 5)
            .Add(50, "MATERIALIZED VIEW DATA", ArchiveSection.PostData, 5, 25)
            .Plan(analyze: true);
        var analyze = plan.GetUnit(AnalyzeUnits.IdOf(5))!;

        Assert.Equal(RestorePass.PostAcl, analyze.Pass);
        Assert.Equal(AnalyzeUnits.Desc, analyze.Desc);
        Assert.Equal("e5", analyze.Tag);
        Assert.Equal([5, 25, 50], analyze.Dependencies.Order());

        var s = new RestoreSchedule(plan);
        Assert.Equal([25, 50, AnalyzeUnits.IdOf(5)], s.DrainSerially());
    }

    [Fact]
    public void ABigTablesAnalyzeTakesItsDataSizeAsPriority()
    {
        var plan = Toc().Plan(analyze: true);

        Assert.Equal(1000, plan.GetUnit(AnalyzeT)!.Priority);
        Assert.Equal(0, plan.GetUnit(AnalyzeUnits.IdOf(2))!.Priority);
        Assert.Equal([11], plan.GetUnit(AnalyzeT)!.LockDependencies);
    }

    [Fact]
    public void WithoutAnalyzeThePlanHasNoAnalyzeUnits()
    {
        var plan = Toc().Plan();

        Assert.DoesNotContain(plan.Units, u => AnalyzeUnits.IsAnalyze(u.Id) || u.Desc == AnalyzeUnits.Desc);
        Assert.Equal(4, plan.Units.Count);
    }
}
