namespace RestoreCluster.Grains.Abstractions;

/// <summary>Where a job stands.</summary>
[GenerateSerializer, Alias("RestoreCluster.JobState")]
public enum JobState
{
    NotStarted = 0,
    Running = 1,
    Succeeded = 2,
    CompletedWithErrors = 3,
    Failed = 4,
    Cancelled = 5,
}

/// <summary>
/// A job's progress: units and table-data bytes done of the plan's totals, errors, retries; the phase, the
/// units running now, and for the summary the rows loaded, the time per phase and the slowest units.
/// <see cref="BytesDone"/> counts finished units at their data size and running units by the archive bytes
/// read so far (docs/progress-json.md). <see cref="News"/> grows whenever the state changes or messages come.
/// <see cref="ErrorMessages"/> holds the kept messages numbered <see cref="MessagesFrom"/> and later, in the
/// order they came: errors, warnings (marked "warning: ") and -v lines (marked "info: "); ask from
/// <see cref="MessagesNext"/> next time. <see cref="MessageCount"/> counts the errors and warnings, kept or
/// not (the first 10,000 are kept); <see cref="VerboseDropped"/> the -v lines that were not kept because
/// 100,000 were waiting for a reader (a -v line is kept until a reader has asked past it). <see cref="RanAgain"/>
/// names the units leased again after their lease lapsed (a worker or its silo died or stalled), in order.
/// <see cref="Unreadable"/> names the live silos that cannot read the job's archive, and why (they take none of its units).
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.JobStatus")]
public sealed record JobStatus(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobState State,
    [property: Id(2)] int UnitsDone,
    [property: Id(3)] int UnitsTotal,
    [property: Id(4)] long BytesDone,
    [property: Id(5)] long BytesTotal,
    [property: Id(6)] int Errors,
    [property: Id(7)] int Retries,
    [property: Id(8)] int Leased,
    [property: Id(9)] string? Message,
    [property: Id(10)] IReadOnlyList<string> ErrorMessages,
    [property: Id(11)] JobPhase Phase,
    [property: Id(12)] IReadOnlyList<RunningUnit> Running,
    [property: Id(13)] long Rows,
    [property: Id(14)] PhaseSeconds PhaseSeconds,
    [property: Id(15)] IReadOnlyList<UnitTiming> Slowest,
    [property: Id(16)] long News = 0,
    [property: Id(17)] int MessagesFrom = 0,
    [property: Id(18)] int MessageCount = 0,
    [property: Id(19)] int MessagesNext = 0,
    [property: Id(20)] int VerboseDropped = 0,
    [property: Id(21)] IReadOnlyList<string>? RanAgain = null,
    [property: Id(22)] IReadOnlyList<UnreadableArchive>? Unreadable = null);

/// <summary>A silo that cannot read a job's archive (a missing mount, no permission): its name, why (one line), since when.</summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.UnreadableArchive")]
public sealed record UnreadableArchive(
    [property: Id(0)] string Silo,
    [property: Id(1)] string Reason,
    [property: Id(2)] DateTimeOffset Since);

/// <summary>The phase of a restore: the earliest section with work not done (RestoreCluster.Planning.RestorePhase).</summary>
[GenerateSerializer, Alias("RestoreCluster.JobPhase")]
public enum JobPhase
{
    PreData = 0,
    Data = 1,
    PostData = 2,
    Done = 3,
}

/// <summary>
/// A unit leased right now: what it is (<c>TABLE DATA public.orders</c>), since when, the archive bytes its
/// data stream has read (the most any attempt read) and its data size (0: unknown).
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.RunningUnit")]
public sealed record RunningUnit(
    [property: Id(0)] int UnitId,
    [property: Id(1)] string Label,
    [property: Id(2)] DateTimeOffset Started,
    [property: Id(3)] long BytesRead,
    [property: Id(4)] long DataBytes);

/// <summary>A finished unit's wall time (lease to completion), archive bytes and COPY rows.</summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.UnitTiming")]
public sealed record UnitTiming(
    [property: Id(0)] string Label,
    [property: Id(1)] double Seconds,
    [property: Id(2)] long Bytes,
    [property: Id(3)] long Rows);

/// <summary>Seconds spent in each phase so far.</summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.PhaseSeconds")]
public sealed record PhaseSeconds(
    [property: Id(0)] double PreData,
    [property: Id(1)] double Data,
    [property: Id(2)] double PostData);

/// <summary>
/// A target host's budget and use: permits held now (<see cref="InFlight"/>) and slots waiting inside their
/// Acquire call for one (<see cref="Waiting"/>). An adaptive budget (<see cref="Adaptive"/>: how it was set, e.g.
/// <c>auto:4, protect 50 ms</c>) says why it last changed (<see cref="Reason"/>); <see cref="Budget"/> is then the
/// permits units get now (the probe's session aside). <see cref="CopyPacePercent"/>: the share of the time a running COPY
/// may send data under <c>--protect</c>'s pacing (100: full speed).
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.HostStatus")]
public sealed record HostStatus(
    [property: Id(0)] string Host,
    [property: Id(1)] int Budget,
    [property: Id(2)] int InFlight,
    [property: Id(3)] int Waiting,
    [property: Id(4)] string? Adaptive = null,
    [property: Id(5)] string? Reason = null,
    [property: Id(6)] int CopyPacePercent = 100);

/// <summary>
/// An adaptive host budget: at most <see cref="Max"/> of our sessions on the server; with <see cref="ProtectMs"/>
/// (0: none) a probe (<see cref="ProbeSql"/>; default <c>AdaptiveBudget.DefaultProbeSql</c>, <c>SELECT txid_current()</c>)
/// on a session of its own keeps its p95 latency under that many milliseconds (docs/concurrency.md).
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.AdaptiveBudgetSpec")]
public sealed record AdaptiveBudgetSpec(
    [property: Id(0)] int Max,
    [property: Id(1)] double ProtectMs = 0,
    [property: Id(2)] string? ProbeSql = null)
{
    /// <summary>How <c>status</c> shows it: <c>auto:4</c>, <c>auto:4, protect 50 ms</c>.</summary>
    public override string ToString() =>
        ProtectMs > 0 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"auto:{Max}, protect {ProtectMs:0.#} ms") : $"auto:{Max}";
}

/// <summary>A silo's worker: its name (the silo's), its slots (0: as many as each job asks), units running now, jobs, whether it drains.</summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.WorkerInfo")]
public sealed record WorkerInfo(
    [property: Id(0)] string Silo,
    [property: Id(1)] int Slots,
    [property: Id(2)] int Running,
    [property: Id(3)] IReadOnlyList<string> Jobs,
    [property: Id(4)] bool Draining);

/// <summary>
/// A submitted job as the registry knows it: its id, archive, target (never a password), host key, when; the fleet
/// it belongs to (null: submitted alone) and its priority (larger runs first).
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.JobEntry")]
public sealed record JobEntry(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Archive,
    [property: Id(2)] string Target,
    [property: Id(3)] string HostKey,
    [property: Id(4)] DateTimeOffset Submitted,
    [property: Id(5)] string? FleetId = null,
    [property: Id(6)] int Priority = 0);
