using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using RestoreCluster.Archive;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Planning;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// One per restore job: plans the job (pg_restore's parallel rules, in <see cref="RestoreSchedule"/>) and
/// hands units to workers with short calls. Leases lapse unless renewed, so a lost worker's units go back
/// to the ready set; a lapsed unit that had committed is found in the journal when run again. Workers that
/// find nothing ready wait inside their Lease call until a unit is (reentrant: the grain's methods never
/// await in the middle of a change, so turns interleave only between whole calls).
/// <para>
/// The job as submitted and how it ended are in grain storage (<see cref="CoordinatorState"/>). An activation that
/// finds a running job there (its silo died, or every silo was restarted) plans it again from the archive and
/// runs every unit again as a resume of the same run: each stops at its journal row and reports the outcome
/// recorded there (<see cref="CoordinatorRecovery"/>).
/// </para>
/// </summary>
[Reentrant]
public sealed partial class CoordinatorGrain(
    ILogger<CoordinatorGrain> logger,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    [PersistentState("coordinator", GrainStorage.Name)] IPersistentState<CoordinatorState> stored) : Grain, ICoordinatorGrain
{
    /// <summary>Units up to this data size may join another unit's batch (one transaction).</summary>
    public const long SmallUnitBytes = PlanUnit.SmallBytes;

    /// <summary>A batch carries at most this much table data.</summary>
    public const long BatchBytes = 4 << 20;

    /// <summary>Error messages kept for the status (the count is always exact).</summary>
    public const int MessagesKept = JobMessages.ProblemsKept;

    private readonly JobMessages _messages = new();
    // -v at -j 2 and more: the leader's lines of pg_restore -j (launching, finished, skipping item, the loop).
    private bool _parallelVerbose;
    private readonly List<string> _scheduleLines = [];
    private readonly Dictionary<int, string> _labels = [];
    private JobSpec? _spec;
    private RestoreSchedule? _schedule;
    private RestoreProgress? _progress;
    private JobState _state = JobState.NotStarted;
    private string? _message;
    private int _errors;
    // A split table's failed COPY counts once, however many of its chunks failed; one that stopped the job is taken back at its end.
    private readonly SplitErrors _splitErrors = new();
    private int _retries;
    private string? _finishLease;
    private DateTimeOffset _finishExpires;
    private IGrainTimer? _expiry;
    private string? _fatal;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _news;
    private long _changedAt;
    private long _startedAt;
    // Units whose lease lapsed and that are not leased again yet (for the log's "leased again").
    private readonly HashSet<int> _lapsed = [];

    // The units leased again after a lapse (their worker or its silo died, or stalled), in order: status shows them.
    private readonly List<string> _ranAgain = [];

    // The silos that said they cannot read the archive: they take no units; with none left that can, the job fails.
    private readonly ArchiveReach _reach = new();

    // Taken up again from storage: no unit's lease is a first run (CoordinatorRecovery).
    private bool _takenUp;

    // Units leased for the first time since the job was taken up: each ran again unless its journal row says it had committed.
    private readonly HashSet<int> _sinceTakeUp = [];
    private Task? _writing;
    private bool _dirty;
    private int _endedDone;
    private int _endedTotal;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var state = stored.State;
        if (state.Spec is not { } spec)
        {
            return;
        }

        switch (CoordinatorRecovery.OnActivation(state))
        {
            case RecoveryAction.Continue:
                _takenUp = true;
                _ranAgain.AddRange(state.RanAgain);
                state.TakenUp++;
                Log.TakenUp(logger, spec.JobId, silo.Name, state.TakenUp);
                if (await Task.Run(() => ArchiveReach.Check(spec.ArchivePath), cancellationToken) is { } reason)
                {
                    await TakenUpBlindAsync(spec, reason);
                    break;
                }

                Plan(spec);
                await PersistAsync();
                break;
            case RecoveryAction.ShowEnded:
                // An ended job answers status and wait as it ended; nothing runs.
                _spec = spec;
                _state = state.State;
                _message = state.Message;
                _errors = state.Errors;
                _retries = state.Retries;
                _endedDone = state.UnitsDone;
                _endedTotal = state.UnitsTotal;
                _ranAgain.AddRange(state.RanAgain);
                break;
        }
    }

    // Taken up on a silo that cannot read the archive (it cannot plan the job here): the job fails when no live silo can
    // read it; otherwise this activation goes away once the call is answered, and the next call places the job again.
    private async Task TakenUpBlindAsync(JobSpec spec, string reason)
    {
        _spec = spec;
        _state = JobState.Running;
        _reach.Report(silo.Name, reason, DateTimeOffset.UtcNow);
        if (_reach.NoneCanRead(spec.ArchivePath, LiveSilos()) is { } failure)
        {
            await Abort(failure);
            return;
        }

        Log.TakenUpBlind(logger, spec.JobId, silo.Name, reason);
        this.DeactivateOnIdle();
    }

    public async Task<JobStatus> Start(JobSpec spec)
    {
        if (_spec is not null)
        {
            return await Status();
        }

        Plan(spec);
        await PersistAsync();
        return await Status();
    }

    // Plans the job from its archive and starts handing out units (a first start, or a job taken up again).
    private void Plan(JobSpec spec)
    {
        _spec = spec;
        var options = spec.Options.ToRestoreOptions();
        // pg_restore -j 1 is a serial restore: it names no items and no loop.
        _parallelVerbose = options.Verbose && spec.Jobs > 1;
        using (var archive = PgArchive.Open(spec.ArchivePath))
        {
            var order = JobOrder.Resolve(archive, spec.Order);
            var parts = EntrySelector.Select(order, archive, options.Selection);
            var plan = RestorePlan.Build(
                order, parts, KeyPlan.For(order, !options.NoKeysAsIndexes, !options.NoFkNotValid), options.SplitFor(spec.Jobs), options.Analyze,
                options.PreDataGroupsFor(Math.Min(spec.Jobs, spec.HostBudget)));
            _schedule = new RestoreSchedule(plan, _parallelVerbose ? OnSchedule : null);
            foreach (var unit in plan.Units)
            {
                // --analyze's units are no archive entries: "ANALYZE schema.table".
                _labels[unit.Id] = archive.GetEntry(unit.DumpId) is { } te && !AnalyzeUnits.IsAnalyze(unit.Id)
                    ? TableSplit.EndOf(unit.Id) is null ? UnitLabels.Of(te, unit.Chunk) : $"{UnitLabels.Of(te)} {TableSplit.EndLabel}"
                    : $"{unit.Desc} {unit.Tag}";
            }

            _progress = new RestoreProgress(plan, Label);
        }

        _state = JobState.Running;
        _startedAt = Stopwatch.GetTimestamp();
        // The target's display form (host, port, database, user): never the password.
        Log.JobStarted(logger, spec.JobId, spec.ArchivePath, ConnectionTarget.FromValues(spec.Target).ToString(), _schedule.Progress.TotalUnits + 1, spec.Jobs, spec.HostBudget, spec.Resume);
        KeepScheduleLines();
        _progress.Phase(_schedule.CurrentPhase, DateTimeOffset.UtcNow);
        // Lapsed leases go back to ready within a second, or a quarter of the lease time when that is shorter.
        var check = LeaseTime / 4 < TimeSpan.FromSeconds(1) ? LeaseTime / 4 : TimeSpan.FromSeconds(1);
        _expiry = this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(check, check) { KeepAlive = true });
        News();
    }

    // Writes what the job needs to continue or to show how it ended; one write at a time (a reentrant grain's calls
    // would otherwise race on the state's version), the last one carrying every change made before it started.
    private async Task PersistAsync()
    {
        _dirty = true;
        while (_writing is { } pending)
        {
            await pending;
        }

        if (!_dirty || _spec is null)
        {
            return;
        }

        _dirty = false;
        var state = stored.State;
        state.Spec = _spec with { Target = CoordinatorState.WithoutSecrets(_spec.Target) };
        state.State = _state;
        state.Message = _message;
        state.Errors = _errors;
        state.Retries = _retries;
        var status = BuildStatus(int.MaxValue);
        state.UnitsDone = status.UnitsDone;
        state.UnitsTotal = status.UnitsTotal;
        state.RanAgain = _ranAgain.Take(CoordinatorState.RanAgainKept).ToList();
        _writing = stored.WriteStateAsync();
        try
        {
            await _writing;
        }
        finally
        {
            _writing = null;
        }
    }

    /// <summary>How long a unit is leased before it must be renewed (the job's <see cref="JobTimings"/>).</summary>
    private TimeSpan LeaseTime => (_spec?.Timings ?? JobTimings.Default).LeaseTime;

    public async Task<IReadOnlyList<UnitLease>> Lease(string workerId, int maxUnits, TimeSpan wait)
    {
        var deadline = DateTimeOffset.UtcNow + wait;
        bool woken = false;
        while (true)
        {
            var leases = TryLease(workerId, Math.Max(1, maxUnits));
            var left = deadline - DateTimeOffset.UtcNow;
            if (leases.Count > 0 && woken)
            {
                GrainInstruments.ReadyToLease.Record(Stopwatch.GetElapsedTime(_changedAt).TotalSeconds);
            }

            if (leases.Count > 0 || _state != JobState.Running || left <= TimeSpan.Zero)
            {
                return leases;
            }

            try
            {
                // Woken by whatever may make a unit ready: a completion, an expired lease, the job's end.
                await _changed.Task.WaitAsync(left);
                woken = true;
            }
            catch (TimeoutException)
            {
            }
        }
    }

    public async Task<IReadOnlyList<UnitLease>> CompleteAndLease(IReadOnlyList<UnitReport> reports, string workerId, int maxUnits, TimeSpan wait)
    {
        await CompleteAll(reports);
        return await Lease(workerId, maxUnits, wait);
    }

    private List<UnitLease> TryLease(string workerId, int maxUnits)
    {
        if (_state != JobState.Running || _schedule is null)
        {
            return [];
        }

        var now = DateTimeOffset.UtcNow;
        // After a fatal error (or -e) nothing more is handed out; once running units are back, the journal
        // is dropped as at any normal end.
        bool ending = _fatal is not null && _schedule.Progress.LeasedUnits == 0;
        if (_fatal is not null && !ending)
        {
            return [];
        }

        if (_schedule.IsFinished || ending)
        {
            if (_finishLease is not null && _finishExpires > now)
            {
                return [];
            }

            _finishLease = $"finish:{Guid.NewGuid():N}";
            _finishExpires = now + LeaseTime;
            _progress?.Leased(_finishLease, int.MinValue, now);
            return [new UnitLease(_finishLease, UnitKind.Finish, int.MinValue, _splitErrors.TakenBackAtTheEnd, false, _finishExpires, JobFailed: _fatal is not null)];
        }

        var leases = new List<UnitLease>();
        var launched = new List<string>();
        long bytes = 0;
        // Share the ready units out among the slots asking: a batch takes at most its part of them.
        int share = Math.Max(1, _schedule.Progress.ReadyUnits / Math.Max(1, _spec?.Jobs ?? 1));
        while (leases.Count < Math.Min(maxUnits, share) || leases.Count == 0)
        {
            var lease = _schedule.Lease(workerId, now, LeaseTime, joiningBatch: leases.Count > 0);
            if (lease is null)
            {
                break;
            }

            var kind = lease.Kind switch
            {
                WorkKind.Prefork => UnitKind.Prefork,
                WorkKind.PreforkStep => UnitKind.PreforkStep,
                WorkKind.MissedItems => UnitKind.MissedItems,
                _ => UnitKind.Entry,
            };
            _progress?.Leased(lease.LeaseId, lease.UnitId, now);
            _splitErrors.Leased(lease.UnitId, lease.TableCreated);
            if (_lapsed.Remove(lease.UnitId))
            {
                RanAgain(lease.UnitId);
                Log.LeasedAgain(logger, lease.UnitId, Label(lease.UnitId), workerId, lease.LeaseId);
            }
            else
            {
                if (_takenUp && lease.Attempt == 1)
                {
                    // Whether it ran again is known from its report: a unit that had committed stops at its journal row.
                    _sinceTakeUp.Add(lease.UnitId);
                }

                Log.LeaseGranted(logger, lease.LeaseId, lease.UnitId, Label(lease.UnitId), workerId);
            }

            // A first lease can skip the TRUNCATE before its data: nothing of an earlier run of it can be in the
            // table. Later leases (a lapsed one may have rolled back rows into it) and --resume cannot.
            bool firstRun = CoordinatorRecovery.FirstRun(lease.Attempt, _spec?.Resume ?? false, _takenUp);
            int spare = Math.Max(0, (_spec?.HostBudget ?? 1) - _schedule.Progress.LeasedUnits);
            leases.Add(new UnitLease(lease.LeaseId, kind, lease.UnitId, lease.EntryIds, lease.TableCreated, lease.ExpiresAt, firstRun, spare));
            // --analyze's units are no items of the archive: pg_restore -j -v has no line for them. A pre-data group's
            // units are the leader's serial entries in pg_restore: "processing item" when they are done (CompleteOne).
            if (_parallelVerbose && kind == UnitKind.Entry && PlanUnit.IsArchiveItem(lease.UnitId) && _schedule.Plan.GetUnit(lease.UnitId) is { IsPreData: false } unit)
            {
                launched.Add(VerboseMessages.Mark(VerboseMessages.LaunchingItem(unit.DumpId, unit.Desc, unit.Tag)));
            }

            bytes += lease.Priority;
            // Serial batches, big units and keys built as indexes go alone; small units fill a batch up to its size.
            if (kind != UnitKind.Entry || lease.Priority > SmallUnitBytes || bytes >= BatchBytes
                || _schedule.Plan.GetUnit(lease.UnitId) is { RunsAlone: true })
            {
                break;
            }
        }

        KeepMessages(launched);
        return leases;
    }

    public Task<bool> Renew(IReadOnlyList<string> leaseIds)
    {
        var now = DateTimeOffset.UtcNow;
        bool all = _state == JobState.Running;
        foreach (string leaseId in leaseIds)
        {
            if (leaseId == _finishLease)
            {
                _finishExpires = now + LeaseTime;
                continue;
            }

            all &= _schedule?.Renew(leaseId, now, LeaseTime) ?? false;
        }

        return Task.FromResult(all);
    }

    public Task<bool> ReportProgress(string leaseId, long bytesRead)
    {
        if (_state != JobState.Running || _schedule is null)
        {
            return Task.FromResult(false);
        }

        if (leaseId == _finishLease)
        {
            return Task.FromResult(true);
        }

        if (!_schedule.IsCurrent(leaseId, DateTimeOffset.UtcNow))
        {
            return Task.FromResult(false);
        }

        _progress?.Read(leaseId, bytesRead);
        return Task.FromResult(true);
    }

    public Task Complete(IReadOnlyList<UnitReport> reports) => CompleteAll(reports);

    private async Task CompleteAll(IReadOnlyList<UnitReport> reports)
    {
        var before = _state;
        int ranAgain = _ranAgain.Count;
        foreach (var report in reports)
        {
            CompleteOne(report);
        }

        Changed();
        if (_state != before || _ranAgain.Count != ranAgain)
        {
            // The job ended: a coordinator taken up later shows how, and runs nothing again. Or units ran again: one
            // taken up later lists them (once each) with those it runs again itself.
            await PersistAsync();
        }
    }

    private void CompleteOne(UnitReport report)
    {
        if (_schedule is null || _state != JobState.Running)
        {
            Log.ReportIgnored(logger, KindOf(report), report.UnitId, Label(report.UnitId), report.LeaseId, $"the job is {_state.ToString().ToLowerInvariant()}");
            return;
        }

        _retries += report.Retries;
        var now = DateTimeOffset.UtcNow;
        if (report.LeaseId == _finishLease)
        {
            _progress?.Finished(report.LeaseId, report.Rows, report.BytesRead, now);
            _progress?.Phase(RestorePhase.Finished, now);
            _finishLease = null;
            // The end's own count: pg_restore -j's leader sets its session's fixed settings again after the workers.
            _errors += report.Errors;
            KeepMessages(report.ErrorMessages);
            // A journal that could not be dropped is a failure too: the target is not as pg_restore leaves it.
            _fatal ??= report.Fatal;
            _state = _fatal is not null ? JobState.Failed : _errors > 0 ? JobState.CompletedWithErrors : JobState.Succeeded;
            _message = _fatal;
            _expiry?.Dispose();
            LogEnd();
            News();
            return;
        }

        if (report.NotRun)
        {
            // A batch stopped before this unit: it goes back to ready (or stays undone if the job ends).
            if (_schedule.Fail(report.UnitId, report.LeaseId, retryable: true))
            {
                _progress?.Dropped(report.LeaseId);
            }
            else
            {
                Log.ReportIgnored(logger, KindOf(report), report.UnitId, Label(report.UnitId), report.LeaseId, NotCurrent);
            }

            return;
        }

        if (report.Fatal is not null)
        {
            // The restore must stop (-e, or a fatal error): hand out nothing more but the final clean-up. A
            // report for a lease that is no longer current changes nothing, a fatal one included.
            if (!_schedule.Fail(report.UnitId, report.LeaseId, retryable: false))
            {
                _progress?.Dropped(report.LeaseId);
                Log.ReportIgnored(logger, KindOf(report), report.UnitId, Label(report.UnitId), report.LeaseId, NotCurrent);
                return;
            }

            _errors += report.Errors;
            KeepMessages(report.ErrorMessages);
            KeepScheduleLines();
            _splitErrors.Stopped(report.UnitId);
            _fatal ??= report.Fatal;
            News();
            _progress?.Finished(report.LeaseId, report.Rows, report.BytesRead, now);
            ObservePhase(now);
            return;
        }

        var statuses = new Dictionary<int, UnitStatus>();
        foreach (int t in report.CreatedTables)
        {
            statuses[t] = UnitStatus.TableCreated;
        }

        foreach (int t in report.FailedTables)
        {
            statuses[t] = UnitStatus.InhibitData;
        }

        var status = statuses.GetValueOrDefault(report.UnitId, UnitStatus.Ok);
        var completion = _schedule.Complete(report.UnitId, report.LeaseId, status, statuses);
        if (completion == CompletionResult.Accepted)
        {
            if (_sinceTakeUp.Remove(report.UnitId) && !report.AlreadyDone)
            {
                RanAgain(report.UnitId);
            }

            // Errors are counted once per failed statement, as a serial pg_restore counts them; a split table's
            // failed COPY once, however many of its chunks failed.
            int counted = _splitErrors.Counted(report.UnitId, report.Errors);
            _errors += counted;
            var preData = _schedule.Plan.GetUnit(report.UnitId) is { IsPreData: true } p ? p : null;
            if (_parallelVerbose && preData is not null)
            {
                // pg_restore -j -v's leader prints it before the entry's own lines; ours come in the order the units end.
                KeepMessages([VerboseMessages.Mark(VerboseMessages.ProcessingItem(preData.DumpId, preData.Desc, preData.Tag))]);
            }

            KeepMessages(counted == report.Errors ? report.ErrorMessages : [.. report.ErrorMessages.Where(VerboseMessages.IsMarked)]);
            if (_parallelVerbose && preData is null && PlanUnit.IsArchiveItem(report.UnitId) && _schedule.Plan.GetUnit(report.UnitId) is { } unit)
            {
                KeepMessages([VerboseMessages.Mark(VerboseMessages.FinishedItem(unit.DumpId, unit.Desc, unit.Tag))]);
            }

            // What the completion set off (the loop's start after the prefork batch, skipped units, its end) comes after.
            KeepScheduleLines();
            _progress?.Finished(report.LeaseId, report.Rows, report.BytesRead, now);
        }
        else
        {
            _progress?.Dropped(report.LeaseId);
            Log.ReportIgnored(logger, KindOf(report), report.UnitId, Label(report.UnitId), report.LeaseId, completion == CompletionResult.Duplicate ? "the unit is already done" : NotCurrent);
        }

        ObservePhase(now);
    }

    // Every message is news (the CLI prints it); JobMessages decides what stays for readers (errors are
    // never crowded out by -v lines).
    private void KeepMessages(IReadOnlyList<string> messages)
    {
        if (messages.Count == 0)
        {
            return;
        }

        foreach (string message in messages)
        {
            _messages.Add(message);
        }

        News();
    }

    // The schedule tells of its moments inside the calls that cause them; their lines follow the messages of
    // the report that caused them.
    private void OnSchedule(ScheduleEvent e) => _scheduleLines.Add(e switch
    {
        { Kind: ScheduleEventKind.ParallelStarted } => VerboseMessages.EnteringMainLoop,
        { Kind: ScheduleEventKind.ParallelEnded } => VerboseMessages.FinishedMainLoop,
        { Unit: { } unit } => VerboseMessages.SkippingItem(unit.DumpId, unit.Desc, unit.Tag),
        _ => throw new InvalidOperationException($"schedule event {e.Kind} without a unit"),
    });

    private void KeepScheduleLines()
    {
        if (_scheduleLines.Count > 0)
        {
            KeepMessages(_scheduleLines.ConvertAll(VerboseMessages.Mark));
            _scheduleLines.Clear();
        }
    }

    public async Task Cancel()
    {
        if (_state == JobState.Running)
        {
            _state = JobState.Cancelled;
            _message = "cancelled";
            _progress?.Phase(RestorePhase.Finished, DateTimeOffset.UtcNow);
            LogEnd();
            News();
            await PersistAsync();
        }
    }

    public async Task Abort(string message)
    {
        if (_state == JobState.Running)
        {
            _state = JobState.Failed;
            _message = message;
            _expiry?.Dispose();
            _progress?.Phase(RestorePhase.Finished, DateTimeOffset.UtcNow);
            LogEnd();
            News();
            await PersistAsync();
        }
    }

    public async Task<bool> ArchiveAccess(string silo, string? reason)
    {
        if (_state == JobState.Running && _reach.Report(silo, reason, DateTimeOffset.UtcNow))
        {
            News();
            await FailIfNoneCanReadAsync();
        }

        return _state == JobState.Running;
    }

    // A job whose archive no live silo can read would wait forever: it fails, naming the archive and the silos. Looked
    // at on each report and every tick, since a silo that could read it may die.
    private async Task FailIfNoneCanReadAsync()
    {
        if (_state == JobState.Running && !_reach.AllRead && _spec is not null && _reach.NoneCanRead(_spec.ArchivePath, LiveSilos()) is { } failure)
        {
            await Abort(failure);
        }
    }

    private HashSet<string> LiveSilos() =>
        membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);

    public Task<JobSpec?> Spec() => Task.FromResult(_spec);

    public Task<string> Silo() => Task.FromResult(silo.Name);

    public Task<JobStatus> Status() => Task.FromResult(BuildStatus(0));

    public async Task<JobStatus> WaitStatus(long seenNews, int messagesFrom, TimeSpan wait)
    {
        // The caller has every message before messagesFrom: its -v lines need not wait for anyone else.
        _messages.Taken(messagesFrom);
        if (_news <= seenNews && wait > TimeSpan.Zero)
        {
            var deadline = DateTimeOffset.UtcNow + wait;
            while (_news <= seenNews && DateTimeOffset.UtcNow < deadline)
            {
                try
                {
                    await _changed.Task.WaitAsync(deadline - DateTimeOffset.UtcNow);
                }
                catch (TimeoutException)
                {
                }
            }
        }

        return BuildStatus(messagesFrom);
    }

    private JobStatus BuildStatus(int messagesFrom)
    {
        var p = _schedule?.Progress;
        // An ended job read from storage has no schedule: its counts are the stored ones.
        int total = p is null && _endedTotal > 0 ? _endedTotal : (p?.TotalUnits ?? 0) + 1;
        // DoneUnits already counts the skipped and failed units (they are done too); the +1 is the final journal drop.
        int done = p is null && _endedTotal > 0 ? _endedDone : (p?.DoneUnits ?? 0) + (_state is JobState.Succeeded or JobState.CompletedWithErrors ? 1 : 0);
        var now = DateTimeOffset.UtcNow;
        var running = _progress?.Running.Select(w => new RunningUnit(w.UnitId, w.Label, w.Started, w.BytesRead, w.DataBytes)).ToList() ?? [];
        var slowest = _progress?.Slowest.Select(w => new UnitTiming(w.Label, w.Seconds, w.Bytes, w.Rows)).ToList() ?? [];
        var phases = _progress?.PhaseSeconds(now) ?? default;
        int from = Math.Clamp(messagesFrom, 0, _messages.Next);
        return new JobStatus(
            this.GetPrimaryKeyString(), _state, done, total, _progress?.BytesDone(p!.DoneDataBytes) ?? 0, p?.TotalDataBytes ?? 0, _errors, _retries,
            p?.LeasedUnits ?? 0, _message, _messages.From(from), CurrentPhase(), running, _progress?.Rows ?? 0,
            new PhaseSeconds(phases.PreData, phases.Data, phases.PostData), slowest, _news, from, _messages.Problems,
            _messages.Next, _messages.VerboseDropped, _ranAgain.ToList(), _reach.AllRead ? [] : _reach.Unreadable(LiveSilos()));
    }

    // Wakes every call waiting for work or news.
    private void Changed()
    {
        _changedAt = Stopwatch.GetTimestamp();
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private void News()
    {
        _news++;
        Changed();
    }

    // While the job runs after the schedule finished (the final journal drop), it is still post-data.
    private JobPhase CurrentPhase() => _state != JobState.Running ? JobPhase.Done : _schedule?.CurrentPhase switch
    {
        RestorePhase.PreData or null => JobPhase.PreData,
        RestorePhase.Data => JobPhase.Data,
        _ => JobPhase.PostData,
    };

    private void ObservePhase(DateTimeOffset now)
    {
        if (_schedule is { } s)
        {
            _progress?.Phase(s.CurrentPhase == RestorePhase.Finished ? RestorePhase.PostData : s.CurrentPhase, now);
        }
    }

    // A unit is listed once, however many times it ran again (and across take-ups: the list is stored).
    private void RanAgain(int unitId)
    {
        string label = Label(unitId);
        if (!_ranAgain.Contains(label, StringComparer.Ordinal))
        {
            _ranAgain.Add(label);
        }
    }

    private string Label(int unitId) => unitId switch
    {
        RestoreSchedule.PreforkUnitId => $"pre-data ({_schedule?.PreforkStepEntries} entries, serial)",
        RestoreSchedule.MissedItemsUnitId => $"missed items ({_schedule?.MissedItems.Count} entries, serial)",
        int.MinValue => "journal drop",
        _ => _labels.GetValueOrDefault(unitId) ?? $"unit {unitId}",
    };

    private async Task TickAsync(CancellationToken cancellation)
    {
        await FailIfNoneCanReadAsync();
        await ExpireLeases(cancellation);
    }

    private Task ExpireLeases(CancellationToken cancellation)
    {
        if (_schedule is not { } schedule || schedule.Progress.LeasedUnits == 0)
        {
            return Task.CompletedTask;
        }

        var now = DateTimeOffset.UtcNow;
        var leases = schedule.Leases;
        if (schedule.ExpireLeases(now) > 0)
        {
            // The units whose lease lapsed are ready again; the next lease of each says so.
            foreach (var lease in leases.Where(l => l.ExpiresAt <= now))
            {
                _lapsed.Add(lease.UnitId);
                Log.LeaseLapsed(logger, lease.LeaseId, lease.UnitId, Label(lease.UnitId), lease.WorkerId);
            }

            _progress?.Retain(schedule.Leases.Select(l => l.LeaseId).Append(_finishLease ?? ""));
            Changed();
        }

        return Task.CompletedTask;
    }

    private const string NotCurrent = "its lease is no longer current";

    private static string KindOf(UnitReport report) => report.NotRun ? "not-run" : report.Fatal is not null ? "fatal" : "completion";

    private void LogEnd()
    {
        var p = _schedule?.Progress;
        int done = (p?.DoneUnits ?? 0) + (_state is JobState.Succeeded or JobState.CompletedWithErrors ? 1 : 0);
        Log.JobEnded(
            logger, this.GetPrimaryKeyString(), _state.ToString().ToLowerInvariant(), Stopwatch.GetElapsedTime(_startedAt).TotalSeconds,
            done, (p?.TotalUnits ?? 0) + 1, _errors, _retries, _message ?? "-");
    }
}
