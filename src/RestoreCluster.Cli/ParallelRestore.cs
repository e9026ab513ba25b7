using System.Diagnostics;
using RestoreCluster.Archive;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli;

/// <summary>
/// restore -d through the grains: an embedded single-node cluster in this process, a coordinator for the
/// job, this silo's worker with -j slots, and the target host's budget. The whole job is one span, the parent
/// of every unit's span (docs/telemetry.md).
/// </summary>
internal static class ParallelRestore
{
    public static async Task<int> RunAsync(
        PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions options, ConnectionTarget target,
        int jobs, HostBudgetChoice hostBudget, bool resume, string progressMode, TimeSpan stallWarning, TelemetryOptions telemetry, CliOutput io,
        RestoreLogs logs, EarlySilo? early = null)
    {
        var status = await RunJobAsync(archive, order, options, target, jobs, hostBudget, resume, progressMode, stallWarning, telemetry, io, logs, early);
        return JobWatch.Exit(status, io, "restore cancelled; the journal in the target keeps what was done: rerun with --resume to continue");
    }

    /// <summary>
    /// Runs the job to its end (its messages and progress shown as <c>restore</c> shows them) and returns its last status.
    /// <paramref name="early"/>: the silo, already on its way up, which this job takes once the target is reached (until then
    /// its owner stops it on any failure); without it the silo starts once the target is known to be reachable.
    /// </summary>
    public static async Task<JobStatus> RunJobAsync(
        PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions options, ConnectionTarget target,
        int jobs, HostBudgetChoice hostBudget, bool resume, string progressMode, TimeSpan stallWarning, TelemetryOptions telemetry, CliOutput io,
        RestoreLogs logs, EarlySilo? early = null)
    {
        DatabaseRestore.RequireRawSql();
        if (options.Verbose)
        {
            io.Info(VerboseMessages.ConnectingForRestore);
        }

        var started = Stopwatch.StartNew();
        // The target's identity before the job: a target that cannot be reached (a wrong password, say) fails in one
        // line, and a silo started early is stopped by its owner once its start has ended, never half started.
        string hostKey = await Task.Run(() => HostIdentity.Resolve(target, io.Warn));

        await using var cluster = await (early?.Take() ?? EmbeddedCluster.StartAsync(telemetry, logs.AddTo));
        string jobId = $"job-{Guid.NewGuid():N}";
        string archivePath = Path.GetFullPath(archive.DisplayName);
        // Started once the cluster (and its tracer provider) runs: before, nobody listens and it is not recorded.
        using var job = GrainInstruments.StartJob(jobId, archivePath, jobs, hostBudget.HostBudget);
        var spec = new JobSpec(
            jobId, archivePath, target.Values, hostBudget.OptionsFor(options).ToJobOptions(),
            ReferenceEquals(order, archive.Entries) ? null : order.Select(e => e.DumpId).ToList(), jobs, hostBudget.HostBudget, resume, job?.Id, hostKey);
        var budget = cluster.Grains.GetGrain<IHostBudgetGrain>(hostKey);
        var coordinator = cluster.Grains.GetGrain<ICoordinatorGrain>(jobId);
        // Neither needs the other (the first permit is asked for once the worker joins): their grains activate side by side.
        await Task.WhenAll(hostBudget.ApplyAsync(budget, target.Values), coordinator.Start(spec));
        await cluster.Grains.GetGrain<IWorkerGrain>(cluster.SiloName).Join(jobId, jobs);

        // Ctrl-C cancels the job: this process is the cluster. Once the job ended, the worker's slots get a moment
        // to notice the end and hand back their sessions and permits.
        var worker = cluster.Grains.GetGrain<IWorkerGrain>(cluster.SiloName);
        var status = await JobWatch.FollowAsync(
            coordinator, budget, progressMode, stallWarning, target.HostLabel, io, logs, started, JobWatch.OnInterrupt.Cancel,
            _ => WaitForSlots(worker, budget));
        Describe(job, status!);
        return status!;
    }

    // Until no batch runs and every permit went back (a slot gives its permit back after its batch, once it has seen
    // the job's end), at most 5 s. This process's budget serves this job only.
    private static async Task WaitForSlots(IWorkerGrain worker, IHostBudgetGrain budget)
    {
        for (int i = 0; i < 100 && (await worker.Running() > 0 || (await budget.Status()).InFlight > 0); i++)
        {
            await Task.Delay(50);
        }
    }

    private static void Describe(Activity? job, JobStatus status)
    {
        job?.SetTag("restorecluster.state", status.State.ToString().ToLowerInvariant());
        job?.SetTag("restorecluster.units", status.UnitsDone);
        job?.SetTag("restorecluster.bytes", status.BytesDone);
        job?.SetTag("restorecluster.errors", status.Errors);
        job?.SetTag("restorecluster.retries", status.Retries);
        if (status.State is JobState.Failed or JobState.Cancelled)
        {
            job?.SetStatus(ActivityStatusCode.Error, status.Message);
        }
    }
}
