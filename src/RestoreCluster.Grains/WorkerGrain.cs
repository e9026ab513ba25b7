using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RestoreCluster.Archive;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Planning;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// One per silo: for each job it joins, N slots pull units from the job's coordinator. A slot first takes
/// a permit from the target host's budget (never holding a unit lease while it waits), then leases a batch
/// of units, runs it on a thread of its own outside any grain call, reports its progress and renews both leases
/// while it runs, and reports the batch in the call that leases the next one. Waiting is done inside the
/// calls (they return when there is a permit or a unit, or after <see cref="FallbackWait"/>); a slot that
/// finds no unit for a while hands its session and permit back.
/// </summary>
[PinToSilo]
public sealed partial class WorkerGrain(ILogger<WorkerGrain> logger, ILoggerFactory loggers, IOptions<WorkerOptions> options, ILocalSiloDetails silo) : Grain, IWorkerGrain
{
    // How long a slot holding a permit waits for a unit before it gives the permit back for others. (The
    // permit and lease times, and how often a running unit's progress goes to the coordinator, which answers
    // whether to go on, are the job's JobTimings: by default a few cheap calls a second per slot, so a
    // cancelled job stops its statements within 300 ms.)
    private static readonly TimeSpan IdleWithPermit = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest a slot waits inside one call for a permit or a unit before it looks at the job again
    /// (RESTORECLUSTER_FALLBACK_WAIT_MS; events end the wait at once, so this only bounds how late a lost
    /// wake-up could be noticed).
    /// </summary>
    public static TimeSpan FallbackWait { get; } = TimeSpan.FromMilliseconds(
        int.TryParse(Environment.GetEnvironmentVariable("RESTORECLUSTER_FALLBACK_WAIT_MS"), out int ms) && ms > 0 ? ms : 5000);

    // A unit of definitions weighs as much as this much table data in a job's work left (SiloSlots' choice).
    private const double UnitWork = 64 * 1024;

    private readonly Dictionary<string, Task> _jobs = new(StringComparer.Ordinal);
    // Each job's work left as this worker last knew it, for the choice of who gets a free silo slot.
    private readonly Dictionary<string, double> _workLeft = new(StringComparer.Ordinal);
    private SiloSlots? _siloSlots;
    private int _running;
    private IGrainTimer? _keepAlive;
    private bool _draining;

    public Task Join(string jobId, int slots)
    {
        // A draining silo takes no new work; a silo's --slots caps what one job gets here.
        slots = WorkerOptions.SlotsFor(slots, options.Value.Slots);
        if (!_draining && !_jobs.ContainsKey(jobId))
        {
            _keepAlive ??= this.RegisterGrainTimer(_ => Task.CompletedTask, new GrainTimerCreationOptions(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)) { KeepAlive = true });
            _jobs[jobId] = RunJobAsync(jobId, slots);
        }

