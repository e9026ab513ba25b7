using RestoreCluster.Archive;
using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>The schedule hands out work the way pg_restore -j does, with leases.</summary>
public sealed class RestoreScheduleTests
{
    private static readonly DateTimeOffset T0 = TocBuilder.T0;
    private static readonly TimeSpan Ttl = TocBuilder.Ttl;

    [Fact]
    public void ThePreforkBatchIsLeasedFirstAndNothingElseUntilItCompletes()
    {
        var s = new TocBuilder()
            .Add(1, "SCHEMA", ArchiveSection.PreData)
            .Add(2, "TABLE", ArchiveSection.PreData, 1)
            .Data(3, "t", 10, 2)
            .Schedule();

        var prefork = s.LeaseOne("leader");
        Assert.Equal(WorkKind.Prefork, prefork.Kind);
        Assert.Equal(RestoreSchedule.PreforkUnitId, prefork.UnitId);
        Assert.Equal([1, 2], prefork.EntryIds);
        Assert.Null(s.Lease("w2", T0, Ttl));

        s.Done(prefork);
        Assert.Equal(SchedulePhase.Parallel, s.Phase);
        var data = s.LeaseOne();
        Assert.Equal(WorkKind.Entry, data.Kind);
        Assert.Equal(3, data.UnitId);
        Assert.Equal([3], data.EntryIds);
    }

    [Fact]
    public void TableDataIsHandedOutByDescendingDataLengthThenDumpIdAsVerifiedWithPgRestore()
    {
        // Shaped like the rich fixture (pg-restore-semantics.md §10), TABLE DATA in TOC (name) order.
        var tables = new (int Id, string Tag, long Length)[]
        {
            (3660, "base_log", 5), (3661, "change_log", 296), (3662, "child_log", 33), (3663, "customers", 189),
            (3664, "event_notes", 70), (3674, "events_2024", 73), (3675, "events_2025", 66), (3676, "events_default", 73),
            (3677, "order_items", 60), (3678, "orders", 164), (3679, "products", 77), (3680, "readonly_ref", 40),
            (3681, "session_cache", 20), (3682, "Weird Table", 10),
        };
        var toc = new TocBuilder();
        foreach (var t in tables)
        {
            toc.Add(t.Id - 3000, "TABLE", ArchiveSection.PreData, 0, t.Tag);
        }

        foreach (var t in tables)
        {
            toc.Data(t.Id, t.Tag, t.Length, t.Id - 3000);
        }

        toc.Add(3690, "BLOBS", ArchiveSection.Data, 52, "BLOBS");
        toc.Add(3691, "SEQUENCE SET", ArchiveSection.Data, 0, "seq_b", 661);
        toc.Add(3692, "SEQUENCE SET", ArchiveSection.Data, 0, "seq_a", 663);
        var s = toc.Schedule();
        s.RunPrefork();

        var leased = new List<string>();
        for (int w = 0; w < 20; w++)
        {
            var lease = s.Lease($"w{w}", T0, Ttl);
            if (lease is not null)
            {
                leased.Add(s.Plan.GetUnit(lease.UnitId)!.Tag);
            }
        }

        Assert.Equal(
            ["change_log", "customers", "orders", "products", "events_2024", "events_default", "event_notes", "events_2025",
             "order_items", "BLOBS", "readonly_ref", "child_log", "session_cache", "Weird Table", "base_log", "seq_b", "seq_a"],
            leased);
    }

    [Fact]
    public void ConstraintsInheritTheirTablesPriorityAndRunRightAfterItsData()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Add(2, "TABLE", ArchiveSection.PreData)
            .Data(11, "big", 300, 1)
            .Data(12, "small", 100, 2)
            .Add(20, "SEQUENCE SET", ArchiveSection.Data)
            .Add(21, "CONSTRAINT", ArchiveSection.PostData, 2)
            .Add(22, "CONSTRAINT", ArchiveSection.PostData, 1)
            .Schedule();

