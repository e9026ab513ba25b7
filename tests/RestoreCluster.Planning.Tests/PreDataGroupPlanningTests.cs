using RestoreCluster.Archive;
using RestoreCluster.Planning;
using Xunit;
using static RestoreCluster.Planning.Tests.TocBuilder;

namespace RestoreCluster.Planning.Tests;

/// <summary>
/// Pre-data in parallel: which runs of the prefork become groups of units (<see cref="PreDataGroups"/>), and how the
/// schedule runs the prefork as serial steps and groups, with a barrier after each group.
/// </summary>
public sealed class PreDataGroupPlanningTests
{
    // ENCODING, a schema, tables 10..15 (a run of six), a view on 10, a sequence, tables 20..21, a child of 20
    // (inheritance: it depends on a table), tables 23..26, comments on 10 and 23, the data of 10 and 23.
    private static TocBuilder Toc()
    {
        var toc = new TocBuilder()
            .Add(1, "ENCODING", ArchiveSection.PreData)
            .Add(2, "SCHEMA", ArchiveSection.PreData);
        for (int id = 10; id <= 15; id++)
        {
            toc.Add(id, "TABLE", ArchiveSection.PreData, 2);
        }

        toc.Add(16, "VIEW", ArchiveSection.PreData, 10)
            .Add(17, "SEQUENCE", ArchiveSection.PreData, 2)
            .Add(20, "TABLE", ArchiveSection.PreData, 2)
            .Add(21, "TABLE", ArchiveSection.PreData, 2)
            .Add(22, "TABLE", ArchiveSection.PreData, 20);
        for (int id = 23; id <= 26; id++)
        {
            toc.Add(id, "TABLE", ArchiveSection.PreData, 2);
        }

        return toc
            .Add(30, "COMMENT", ArchiveSection.PreData, 10)
            .Add(31, "COMMENT", ArchiveSection.PreData, 23)
            .Data(40, "t10", 100, 10)
            .Data(41, "t23", 100, 23);
    }

    [Fact]
    public void AGroupIsARunOfAtLeastTwiceTheSlotsOfPlainTablesAndSequencesThatDependOnNoTable()
    {
        var plan = Toc().Plan(groups: PreDataGroups.ForSlots(2));

        // 10..15: a group. 16 (a view) ends it; 17, 20, 21 are a run of three, too short for two slots; 22 depends on
        // a table; 23..26 are a group of four, which the comments end.
        Assert.Equal(2, plan.PreDataGroupCount);
        Assert.Equal([[1, 2], [16, 17, 20, 21, 22], [30, 31]], plan.PreforkSteps.Select(step => step.ToArray()));
        Assert.Equal([1, 2, 16, 17, 20, 21, 22, 30, 31], plan.Prefork);
        Assert.Equal([10, 11, 12, 13, 14, 15], plan.Units.Where(u => u.PreDataGroup == 0).Select(u => u.Id));
        Assert.Equal([23, 24, 25, 26], plan.Units.Where(u => u.PreDataGroup == 1).Select(u => u.Id));
        Assert.All(plan.Units.Where(u => u.IsPreData), u => Assert.Equal(ArchiveSection.PreData, u.Section));
        Assert.False(plan.GetUnit(40)!.IsPreData);
        Assert.Equal([10], plan.GetUnit(40)!.Dependencies);
    }

    [Fact]
    public void WithMoreSlotsARunMustBeLonger()
    {
        var plan = Toc().Plan(groups: PreDataGroups.ForSlots(3));

        Assert.Equal(1, plan.PreDataGroupCount);
        Assert.Equal([[1, 2], [16, 17, 20, 21, 22, 23, 24, 25, 26, 30, 31]], plan.PreforkSteps.Select(step => step.ToArray()));
    }

    [Fact]
    public void OneSlotOrGroupsOffKeepAllOfPreDataInOneSerialStep()
    {
        var serial = Toc().Plan();

        Assert.Equal(PreDataGroups.Off, PreDataGroups.ForSlots(1));
        foreach (var plan in new[] { serial, Toc().Plan(groups: PreDataGroups.ForSlots(1)), Toc().Plan(groups: PreDataGroups.Off) })
        {
            Assert.Equal(0, plan.PreDataGroupCount);
            Assert.Single(plan.PreforkSteps);
            Assert.Equal(serial.Prefork, plan.Prefork);
            Assert.Equal([1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25, 26, 30, 31], plan.Prefork);
            Assert.DoesNotContain(plan.Units, u => u.IsPreData);
        }
    }

