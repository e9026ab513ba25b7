using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>Where a schedule is: prefork (serial), parallel passes, postfork (missed items), finished.</summary>
public enum SchedulePhase
{
    Prefork = 0,
    Parallel = 1,
    Postfork = 2,
    Finished = 3,
}

/// <summary>The state of one unit.</summary>
public enum UnitState
{
    Pending = 0,
    Ready = 1,
    Leased = 2,
    Done = 3,
    Failed = 4,
}

/// <summary>What a lease asks the worker to run.</summary>
public enum WorkKind
{
    /// <summary>The prefork list, serially, in order, on one connection (<see cref="WorkLease.EntryIds"/>).</summary>
    Prefork,

    /// <summary>One entry (<see cref="WorkLease.UnitId"/> is its dump ID).</summary>
    Entry,

    /// <summary>The missed items, serially, in order, ignoring passes (pg_restore's postfork).</summary>
    MissedItems,

    /// <summary>
    /// A later serial step of the prefork, after a pre-data group (<see cref="PreDataGroups"/>): its entries, serially, in
    /// order, on one connection (<see cref="WorkLease.EntryIds"/>); the restore's start is done.
    /// </summary>
    PreforkStep,
}

/// <summary>What a schedule tells its observer: the moments pg_restore -j's leader names with -v.</summary>
public enum ScheduleEventKind
{
    /// <summary>The prefork batch is done and the passes begin ("entering main parallel loop").</summary>
    ParallelStarted,

    /// <summary>A unit with nothing selected is done without a worker ("skipping item").</summary>
    Skipped,

    /// <summary>The last pass is done; missed items may follow ("finished main parallel loop").</summary>
    ParallelEnded,
}

/// <summary>One moment of a schedule; <paramref name="Unit"/> for <see cref="ScheduleEventKind.Skipped"/>.</summary>
public readonly record struct ScheduleEvent(ScheduleEventKind Kind, PlanUnit? Unit = null);

/// <summary>How a restored entry ended (pg_restore's worker status codes).</summary>
public enum UnitStatus
{
    /// <summary>Restored without errors.</summary>
    Ok = 0,

    /// <summary>A TABLE was created without error (WORKER_CREATE_DONE): its data may use TRUNCATE + COPY.</summary>
    TableCreated = 10,

    /// <summary>A TABLE failed with --no-data-for-failed-tables (WORKER_INHIBIT_DATA): skip its data; one error.</summary>
    InhibitData = 11,

    /// <summary>Errors were ignored (WORKER_IGNORED_ERRORS): one error.</summary>
    IgnoredErrors = 12,
}

/// <summary>The answer to <see cref="RestoreSchedule.Complete"/>.</summary>
public enum CompletionResult
{
    /// <summary>The lease was current; the unit is now done.</summary>
    Accepted,

    /// <summary>The unit was already completed under this very lease; nothing changed.</summary>
    Duplicate,

    /// <summary>Unknown unit, or a lease that is not (or no longer) the unit's; nothing changed.</summary>
    Stale,
}

/// <summary>A unit handed to a worker.</summary>
/// <param name="LeaseId">The lease, to quote in Renew/Complete/Fail.</param>
/// <param name="UnitId">The dump ID for entries (a chunk ID for a chunk of split table data, <see cref="TableSplit"/>); <see cref="RestoreSchedule.PreforkUnitId"/> or <see cref="RestoreSchedule.MissedItemsUnitId"/> for serial batches.</param>
/// <param name="Kind">What to run.</param>
/// <param name="EntryIds">The unit IDs to restore, in order (one for an entry): dump IDs, or chunk IDs.</param>
/// <param name="Pass">The pass of an entry (Main for batches).</param>
/// <param name="Priority">The unit's priority (dataLength); 0 for batches.</param>
/// <param name="TableCreated">A TABLE DATA unit whose table this run created without error (TRUNCATE+COPY allowed).</param>
/// <param name="WorkerId">The worker holding the lease.</param>
/// <param name="ExpiresAt">When the lease lapses unless renewed.</param>
/// <param name="Attempt">1 for the first lease of the unit, 2 after one expiry or retry, and so on.</param>
public sealed record WorkLease(
    string LeaseId,
    int UnitId,
    WorkKind Kind,
    IReadOnlyList<int> EntryIds,
    RestorePass Pass,
    long Priority,
    bool TableCreated,
    string WorkerId,
    DateTimeOffset ExpiresAt,
    int Attempt);

/// <summary>Progress counters of a schedule (entry units only; the serial batches are not counted).</summary>
public sealed record ScheduleProgress(
    int TotalUnits,
    int DoneUnits,
    int SkippedUnits,
    int FailedUnits,
    int ReadyUnits,
    int LeasedUnits,
    long TotalDataBytes,
    long DoneDataBytes,
    int ErrorCount,
    int ExpiredLeases);

/// <summary>
/// The persistent state of a <see cref="RestoreSchedule"/> (plain values; arrays are indexed like
/// <see cref="RestorePlan.Units"/>, followed by the prefork batch and then the missed-items batch).
/// </summary>
public sealed record ScheduleSnapshot(
    int Version,
    int Phase,
    int Pass,
    long LeaseSequence,
    int ErrorCount,
    int ExpiredLeases,
    int[] UnitIds,
    int[] States,
    int[] DepCounts,
    int[] Attempts,
    int[] Flags,
    string?[] LeaseIds,
    string?[] Workers,
    long[] ExpiryUtcTicks,
    int PreforkPosition = 0);

/// <summary>
/// The restore phase progress reports name: the earliest section that still has work not done. The serial
/// prefork batch is pre-data; entries of section NONE (ACLs, and the like after the first data) count as
/// post-data, since they run in the passes after the main one.
/// </summary>
public enum RestorePhase
{
    PreData = 0,
    Data = 1,
    PostData = 2,
    Finished = 3,
}

/// <summary>Which <see cref="RestorePhase"/> an entry's section belongs to.</summary>
public static class RestorePhases
{
    public static RestorePhase Of(ArchiveSection section) => section switch
    {
        ArchiveSection.PreData => RestorePhase.PreData,
        ArchiveSection.Data => RestorePhase.Data,
        _ => RestorePhase.PostData,
    };
}
