using Orleans.Concurrency;

namespace RestoreCluster.Grains.Abstractions;

/// <summary>One per restore job: holds the schedule; workers lease units from it with short calls.</summary>
[Alias("RestoreCluster.ICoordinatorGrain")]
public interface ICoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Plans the job (fast) and makes it available to workers.</summary>
    [Alias("Start")]
    Task<JobStatus> Start(JobSpec spec);

    /// <summary>The next unit for this worker, or null when none is ready now.</summary>
    [Alias("Lease")]
    Task<UnitLease?> Lease(string workerId);

    [Alias("Renew")]
    Task<bool> Renew(string leaseId);

    /// <summary>
    /// How far a leased unit's data got: archive bytes read by its current attempt. Sent by the slot a few
    /// times a second while the unit runs; ignored for a lease that is no longer current.
    /// </summary>
    [Alias("ReportProgress")]
    Task ReportProgress(string leaseId, long bytesRead);

    [Alias("Complete")]
    Task Complete(UnitReport report);

    [Alias("Cancel")]
    Task Cancel();

    /// <summary>Ends the job at once with an error a worker met outside any unit (it could not open the archive, say).</summary>
    [Alias("Abort")]
    Task Abort(string message);

    [Alias("Spec")]
    Task<JobSpec?> Spec();

    [ReadOnly]
    [Alias("Status")]
    Task<JobStatus> Status();
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
}

/// <summary>One per target host (server): grants permits up to its budget; permits expire unless renewed.</summary>
[Alias("RestoreCluster.IHostBudgetGrain")]
public interface IHostBudgetGrain : IGrainWithStringKey
{
    [Alias("TryAcquire")]
    Task<Permit?> TryAcquire(string owner, TimeSpan ttl);

    [Alias("RenewPermit")]
    Task<bool> Renew(string permitId, TimeSpan ttl);

    [Alias("Release")]
    Task Release(string permitId);

    [Alias("SetBudget")]
    Task SetBudget(int budget);

    [ReadOnly]
    [Alias("HostStatus")]
    Task<HostStatus> Status();
}