    [Fact]
    public void TheFirstEntryATableNotRestoredAndATableThatDependsOnALaterEntryStaySerial()
    {
        var toc = new TocBuilder()
            .Add(10, "TABLE", ArchiveSection.PreData)
            .Add(11, "TABLE", ArchiveSection.PreData)
            .Add(12, "TABLE", ArchiveSection.PreData)
            .Add(13, "TABLE", ArchiveSection.PreData)
            .Add(14, "TABLE", ArchiveSection.PreData)
            .Add(15, "TABLE", ArchiveSection.PreData).Skip(15)
            .Add(16, "TABLE", ArchiveSection.PreData)
            .Add(17, "TABLE", ArchiveSection.PreData)
            .Add(18, "TABLE", ArchiveSection.PreData, 22)
            .Add(19, "TABLE", ArchiveSection.PreData)
            .Add(20, "TABLE", ArchiveSection.PreData)
            .Add(21, "TABLE", ArchiveSection.PreData)
            .Add(22, "TYPE", ArchiveSection.PreData);

        var plan = toc.Plan(groups: PreDataGroups.ForSlots(2));

        // 10 starts the restore; 11..14 are a group; 15 (not restored) ends it; 16, 17 are too few; 18 waits for the type after it.
        Assert.Equal([[10], [15, 16, 17, 18, 19, 20, 21, 22]], plan.PreforkSteps.Select(step => step.ToArray()));
        Assert.Equal([11, 12, 13, 14], plan.Units.Where(u => u.IsPreData).Select(u => u.Id));
    }

    [Fact]
    public void TheScheduleRunsSerialStepsAndGroupsInTurnWithABarrierAfterEachGroup()
    {
        var s = new RestoreSchedule(Toc().Plan(groups: PreDataGroups.ForSlots(2)));

        var start = s.LeaseOne("w1");
        Assert.Equal(WorkKind.Prefork, start.Kind);
        Assert.Equal(RestoreSchedule.PreforkUnitId, start.UnitId);
        Assert.Equal([1, 2], start.EntryIds);
        Assert.Null(s.Lease("w2", T0, Ttl));
        s.Done(start);

        // The first group: its six tables, on any worker, and nothing else.
        Assert.Equal(SchedulePhase.Prefork, s.Phase);
        Assert.Equal(0, s.CurrentGroup);
        Assert.Equal(RestorePhase.PreData, s.CurrentPhase);
        var group = new List<WorkLease>();
        for (int k = 0; k < 6; k++)
        {
            group.Add(s.LeaseOne(k % 2 == 0 ? "w1" : "w2"));
        }

        Assert.Equal([10, 11, 12, 13, 14, 15], group.Select(l => l.UnitId).Order());
        Assert.All(group, l => Assert.Equal(WorkKind.Entry, l.Kind));
        Assert.Null(s.Lease("w3", T0, Ttl));
        foreach (var lease in group.Take(5))
        {
            s.Done(lease, lease.UnitId == 10 ? UnitStatus.TableCreated : UnitStatus.Ok);
            Assert.Null(s.Lease("w3", T0, Ttl));
        }

        // The barrier: the next serial step only once the last unit of the group is done.
        s.Done(group[5]);
        var step = s.LeaseOne("w2");
        Assert.Equal(WorkKind.PreforkStep, step.Kind);
        Assert.Equal(RestoreSchedule.PreforkUnitId, step.UnitId);
        Assert.Equal([16, 17, 20, 21, 22], step.EntryIds);
        Assert.Equal(1, step.Attempt);
        Assert.NotEqual(start.LeaseId, step.LeaseId);
        Assert.Equal(CompletionResult.Stale, s.Complete(start.UnitId, start.LeaseId));
        Assert.Null(s.Lease("w1", T0, Ttl));
        s.Done(step);

        Assert.Equal(1, s.CurrentGroup);
        var second = new List<WorkLease>();
        while (s.Lease("w1", T0, Ttl) is { } lease)
        {
            second.Add(lease);
        }

        Assert.Equal([23, 24, 25, 26], second.Select(l => l.UnitId).Order());
        second.ForEach(l => s.Done(l));
        var last = s.LeaseOne("w1");
        Assert.Equal([30, 31], last.EntryIds);
        Assert.Equal(SchedulePhase.Prefork, s.Phase);
        s.Done(last);

        // Data only after all of pre-data; the table the group created is truncated before its data.
        Assert.Equal(SchedulePhase.Parallel, s.Phase);
        var data = s.LeaseOne("w1");
        var other = s.LeaseOne("w2");
        Assert.Equal([40, 41], new[] { data.UnitId, other.UnitId }.Order());
        Assert.True((data.UnitId == 40 ? data : other).TableCreated);
        Assert.False((data.UnitId == 41 ? data : other).TableCreated);
    }

