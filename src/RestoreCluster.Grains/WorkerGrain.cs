using RestoreCluster.Archive;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// One per silo: for each job it joins, N slots pull units from the job's coordinator. A slot first takes
/// a permit from the target host's budget (never holding a unit lease while it waits), then leases a unit,
/// runs it on the thread pool outside any grain call, renews both leases while it runs, and reports with a
/// short call. Without a ready unit the slot hands its permit back and waits briefly.
/// </summary>
public sealed class WorkerGrain : Grain, IWorkerGrain
{
    private static readonly TimeSpan PermitTime = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(20);

    // How often a running entry's bytes read go to the coordinator: a few cheap calls a second per slot.
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(300);

    private readonly Dictionary<string, Task> _jobs = new(StringComparer.Ordinal);
    private int _running;
    private IGrainTimer? _keepAlive;

    public Task Join(string jobId, int slots)
    {
        if (!_jobs.ContainsKey(jobId))
        {
            _keepAlive ??= this.RegisterGrainTimer(_ => Task.CompletedTask, new GrainTimerCreationOptions(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)) { KeepAlive = true });
            _jobs[jobId] = RunJobAsync(jobId, slots);
        }

        return Task.CompletedTask;
    }

    public Task<int> Running() => Task.FromResult(_running);

    private async Task RunJobAsync(string jobId, int slots)
    {
        // Leave the Join call first: the job runs in turns of its own.
        await Task.Yield();
        var coordinator = GrainFactory.GetGrain<ICoordinatorGrain>(jobId);
        try
        {
            var spec = await coordinator.Spec() ?? throw new InvalidOperationException($"job {jobId} was not started");
            using var archive = PgArchive.Open(spec.ArchivePath);
            var budget = GrainFactory.GetGrain<IHostBudgetGrain>(spec.HostKey ?? HostKey.For(ConnectionTarget.FromValues(spec.Target)));
            var tasks = Enumerable.Range(0, slots).Select(slot => SlotAsync(coordinator, budget, spec, archive, $"{this.GetPrimaryKeyString()}/{jobId}/{slot}")).ToList();
            await Task.WhenAll(tasks);
        }
        catch (Exception e) when (e is ArchiveException or IOException or InvalidOperationException)
        {
            // Without this worker the job could never end: say why instead.
            await coordinator.Abort($"worker {this.GetPrimaryKeyString()} could not work on the job: {e.Message}");
        }
        finally
        {
            _jobs.Remove(jobId);
        }
    }

    private async Task SlotAsync(ICoordinatorGrain coordinator, IHostBudgetGrain budget, JobSpec spec, PgArchive archive, string slotId)
    {
        using var executor = new UnitExecutor(spec, archive);
        Permit? permit = null;
        try
        {
            while (true)
            {
                if (permit is null)
                {
                    permit = await budget.TryAcquire(slotId, PermitTime);
                    if (permit is null)
                    {
                        if (!await StillRunning(coordinator))
                        {
                            return;
                        }

                        await Task.Delay(Idle);
                        continue;
                    }
                }

                var lease = await coordinator.Lease(slotId);
                if (lease is null)
                {
                    // Nothing ready now: give the session and the permit back for others, then look again.
                    executor.Close();
                    await budget.Release(permit.PermitId);
                    permit = null;
                    if (!await StillRunning(coordinator))
                    {
                        return;
                    }

                    await Task.Delay(Idle);
                    continue;
                }

                _running++;
                try
                {
                    using var stop = new CancellationTokenSource();
                    executor.ResetBytesRead();
                    var run = Task.Run(() => executor.Run(lease, stop.Token));
                    var renewAt = DateTimeOffset.UtcNow + CoordinatorGrain.LeaseTime / 4;
                    long reported = 0;
                    while (await Task.WhenAny(run, Task.Delay(ProgressInterval)) != run)
                    {
                        long read = executor.BytesRead;
                        if (lease.Kind == UnitKind.Entry && read != reported)
                        {
                            reported = read;
                            await coordinator.ReportProgress(lease.LeaseId, read);
                        }

                        if (DateTimeOffset.UtcNow >= renewAt)
                        {
                            renewAt = DateTimeOffset.UtcNow + CoordinatorGrain.LeaseTime / 4;
                            await coordinator.Renew(lease.LeaseId);
                            await budget.Renew(permit.PermitId, PermitTime);
                        }
                    }

                    var report = await run;
                    await coordinator.Complete(report);
                }
                finally
                {
                    _running--;
                }
            }
        }
        finally
        {
            executor.Close();
            if (permit is not null)
            {
                await budget.Release(permit.PermitId);
            }
        }
    }

    private static async Task<bool> StillRunning(ICoordinatorGrain coordinator) =>
        (await coordinator.Status()).State == JobState.Running;
}
