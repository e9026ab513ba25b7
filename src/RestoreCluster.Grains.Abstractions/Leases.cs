namespace RestoreCluster.Grains.Abstractions;

/// <summary>What a worker is told to run.</summary>
[GenerateSerializer, Alias("RestoreCluster.UnitKind")]
public enum UnitKind
{
    /// <summary>
    /// The serial start, on one session: -C's CREATE DATABASE, the journal (checked for --resume), the -c
    /// drops, then the pre-data entries in archive order.
    /// </summary>
    Prefork = 0,

    /// <summary>One TOC entry.</summary>
    Entry = 1,

    /// <summary>Entries left after the last pass, serially (pg_restore's postfork).</summary>
    MissedItems = 2,

    /// <summary>The normal end: drop the journal.</summary>
    Finish = 3,

    /// <summary>
    /// A later serial step of pre-data, after a pre-data group (docs/concurrency.md, "The ordering"): its entries in
    /// archive order, on one session; the start (journal, -C, -c's drops) was done by <see cref="Prefork"/>.
    /// </summary>
    PreforkStep = 4,
}

/// <summary>
/// A unit leased to a worker until <see cref="Expires"/>, renewed while it runs. <see cref="TruncateFirst"/>:
/// table data of a table this run created, which a run of it after another (that may have left rolled-back
/// rows) truncates first. <see cref="FirstRun"/>: no earlier run of the unit can have left anything in the
/// table (the unit's first lease, in a job that does not resume another run's journal). <see cref="SpareSessions"/>: the
/// job's host budget less its units leased when this one was (itself included), for --host-memory's parallel workers.
/// <see cref="JobFailed"/>: the <see cref="UnitKind.Finish"/> of a job that stopped on a fatal error or -e, which
/// drops the journal but runs no final ANALYZE of --analyze. A Finish's <see cref="EntryIds"/>: the end units of split
/// tables whose rows it takes back first (a chunk stopped the job).
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.UnitLease")]
public sealed record UnitLease(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] UnitKind Kind,
    [property: Id(2)] int UnitId,
    [property: Id(3)] IReadOnlyList<int> EntryIds,
    [property: Id(4)] bool TruncateFirst,
    [property: Id(5)] DateTimeOffset Expires,
    [property: Id(6)] bool FirstRun = false,
    [property: Id(7)] int SpareSessions = 0,
    [property: Id(8)] bool JobFailed = false);

/// <summary>How a leased unit ended (<see cref="NotRun"/>: its batch stopped before it; it was not run).</summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.UnitReport")]
public sealed record UnitReport(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] int UnitId,
    [property: Id(2)] int Errors,
    [property: Id(3)] IReadOnlyList<int> CreatedTables,
    [property: Id(4)] IReadOnlyList<int> FailedTables,
    [property: Id(6)] string? Fatal,
    [property: Id(7)] long Bytes,
    [property: Id(8)] int Retries,
    [property: Id(9)] IReadOnlyList<string> ErrorMessages,
    [property: Id(10)] long Rows = 0,
    [property: Id(11)] long BytesRead = 0,
    [property: Id(12)] bool NotRun = false,
    [property: Id(13)] bool AlreadyDone = false);

/// <summary>
/// A permit to run one unit's session on a target host, leased like a unit. <see cref="Protects"/>: the host's budget
/// guards a live server's latency (<c>--protect</c>), so the unit's session starts no parallel workers (processes the
/// budget would not count).
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.Permit")]
public sealed record Permit(
    [property: Id(0)] string PermitId,
    [property: Id(1)] string Host,
    [property: Id(2)] DateTimeOffset Expires,
    [property: Id(3)] bool Protects = false);