        return Task.CompletedTask;
    }

    public Task<int> Running() => Task.FromResult(_running);

    public Task<WorkerInfo> Info() => Task.FromResult(new WorkerInfo(this.GetPrimaryKeyString(), options.Value.Slots, _running, _jobs.Keys.ToList(), _draining));

    public Task<string?> CheckArchive(string path) => Task.Run(() => ArchiveReach.Check(path));

    public Task Drain()
    {
        _draining = true;
        return Task.CompletedTask;
    }

    private async Task RunJobAsync(string jobId, int slots)
    {
        // Leave the Join call first: the job runs in turns of its own.
        await Task.Yield();
        var coordinator = GrainFactory.GetGrain<ICoordinatorGrain>(jobId);
        try
        {
            var spec = await coordinator.Spec() ?? throw new InvalidOperationException($"job {jobId} was not started");
            var status = await coordinator.Status();
            _workLeft[jobId] = (status.BytesTotal - status.BytesDone) + UnitWork * (status.UnitsTotal - status.UnitsDone);
            using var archive = await OpenArchiveAsync(coordinator, spec);
            if (archive is null)
            {
                return;
            }

            var budget = GrainFactory.GetGrain<IHostBudgetGrain>(spec.HostKey ?? HostKey.For(ConnectionTarget.FromValues(spec.Target)));
            var tasks = Enumerable.Range(0, slots).Select(slot => GuardedSlotAsync(coordinator, budget, spec, archive, $"{this.GetPrimaryKeyString()}/{jobId}/{slot}")).ToList();
            await Task.WhenAll(tasks);
        }
        catch (Exception e) when (e is ArchiveException or IOException or InvalidOperationException)
        {
            // Without this worker the job could never end: say why instead.
            Log.JobUnworkable(logger, e, this.GetPrimaryKeyString(), jobId);
            await coordinator.Abort($"worker {this.GetPrimaryKeyString()} could not work on the job: {e.Message}");
        }
        finally
        {
            _jobs.Remove(jobId);
            _workLeft.Remove(jobId);
        }
    }

    // The job's archive, once this silo can read it; null when the job ended (or the silo drains) first. A silo that
    // cannot read it (a missing mount) says so once in its log, tells the coordinator (status shows it; the job fails
    // when no live silo can read it), takes none of its units and tries again after ArchiveReach.Recheck.
    private async Task<PgArchive?> OpenArchiveAsync(ICoordinatorGrain coordinator, JobSpec spec)
    {
        // The silo's name, as the membership knows it: the coordinator weighs it against the live silos.
        string name = silo.Name;
        string? told = null;
        while (true)
        {
            try
            {
                var archive = await Task.Run(() => PgArchive.Open(spec.ArchivePath));
                if (told is not null)
                {
                    Log.ArchiveReadable(logger, name, spec.ArchivePath, spec.JobId);
                    await coordinator.ArchiveAccess(name, null);
                }

                return archive;
            }
            catch (Exception e) when (ArchiveReach.IsUnreadable(e))
            {
                string reason = ArchiveReach.Reason(e);
                if (told is null)
                {
                    Log.ArchiveUnreadable(logger, name, spec.ArchivePath, spec.JobId, reason, ArchiveReach.Recheck.TotalSeconds);
                }

                told = reason;
                if (!await StillRunningAfter(() => coordinator.ArchiveAccess(name, reason), spec.JobId))
                {
                    return null;
                }
            }

            // Looks at the job every few seconds meanwhile: a job that ended (or a silo that drains) needs no archive.
            var again = DateTimeOffset.UtcNow + ArchiveReach.Recheck;
            while (DateTimeOffset.UtcNow < again)
            {
                await Task.Delay(Min(FallbackWait, again - DateTimeOffset.UtcNow));
                if (_draining || !await StillRunningAfter(() => StillRunning(coordinator), spec.JobId))
                {
                    return null;
                }
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    // A call to the coordinator that says whether the job still runs; a coordinator whose silo is gone counts as running:
    // the next call takes it up on a live silo (which fails the job if no live silo can read its archive).
    private async Task<bool> StillRunningAfter(Func<Task<bool>> call, string jobId)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (SlotRecovery.IsGrainUnreachable(e) && !_draining)
        {
            Log.GrainUnreachable(logger, silo.Name, jobId, e.GetType().Name, FallbackWait.TotalSeconds);
            return true;
        }
    }

    // Whatever ends a slot other than the job's end (a grain call that timed out, a bug) ends the job with a
    // message: a slot must never vanish silently and leave its units to lapse, or the job to wait forever.
    private async Task GuardedSlotAsync(ICoordinatorGrain coordinator, IHostBudgetGrain budget, JobSpec spec, PgArchive archive, string slotId)
    {
        var pause = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await SlotAsync(coordinator, budget, spec, archive, slotId);
                return;
            }
            catch (Exception e) when (SlotRecovery.IsGrainUnreachable(e) && !_draining)
            {
                // The coordinator's (or the budget's) silo died: the next call activates it on a live silo, from its
                // stored state, and this slot goes on with the job there. This loop is what takes a job up again
                // when nobody else calls its coordinator (docs/concurrency.md, "Jobs survive machines").
                Log.GrainUnreachable(logger, slotId, spec.JobId, e.GetType().Name, pause.TotalSeconds);
                await Task.Delay(pause);
                pause = SlotRecovery.NextPause(pause);
            }
            catch (Exception e)
            {
                Log.SlotFailed(logger, e, slotId, spec.JobId);
                try
                {
                    await coordinator.Abort($"worker slot {slotId} failed: {e.GetType().Name}: {e.Message}");
                }
                catch (Exception abort) when (abort is TimeoutException or OrleansException)
                {
                    // The coordinator cannot be told (its silo is gone): its own leases lapse and the job goes on elsewhere.
                    Log.AbortNotDelivered(logger, abort, slotId, spec.JobId);
                }

                return;
            }
        }
    }

    private async Task SlotAsync(ICoordinatorGrain coordinator, IHostBudgetGrain budget, JobSpec spec, PgArchive archive, string slotId)
    {
        using var executor = new UnitExecutor(spec, archive, loggers.CreateLogger<UnitExecutor>());
        var timings = spec.Timings ?? JobTimings.Default;
        Permit? permit = null;
        IReadOnlyList<UnitReport> reports = [];
        try
        {
            while (true)
            {
                if (permit is null || permit.Expires <= DateTimeOffset.UtcNow)
                {
                    // A permit that lapsed is never used: take a new one.
                    if (permit is not null)
                    {
                        await ReleaseAsync(budget, permit);
                    }

                    permit = null;
                    var acquired = await budget.Acquire(slotId, timings.PermitTime, FallbackWait);
                    // Then one of the silo's slots, shared by all its jobs (a permit first, so that a server at its
                    // budget never holds a silo slot while other servers' work waits). Only a permit that comes with a
                    // silo slot is the slot's to give back (a failed call leaves the acquired one to lapse).
                    permit = acquired is null ? null : await TakeSiloSlotAsync(coordinator, budget, spec, acquired, timings);
                    if (permit is null)
                    {
                        if (!await StillRunning(coordinator))
                        {
                            return;
                        }

                        continue;
                    }
                }

                if (_draining)
                {
                    // The silo is stopping: the units running have finished (their reports go out below); lease no more.
                    return;
                }

                var leases = reports.Count > 0
                    ? await coordinator.CompleteAndLease(reports, slotId, executor.BatchLimit, IdleWithPermit)
                    : await coordinator.Lease(slotId, executor.BatchLimit, IdleWithPermit);
                reports = [];
                if (leases.Count == 0)
                {
                    // Nothing ready for a while: give the session and the permit back for others, then wait again.
                    executor.Close();
                    await ReleaseAsync(budget, permit);
                    permit = null;
                    if (!await StillRunning(coordinator))
                    {
                        return;
                    }

                    continue;
                }

                _running++;
                var took = Stopwatch.StartNew();
                var batchPermit = permit;
                TimeSpan rested;
                try
                {
                    (reports, permit, rested) = await RunLeasesAsync(coordinator, budget, executor, leases, batchPermit, timings);
                }
                finally
                {
                    _running--;
                }

                took.Stop();

                // A batch that was stopped (its leases or permit lost, or the job ended): look at the job first.
                if (permit is null && !await StillRunning(coordinator))
                {
                    return;
                }

                _workLeft[spec.JobId] = Math.Max(0, _workLeft.GetValueOrDefault(spec.JobId) - reports.Sum(r => r.Bytes + UnitWork));
                if (permit is not null && !await budget.Keep(permit.PermitId, timings.PermitTime))
                {
                    // The server's budget was lowered below the permits held: this one went back with the batch's end,
                    // and the slot waits for a new one as any other. Its session closes (it counts against the budget)
                    // and its units are reported now, not after that wait.
                    executor.Close();
                    Slots.Give();
                    permit = null;
                    await coordinator.Complete(reports);
                    reports = [];
                }
                else if (permit is { Protects: true } && reports.Count > 0 && BatchRest.After(took.Elapsed, rested, await budget.CopyPace()) is { Ticks: > 0 } rest)
                {
                    // What the pace could not slow (docs/concurrency.md, "Adaptive budgets"): the slot rests before its
                    // next unit, holding its permit and session. Its units are reported first, not after the rest.
                    await coordinator.Complete(reports);
                    Log.BatchRests(logger, reports.Count, reports[0].UnitId, rest.TotalMilliseconds, took.Elapsed.TotalMilliseconds, permit.Host);
                    reports = [];
                    permit = await RestAsync(coordinator, budget, permit, rest, timings);
                    if (permit is null && (_draining || !await StillRunning(coordinator)))
                    {
                        return;
                    }
                }
            }
        }
        finally
        {
            executor.Close();
            if (reports.Count > 0)
            {
                await coordinator.Complete(reports);
            }

            if (permit is not null)
            {
                await ReleaseAsync(budget, permit);
            }
        }
    }

    private SiloSlots Slots => _siloSlots ??= new SiloSlots(options.Value.Slots);

    // Waits for a silo slot while holding the permit (renewing it); the permit as renewed, or null (released) when it
    // lapsed or the job stopped meanwhile.
    private async Task<Permit?> TakeSiloSlotAsync(ICoordinatorGrain coordinator, IHostBudgetGrain budget, JobSpec spec, Permit permit, JobTimings timings)
    {
        while (!await Slots.TakeAsync(spec.JobId, spec.Priority, _workLeft.GetValueOrDefault(spec.JobId), timings.RenewInterval))
        {
            var now = DateTimeOffset.UtcNow;
            if (!await budget.Renew(permit.PermitId, timings.PermitTime) || !await StillRunning(coordinator))
            {
                await budget.Release(permit.PermitId);
                return null;
            }

            permit = permit with { Expires = now + timings.PermitTime };
        }

        return permit;
    }

    // Rests for a protecting budget while holding the permit (renewing it) and the silo slot; the permit as renewed, or
    // null (released with the slot) when it lapsed, the job stopped or the silo began to drain meanwhile.
    private async Task<Permit?> RestAsync(ICoordinatorGrain coordinator, IHostBudgetGrain budget, Permit permit, TimeSpan rest, JobTimings timings)
    {
        var until = DateTimeOffset.UtcNow + rest;
        while (DateTimeOffset.UtcNow < until)
        {
            var left = until - DateTimeOffset.UtcNow;
            await Task.Delay(left < timings.RenewInterval ? left : timings.RenewInterval);
            var now = DateTimeOffset.UtcNow;
            if (!await budget.Renew(permit.PermitId, timings.PermitTime) || !await StillRunning(coordinator) || _draining)
            {
                await ReleaseAsync(budget, permit);
                return null;
            }

            permit = permit with { Expires = now + timings.PermitTime };
        }

        return permit;
    }

    // A permit goes back with the silo slot taken with it.
    private async Task ReleaseAsync(IHostBudgetGrain budget, Permit permit)
    {
        Slots.Give();
        await budget.Release(permit.PermitId);
    }

    // Runs one batch on a thread of its own; meanwhile reports progress and renews the leases and the permit, each
    // on its own cadence. A lease or permit that cannot be renewed, or a job that stopped, cancels the running
    // statement: the units are someone else's now (or nobody's), and nothing is reported for them. So does a
    // grain call that failed: the slot cannot tell whether its units are still its own.
    private async Task<(IReadOnlyList<UnitReport> Reports, Permit? Permit, TimeSpan Rested)> RunLeasesAsync(
        ICoordinatorGrain coordinator, IHostBudgetGrain budget, UnitExecutor executor, IReadOnlyList<UnitLease> leases, Permit permit, JobTimings timings)
    {
        using var stop = new CancellationTokenSource();
        executor.ResetBytesRead();
        executor.NoParallelWorkers = permit.Protects;
        executor.Pace.Pace = 1;
        executor.Pace.TakeHeldBack();
        // A batch blocks its thread on the server for as long as it runs: it gets a thread of its own, not one of
        // the pool's, which runs the grains' turns (at -j above the core count, batches on pool threads starved
        // them for a second or more at a time, until the pool added threads: Orleans' health monitor said so).
        var run = Task.Factory.StartNew(() => executor.Run(leases, stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var progressAt = DateTimeOffset.UtcNow + timings.ProgressInterval;
        var renewAt = DateTimeOffset.UtcNow + timings.RenewInterval;
        // Under a protecting budget the COPYs keep the pace its probe sets (read as often as the probe answers).
        var paceAt = permit.Protects ? DateTimeOffset.UtcNow : DateTimeOffset.MaxValue;
        var leaseIds = leases.Select(l => l.LeaseId).ToList();
        bool keep = true;
        try
        {
            while (keep)
            {
                var next = progressAt < renewAt ? progressAt : renewAt;
                next = paceAt < next ? paceAt : next;
                var left = next - DateTimeOffset.UtcNow;
                if ((left > TimeSpan.Zero && await Task.WhenAny(run, Task.Delay(left)) == run) || run.IsCompleted)
                {
                    break;
                }

                var now = DateTimeOffset.UtcNow;
                if (now >= progressAt)
                {
                    progressAt = now + timings.ProgressInterval;
                    keep = await coordinator.ReportProgress(leases[0].LeaseId, leases[0].Kind == UnitKind.Entry ? executor.BytesRead : 0);
                }

                if (now >= paceAt)
                {
                    paceAt = now + PaceInterval;
                    executor.Pace.Pace = await budget.CopyPace();
                }

                if (keep && now >= renewAt)
                {
                    renewAt = now + timings.RenewInterval;
                    keep = await coordinator.Renew(leaseIds) && await budget.Renew(permit.PermitId, timings.PermitTime);
                    permit = permit with { Expires = now + timings.PermitTime };
                }
            }
        }
        catch (Exception) when (!run.IsCompleted)
        {
            await StopAsync(stop, run);
            executor.Close();
            throw;
        }

        if (!keep)
        {
            Log.BatchStopped(logger, leases.Count, leases[0].UnitId, leases[0].LeaseId);
            await StopAsync(stop, run);
            executor.Close();
            await ReleaseAsync(budget, permit);
            return ([], null, TimeSpan.Zero);
        }

        var reports = await run;
        var heldBack = executor.Pace.TakeHeldBack();
        if (heldBack > TimeSpan.Zero)
        {
            Log.CopyPaced(logger, leases.Count, leases[0].UnitId, heldBack.TotalMilliseconds, permit.Host);
        }

        return (reports, permit, heldBack);
    }

    // How often a unit under a protecting budget reads the COPY pace: the probe's period.
    private static readonly TimeSpan PaceInterval = TimeSpan.FromMilliseconds(100);

    // Cancels the running statement and waits for the batch to roll back. CancelAsync runs the session's
    // cancel (a short session of its own, DatabaseSink.Cancel) on the thread pool, not in this grain's turn.
    private static async Task StopAsync(CancellationTokenSource stop, Task<IReadOnlyList<UnitReport>> run)
    {
        await stop.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<bool> StillRunning(ICoordinatorGrain coordinator) =>
        (await coordinator.Status()).State == JobState.Running;
}
