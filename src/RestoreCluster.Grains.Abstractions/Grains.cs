using Orleans.Concurrency;

namespace RestoreCluster.Grains.Abstractions;

/// <summary>One per restore job: holds the schedule; workers lease units from it with short calls.</summary>
[Alias("RestoreCluster.ICoordinatorGrain")]
public interface ICoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Plans the job (fast) and makes it available to workers.</summary>
    [Alias("Start")]
    Task<JobStatus> Start(JobSpec spec);

    /// <summary>
    /// Up to <paramref name="maxUnits"/> units for one transaction of this worker: the first ready unit, and
    /// with it more ready small units (a batch; each unit keeps its own lease). When none is ready, the call
    /// waits up to <paramref name="wait"/> for one (it returns as soon as one is); empty when none came, or
    /// when the job no longer hands out work.
    /// </summary>
    [AlwaysInterleave]
    [Alias("Lease")]
    Task<IReadOnlyList<UnitLease>> Lease(string workerId, int maxUnits, TimeSpan wait);

    /// <summary>Reports finished units, then leases as <see cref="Lease"/> does: one call between two batches.</summary>
    [AlwaysInterleave]
    [Alias("CompleteAndLease")]
    Task<IReadOnlyList<UnitLease>> CompleteAndLease(IReadOnlyList<UnitReport> reports, string workerId, int maxUnits, TimeSpan wait);

    /// <summary>Extends the leases; false when any of them is no longer current (its units must stop).</summary>
    [Alias("Renew")]
    Task<bool> Renew(IReadOnlyList<string> leaseIds);

    /// <summary>
    /// How far a leased unit's data got: archive bytes read by its current attempt. Sent by the slot a few
    /// times a second while the unit runs; ignored for a lease that is no longer current. The answer says
    /// whether to go on: false when the lease is not current or the job stopped (the unit must stop now).
    /// </summary>
    [Alias("ReportProgress")]
    Task<bool> ReportProgress(string leaseId, long bytesRead);

    [Alias("Complete")]
    Task Complete(IReadOnlyList<UnitReport> reports);

    [Alias("Cancel")]
    Task Cancel();

    /// <summary>Ends the job at once with an error a worker met outside any unit (it could not open the archive, say).</summary>
    [Alias("Abort")]
    Task Abort(string message);

    /// <summary>
    /// A silo's worker says whether it can read the job's archive (<paramref name="reason"/> null: it can again). A silo
    /// that cannot takes none of the job's units; when no live silo can, the job fails. The answer: whether the job still runs.
    /// </summary>
    [Alias("ArchiveAccess")]
    Task<bool> ArchiveAccess(string silo, string? reason);

    [Alias("Spec")]
    Task<JobSpec?> Spec();

    [ReadOnly]
    [Alias("Status")]
    Task<JobStatus> Status();

    /// <summary>The name of the silo this job's coordinator lives on (status; the failover tests kill it or spare it).</summary>
    [ReadOnly]
    [Alias("Silo")]
    Task<string> Silo();

    /// <summary>
    /// The status once there is news (the job's state changed, or messages came) after
    /// <paramref name="seenNews"/> (<see cref="JobStatus.News"/>), or after <paramref name="wait"/>; the
    /// messages numbered <paramref name="messagesFrom"/> and later. The caller is taken to have the messages
    /// before <paramref name="messagesFrom"/>: the -v lines among them are forgotten (they are handed out once).
    /// </summary>
    [AlwaysInterleave]
    [Alias("WaitStatus")]
    Task<JobStatus> WaitStatus(long seenNews, int messagesFrom, TimeSpan wait);
}

/// <summary>One per silo: runs units in N slots, pulling from coordinators; the unit itself runs outside any grain call.</summary>
[Alias("RestoreCluster.IWorkerGrain")]
public interface IWorkerGrain : IGrainWithStringKey
{
    /// <summary>Starts working on a job with up to <paramref name="slots"/> units at a time (returns at once).</summary>
    [Alias("Join")]
    Task Join(string jobId, int slots);

    [ReadOnly]
    [Alias("Running")]
    Task<int> Running();

    /// <summary>The silo's slots, the units running now and the jobs it works on (status).</summary>
    [ReadOnly]
    [Alias("Info")]
    Task<WorkerInfo> Info();

    /// <summary>Why this silo cannot read the archive at <paramref name="path"/> (one line), or null when it can (submit places the coordinator).</summary>
    [AlwaysInterleave]
    [Alias("CheckArchive")]
    Task<string?> CheckArchive(string path);

    /// <summary>The silo is stopping: lease nothing more, let the running units finish (a silo's SIGTERM).</summary>
    [Alias("Drain")]
    Task Drain();
}


/// <summary>One per target host (server): grants permits up to its budget; permits expire unless renewed.</summary>
[Alias("RestoreCluster.IHostBudgetGrain")]
public interface IHostBudgetGrain : IGrainWithStringKey
{
    /// <summary>
    /// A permit for <paramref name="ttl"/>, at once if the budget allows, else as soon as one is free within
    /// <paramref name="wait"/>; null when none came in that time.
    /// </summary>
    [AlwaysInterleave]
    [Alias("Acquire")]
    Task<Permit?> Acquire(string owner, TimeSpan ttl, TimeSpan wait);

    [Alias("RenewPermit")]
    Task<bool> Renew(string permitId, TimeSpan ttl);

    [Alias("Release")]
    Task Release(string permitId);

    /// <summary>
    /// Keeps a permit for the slot's next batch, renewed for <paramref name="ttl"/>; false when it lapsed, or when the
    /// server holds more permits than its budget now (the budget was lowered): then the permit is released, so a lower
    /// budget takes effect as running batches end.
    /// </summary>
    [Alias("Keep")]
    Task<bool> Keep(string permitId, TimeSpan ttl);

    [Alias("SetBudget")]
    Task SetBudget(int budget);

    /// <summary>
    /// The share of the time a running COPY under this budget may send data (<c>--protect</c>'s pacing, from 0.05 to 1):
    /// 1 without a probe. Units whose permit <see cref="Permit.Protects"/> read it while they run.
    /// </summary>
    [AlwaysInterleave]
    [Alias("CopyPace")]
    Task<double> CopyPace();

    /// <summary>
    /// Makes the budget adaptive (<c>--host-budget auto[:MAX]</c>, <c>--protect MS</c>): it starts low and the grain
    /// moves it by what it measures. <paramref name="target"/> is where its probe connects (never with a password
    /// in a cluster: the silo's own credentials are used, as for units).
    /// </summary>
    [Alias("SetAdaptive")]
    Task SetAdaptive(AdaptiveBudgetSpec spec, IReadOnlyDictionary<string, string> target);

    [ReadOnly]
    [Alias("HostStatus")]
    Task<HostStatus> Status();
}
