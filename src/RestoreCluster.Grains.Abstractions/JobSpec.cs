namespace RestoreCluster.Grains.Abstractions;

/// <summary>
/// One restore job as submitted: the archive, where it goes, how, and how wide. <see cref="TraceParent"/> is the
/// W3C trace context of the job's span, so units run on any silo become its children. <see cref="HostKey"/> names
/// the target server's budget. <see cref="Timings"/> are the protocol's times (null: <see cref="JobTimings.Default"/>).
/// <see cref="Priority"/> orders the jobs of a fleet on a silo's slots (larger first, docs/concurrency.md).
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.JobSpec")]
public sealed record JobSpec(
    [property: Id(0)] string JobId,
    [property: Id(1)] string ArchivePath,
    [property: Id(2)] IReadOnlyDictionary<string, string> Target,
    [property: Id(3)] JobOptions Options,
    [property: Id(4)] IReadOnlyList<int>? Order,
    [property: Id(5)] int Jobs,
    [property: Id(6)] int HostBudget,
    [property: Id(7)] bool Resume,
    [property: Id(8)] string? TraceParent = null,
    [property: Id(9)] string? HostKey = null,
    [property: Id(10)] JobTimings? Timings = null,
    [property: Id(11)] int Priority = 0);

/// <summary>
/// The times of a job's unit protocol: how long a unit's lease and a slot's permit last unless renewed (each is
/// renewed every quarter of its time while the unit runs), and how often a running batch reports its progress
/// (the answer may stop it). The CLI always runs with <see cref="Default"/>; tests make them small, so that
/// lapses happen in a second.
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.JobTimings")]
public sealed record JobTimings(
    [property: Id(0)] TimeSpan LeaseTime,
    [property: Id(1)] TimeSpan PermitTime,
    [property: Id(2)] TimeSpan ProgressInterval)
{
    public static JobTimings Default { get; } = new(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(300));

    /// <summary>How often a running batch renews its leases and its permit: a quarter of the shorter time.</summary>
    public TimeSpan RenewInterval => (LeaseTime < PermitTime ? LeaseTime : PermitTime) / 4;
}

/// <summary>
/// pg_restore's options of a job (RestoreOptions with its SelectionOptions) as they travel between grains: their
/// one serialized form (RestoreOptionsJson), so that no list of the options is written out again here. They hold
/// no connection details and no password.
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.JobOptions")]
public sealed record JobOptions([property: Id(0)] string Json);