    [Fact]
    public void AGroupUnitWhoseLeaseLapsedIsLeasedAgainAndTheBarrierWaitsForIt()
    {
        var s = new RestoreSchedule(Toc().Plan(groups: PreDataGroups.ForSlots(3)));
        s.RunPrefork();
        var units = Enumerable.Range(0, 6).Select(_ => s.LeaseOne("w1")).ToList();
        foreach (var lease in units.Skip(1))
        {
            s.Done(lease);
        }

        Assert.Equal(1, s.ExpireLeases(T0 + Ttl));
        var again = s.Lease("w2", T0 + Ttl, Ttl)!;
        Assert.Equal(units[0].UnitId, again.UnitId);
        Assert.Equal(2, again.Attempt);
        Assert.Equal(CompletionResult.Stale, s.Complete(units[0].UnitId, units[0].LeaseId));
        Assert.Equal(0, s.CurrentGroup);
        s.Done(again);
        Assert.Equal(WorkKind.PreforkStep, s.LeaseOne("w1").Kind);
    }

    [Fact]
    public void ATableOfAGroupThatFailedWithNoDataForFailedTablesSkipsItsDataAndCountsOneError()
    {
        var s = new RestoreSchedule(Toc().Plan(groups: PreDataGroups.ForSlots(2)));
        s.RunPrefork();
        var group = Enumerable.Range(0, 6).Select(_ => s.LeaseOne()).ToList();
        foreach (var lease in group)
        {
            var statuses = lease.UnitId == 10 ? new Dictionary<int, UnitStatus> { [10] = UnitStatus.InhibitData } : null;
            Assert.Equal(CompletionResult.Accepted, s.Complete(lease.UnitId, lease.LeaseId, statuses?[10] ?? UnitStatus.Ok, statuses));
        }

        Assert.Equal(1, s.ErrorCount);
        var rest = s.DrainSerially();
        Assert.DoesNotContain(40, rest);
        Assert.Contains(41, rest);
        Assert.Equal(1, s.Progress.SkippedUnits);
    }

    [Fact]
    public void APreforkThatEndsWithAGroupGoesToTheParallelPassesAfterIt()
    {
        var toc = new TocBuilder().Add(1, "SCHEMA", ArchiveSection.PreData);
        for (int id = 10; id < 14; id++)
        {
            toc.Add(id, "TABLE", ArchiveSection.PreData, 1).Data(id + 10, $"t{id}", 10, id);
        }

        var plan = toc.Plan(groups: PreDataGroups.ForSlots(2));
        Assert.Equal([[1]], plan.PreforkSteps.Select(step => step.ToArray()));
        var s = new RestoreSchedule(plan);
        s.RunPrefork();
        var group = Enumerable.Range(0, 4).Select(_ => s.LeaseOne()).ToList();
        Assert.Equal([10, 11, 12, 13], group.Select(l => l.UnitId));
        group.ForEach(l => s.Done(l));

        Assert.Equal(SchedulePhase.Parallel, s.Phase);
        Assert.Equal([20, 21, 22, 23], s.DrainSerially().Order());
        Assert.True(s.IsFinished);
    }

    [Fact]
    public void ASnapshotTakenInAGroupContinuesAlike()
    {
        var plan = Toc().Plan(groups: PreDataGroups.ForSlots(2));
        var s = new RestoreSchedule(plan);
        s.RunPrefork();
        var a = s.LeaseOne();
        s.Done(a);
        var b = s.LeaseOne();

        var copy = RestoreSchedule.Restore(plan, s.Snapshot());

        Assert.Equal(0, copy.CurrentGroup);
        Assert.Equal(s.Progress, copy.Progress);
        Assert.Equal(s.Complete(b.UnitId, b.LeaseId), copy.Complete(b.UnitId, b.LeaseId));
        Assert.Equal(s.DrainSerially(), copy.DrainSerially());
    }
}