        Assert.Equal([11, 22, 12, 21, 20], s.DrainSerially());
    }

    [Fact]
    public void TwoConstraintsOnTheSameTableAreNeverLeasedTogether()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Add(2, "TABLE", ArchiveSection.PreData)
            .Data(11, "a", 10, 1)
            .Data(12, "b", 10, 2)
            .Add(20, "CONSTRAINT", ArchiveSection.PostData, 1)
            .Add(21, "FK CONSTRAINT", ArchiveSection.PostData, 2, 1)
            .Add(22, "CONSTRAINT", ArchiveSection.PostData, 2)
            .Schedule();
        s.RunPrefork();
        s.Done(s.LeaseOne());
        s.Done(s.LeaseOne());

        var first = s.LeaseOne("w1");
        Assert.Equal(20, first.UnitId);
        // 21 locks both tables; 22 only b, so it may run beside 20.
        var second = s.LeaseOne("w2");
        Assert.Equal(22, second.UnitId);
        Assert.Null(s.Lease("w3", T0, Ttl));
        s.Done(first);
        Assert.Null(s.Lease("w3", T0, Ttl));
        s.Done(second);
        Assert.Equal(21, s.LeaseOne("w3").UnitId);
    }

    [Fact]
    public void TwoIndexesOnOneTableMayRunTogetherButAConstraintWaitsForThem()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Data(11, "a", 10, 1)
            .Add(20, "INDEX", ArchiveSection.PostData, 1)
            .Add(21, "INDEX", ArchiveSection.PostData, 1)
            .Add(22, "CONSTRAINT", ArchiveSection.PostData, 1)
            .Schedule();
        s.RunPrefork();
        s.Done(s.LeaseOne());

        var i1 = s.LeaseOne("w1");
        var i2 = s.LeaseOne("w2");
        Assert.Equal([20, 21], new[] { i1.UnitId, i2.UnitId });
        Assert.Null(s.Lease("w3", T0, Ttl));
        s.Done(i1);
        Assert.Null(s.Lease("w3", T0, Ttl));
        s.Done(i2);
        var c = s.LeaseOne("w3");
        Assert.Equal(22, c.UnitId);

        // And the other way round: while the constraint holds its lock, a new index on the table waits.
        var s2 = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Data(11, "a", 10, 1)
            .Add(22, "CONSTRAINT", ArchiveSection.PostData, 1)
            .Add(23, "INDEX", ArchiveSection.PostData, 1)
            .Schedule();
        s2.RunPrefork();
        s2.Done(s2.LeaseOne());
        Assert.Equal(22, s2.LeaseOne("w1").UnitId);
        Assert.Null(s2.Lease("w2", T0, Ttl));
    }

    [Fact]
    public void NoAclUnitIsLeasedWhileAnyMainUnitIsReadyOrLeased()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Add(2, "ACL", ArchiveSection.None, 1)
            .Data(11, "a", 10, 1)
            .Add(12, "SEQUENCE SET", ArchiveSection.Data)
            .Add(30, "MATERIALIZED VIEW DATA", ArchiveSection.PostData)
            .Add(31, "EVENT TRIGGER", ArchiveSection.PostData)
            .Add(32, "COMMENT", ArchiveSection.None, 0, "EVENT TRIGGER e", 31)
            .Schedule();
        s.RunPrefork();

        var data = s.LeaseOne("w1");
        Assert.Equal(11, data.UnitId);
        var seq = s.LeaseOne("w2");
        Assert.Equal(12, seq.UnitId);
        Assert.Null(s.Lease("w3", T0, Ttl));
        Assert.Equal(UnitState.Pending, s.GetState(2));

        s.Done(data);
        Assert.Equal(RestorePass.Main, s.Pass);
        Assert.Null(s.Lease("w3", T0, Ttl));
        s.Done(seq);
        Assert.Equal(RestorePass.Acl, s.Pass);
        var acl = s.LeaseOne("w1");
        Assert.Equal(2, acl.UnitId);
        Assert.Null(s.Lease("w2", T0, Ttl));
        s.Done(acl);

        // POST_ACL: the event trigger and the matview refresh together; the trigger's comment after it.
        Assert.Equal(RestorePass.PostAcl, s.Pass);
        var a = s.LeaseOne("w1");
        var b = s.LeaseOne("w2");
        Assert.Equal([30, 31], new[] { a.UnitId, b.UnitId }.Order());
        Assert.Null(s.Lease("w3", T0, Ttl));
        s.Done(b);
        Assert.Equal(32, s.LeaseOne("w3").UnitId);
    }

    [Fact]
    public void AnExpiredLeaseReturnsTheUnitToReadyAndTheOldLeaseBecomesStale()
    {
        var s = new TocBuilder().Add(1, "TABLE", ArchiveSection.PreData).Data(11, "a", 10, 1).Schedule();
        s.RunPrefork();
        var first = s.LeaseOne("w1");

        Assert.Equal(0, s.ExpireLeases(T0 + Ttl - TimeSpan.FromSeconds(1)));
        Assert.Equal(1, s.ExpireLeases(T0 + Ttl));
        Assert.Equal(UnitState.Ready, s.GetState(11));

        var second = s.Lease("w2", T0 + Ttl, Ttl)!;
        Assert.Equal(11, second.UnitId);
        Assert.Equal(2, second.Attempt);
        Assert.NotEqual(first.LeaseId, second.LeaseId);
        Assert.Equal(CompletionResult.Stale, s.Complete(11, first.LeaseId));
        Assert.False(s.Renew(first.LeaseId, T0, Ttl));
        Assert.Equal(UnitState.Leased, s.GetState(11));
        Assert.Equal(1, s.Progress.ExpiredLeases);
        s.Done(second);
        Assert.True(s.IsFinished);
    }

    [Fact]
    public void RenewingKeepsALeaseAlivePastItsFirstExpiry()
    {
        var s = new TocBuilder().Add(1, "TABLE", ArchiveSection.PreData).Data(11, "a", 10, 1).Schedule();
        s.RunPrefork();
        var lease = s.LeaseOne();

        Assert.True(s.Renew(lease.LeaseId, T0 + TimeSpan.FromSeconds(50), Ttl));
        Assert.Equal(0, s.ExpireLeases(T0 + TimeSpan.FromSeconds(100)));
        Assert.Equal(1, s.ExpireLeases(T0 + TimeSpan.FromSeconds(110)));
        Assert.False(s.Renew(lease.LeaseId, T0 + TimeSpan.FromSeconds(111), Ttl));
    }

    [Fact]
    public void CompletingTwiceIsHarmlessAndUnknownLeasesAreIgnored()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Data(11, "a", 10, 1)
            .Add(12, "INDEX", ArchiveSection.PostData, 1)
            .Schedule();
        s.RunPrefork();
        var lease = s.LeaseOne();

        Assert.Equal(CompletionResult.Stale, s.Complete(11, "bogus"));
        Assert.Equal(CompletionResult.Stale, s.Complete(999, lease.LeaseId));
        Assert.Equal(CompletionResult.Stale, s.Complete(12, lease.LeaseId));
        Assert.Equal(CompletionResult.Accepted, s.Complete(11, lease.LeaseId));
        var progress = s.Progress;
        Assert.Equal(CompletionResult.Duplicate, s.Complete(11, lease.LeaseId, UnitStatus.IgnoredErrors));
        Assert.Equal(progress, s.Progress);
        Assert.Equal(0, s.ErrorCount);
        Assert.False(s.Fail(11, lease.LeaseId, retryable: true));
        Assert.Equal(12, s.LeaseOne().UnitId);
    }

    [Fact]
    public void InhibitDataForAFailedTableSkipsItsDataAndCountsAnError()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Add(2, "TABLE", ArchiveSection.PreData)
            .Data(11, "a", 10, 1)
            .Data(12, "b", 20, 2)
            .Add(13, "INDEX", ArchiveSection.PostData, 1)
            .Schedule();
        s.RunPrefork(new Dictionary<int, UnitStatus> { [1] = UnitStatus.InhibitData, [2] = UnitStatus.TableCreated });

        Assert.Equal(1, s.ErrorCount);
        Assert.Equal(UnitState.Done, s.GetState(11));
        var b = s.LeaseOne();
        Assert.Equal(12, b.UnitId);
        Assert.True(b.TableCreated);
        // The index on the inhibited table still runs (pg_restore only switches off the data).
        Assert.Equal(13, s.LeaseOne("w2").UnitId);
        Assert.Equal(1, s.Progress.SkippedUnits);
    }

    [Fact]
    public void AWorkerReportingInhibitDataSwitchesOffThatTablesData()
    {
        // A TABLE entry that is not in prefork: a section out of order, as in old archives.
        var plan = RestorePlan.Build(
        [
            new PlanEntry(1, "SEQUENCE SET", ArchiveSection.Data, [], 0, RestorePass.Main, RestoreParts.Data),
            new PlanEntry(2, "TABLE", ArchiveSection.PostData, [], 0, RestorePass.Main, RestoreParts.Schema),
            new PlanEntry(3, "TABLE DATA", ArchiveSection.Data, [2], 5, RestorePass.Main, RestoreParts.Data),
        ]);
        var s = new RestoreSchedule(plan);
        var seq = s.LeaseOne("w1");
        var table = s.LeaseOne("w2");
        Assert.Equal(2, table.UnitId);
        s.Done(table, UnitStatus.InhibitData);
        Assert.Equal(UnitState.Done, s.GetState(3));
        Assert.Null(s.Lease("w3", T0, Ttl));
        Assert.Equal(1, s.ErrorCount);
        s.Done(seq);
        Assert.True(s.IsFinished);
    }

    [Fact]
    public void SkippedUnitsCompleteWithoutAWorkerAndReleaseTheirDependents()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Data(11, "a", 10, 1)
            .Add(12, "CONSTRAINT", ArchiveSection.PostData, 1)
            .Add(13, "FK CONSTRAINT", ArchiveSection.PostData, 12)
            .Skip(11)
            .Skip(12)
            .Schedule();
        s.RunPrefork();

        Assert.Equal(UnitState.Done, s.GetState(11));
        Assert.Equal(UnitState.Done, s.GetState(12));
        var fk = s.LeaseOne();
        Assert.Equal(13, fk.UnitId);
        s.Done(fk);
        Assert.True(s.IsFinished);
        Assert.Equal(new ScheduleProgress(3, 3, 2, 0, 0, 0, 0, 0, 0, 0), s.Progress);
    }

    [Fact]
    public void AnObserverHearsOfTheLoopsStartItsSkippedUnitsAndItsEndWhenTheyHappen()
    {
        var toc = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Add(2, "TABLE", ArchiveSection.PreData)
            .Data(11, "a", 10, 1)
            .Data(21, "b", 10, 2)
            .Add(12, "CONSTRAINT", ArchiveSection.PostData, 1)
            .Add(13, "FK CONSTRAINT", ArchiveSection.PostData, 12)
            .Skip(12);
        var events = new List<string>();
        var s = new RestoreSchedule(toc.Plan(), e => events.Add(e.Unit is { } u ? $"{e.Kind} {u.Id}" : $"{e.Kind}"));

        // The data of a table that failed is skipped as the loop starts (pg_restore: "skipping item").
        s.RunPrefork(new Dictionary<int, UnitStatus> { [2] = UnitStatus.InhibitData });
        Assert.Equal(["ParallelStarted", "Skipped 21"], events);

        // The constraint, with nothing selected, is skipped once its table's data is in; the loop ends after the last unit.
        s.Done(s.LeaseOne());
        Assert.Equal(["ParallelStarted", "Skipped 21", "Skipped 12"], events);
        s.Done(s.LeaseOne());
        Assert.Equal(["ParallelStarted", "Skipped 21", "Skipped 12", "ParallelEnded"], events);
        Assert.True(s.IsFinished);
    }

    [Fact]
    public void CircularDependenciesAndLatePassDependenciesEndAsMissedItems()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Add(2, "ACL", ArchiveSection.None, 1)
            .Data(11, "a", 10, 1)
            .Add(20, "CONSTRAINT", ArchiveSection.PostData, 21)
            .Add(21, "CONSTRAINT", ArchiveSection.PostData, 20)
            .Add(22, "RULE", ArchiveSection.PostData, 2)
            .Schedule();

        var order = s.DrainSerially();

        // 22 (MAIN pass) depends on an ACL: ready only during the ACL pass, so never moved.
        Assert.Equal([11, 2, RestoreSchedule.MissedItemsUnitId], order);
        Assert.Equal([20, 21, 22], s.MissedItems);
        Assert.Equal(UnitState.Done, s.GetState(20));
        Assert.Equal(5, s.Progress.DoneUnits);
    }

    [Fact]
    public void APermanentFailureCountsAnErrorAndLetsDependentsProceedWhileARetryableOneRequeues()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Data(11, "a", 10, 1)
            .Add(12, "INDEX", ArchiveSection.PostData, 1)
            .Schedule();
        s.RunPrefork();

        var first = s.LeaseOne();
        Assert.True(s.Fail(11, first.LeaseId, retryable: true));
        Assert.Equal(UnitState.Ready, s.GetState(11));
        Assert.Equal(0, s.ErrorCount);

        var second = s.LeaseOne();
        Assert.Equal(2, second.Attempt);
        Assert.True(s.Fail(11, second.LeaseId, retryable: false));
        Assert.Equal(UnitState.Failed, s.GetState(11));
        Assert.Equal(1, s.ErrorCount);
        Assert.Equal(1, s.Progress.FailedUnits);
        Assert.Equal(12, s.LeaseOne().UnitId);
    }

    [Fact]
    public void ASnapshotRestoresTheScheduleExactlyMidRun()
    {
        var toc = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Add(2, "TABLE", ArchiveSection.PreData)
            .Add(3, "ACL", ArchiveSection.None, 1)
            .Data(11, "a", 30, 1)
            .Data(12, "b", 20, 2)
            .Add(13, "SEQUENCE SET", ArchiveSection.Data)
            .Add(20, "CONSTRAINT", ArchiveSection.PostData, 1)
            .Add(21, "FK CONSTRAINT", ArchiveSection.PostData, 1, 2)
            .Add(22, "INDEX", ArchiveSection.PostData, 2)
            .Add(23, "CONSTRAINT", ArchiveSection.PostData, 24)
            .Add(24, "CONSTRAINT", ArchiveSection.PostData, 23);
        var plan = toc.Plan();
        var s = new RestoreSchedule(plan);
        s.RunPrefork(new Dictionary<int, UnitStatus> { [2] = UnitStatus.TableCreated });
        var a = s.LeaseOne("w1");
        var b = s.LeaseOne("w2");
        s.Done(a);
        var pk = s.LeaseOne("w3");
        Assert.Equal(20, pk.UnitId);

        var copy = RestoreSchedule.Restore(plan, s.Snapshot());
        AssertSame(s, copy);
        Assert.Equal(s.Leases, copy.Leases);

        // Both continue identically, including the lock conflict held by the leased constraint.
        AssertSameLease(s.Lease("w4", T0, Ttl), copy.Lease("w4", T0, Ttl));
        Assert.Equal(CompletionResult.Duplicate, copy.Complete(a.UnitId, a.LeaseId));
        Assert.Equal(s.Complete(b.UnitId, b.LeaseId), copy.Complete(b.UnitId, b.LeaseId));
        Assert.Equal(s.Complete(pk.UnitId, pk.LeaseId), copy.Complete(pk.UnitId, pk.LeaseId));
        while (!s.IsFinished)
        {
            var x = s.Lease("w", T0, Ttl);
            var y = copy.Lease("w", T0, Ttl);
            AssertSameLease(x, y);
            if (x is null)
            {
                foreach (var l in s.Leases)
                {
                    Assert.Equal(s.Complete(l.UnitId, l.LeaseId), copy.Complete(l.UnitId, l.LeaseId));
                }

                continue;
            }

            Assert.Equal(s.Complete(x.UnitId, x.LeaseId), copy.Complete(y!.UnitId, y.LeaseId));
            AssertSame(s, copy);
        }

        Assert.True(copy.IsFinished);
        Assert.Equal([23, 24], copy.MissedItems);
        AssertSame(s, RestoreSchedule.Restore(plan, copy.Snapshot()));
    }

    [Fact]
    public void ASnapshotOfAnotherPlanIsRejected()
    {
        var s = new TocBuilder().Add(1, "TABLE", ArchiveSection.PreData).Data(11, "a", 10, 1).Schedule();
        var other = new TocBuilder().Add(1, "TABLE", ArchiveSection.PreData).Data(12, "a", 10, 1).Plan();
        Assert.Throws<PlanningException>(() => RestoreSchedule.Restore(other, s.Snapshot()));
    }

    [Fact]
    public void ProgressCountsUnitsAndDataBytes()
    {
        var s = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData)
            .Add(2, "TABLE", ArchiveSection.PreData)
            .Data(11, "a", 300, 1)
            .Data(12, "b", 100, 2)
            .Add(13, "INDEX", ArchiveSection.PostData, 1)
            .Schedule();
        s.RunPrefork();
        Assert.Equal(new ScheduleProgress(3, 0, 0, 0, 2, 0, 400, 0, 0, 0), s.Progress);

        var a = s.LeaseOne();
        Assert.Equal(new ScheduleProgress(3, 0, 0, 0, 1, 1, 400, 0, 0, 0), s.Progress);
        s.Done(a);
        Assert.Equal(new ScheduleProgress(3, 1, 0, 0, 2, 0, 400, 300, 0, 0), s.Progress);
        s.DrainSerially();
        Assert.Equal(new ScheduleProgress(3, 3, 0, 0, 0, 0, 400, 400, 0, 0), s.Progress);
    }

    [Fact]
    public void AnEmptyTocIsFinishedAtOnce()
    {
        var s = new RestoreSchedule(RestorePlan.Build(Array.Empty<PlanEntry>()));
        Assert.True(s.IsFinished);
        Assert.Null(s.Lease("w", T0, Ttl));
    }

    private static void AssertSameLease(WorkLease? expected, WorkLease? actual)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is not null)
        {
            Assert.Equal(expected with { EntryIds = [] }, actual! with { EntryIds = [] });
            Assert.Equal(expected.EntryIds, actual.EntryIds);
        }
    }

    private static void AssertSame(RestoreSchedule expected, RestoreSchedule actual)
    {
        var e = expected.Snapshot();
        var a = actual.Snapshot();
        Assert.Equal(e.Phase, a.Phase);
        Assert.Equal(e.Pass, a.Pass);
        Assert.Equal(e.LeaseSequence, a.LeaseSequence);
        Assert.Equal(e.States, a.States);
        Assert.Equal(e.DepCounts, a.DepCounts);
        Assert.Equal(e.Attempts, a.Attempts);
        Assert.Equal(e.Flags, a.Flags);
        Assert.Equal(e.LeaseIds, a.LeaseIds);
        Assert.Equal(e.ExpiryUtcTicks, a.ExpiryUtcTicks);
        Assert.Equal(expected.Progress, actual.Progress);
        Assert.Equal(expected.MissedItems, actual.MissedItems);
    }
}
