using RestoreCluster.Archive;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Planning;

namespace RestoreCluster.Grains;

/// <summary>
/// One per restore job: plans the job (pg_restore's parallel rules, in <see cref="RestoreSchedule"/>) and
/// hands units to workers with short calls. Leases lapse unless renewed, so a lost worker's units go back
/// to the ready set; a lapsed unit that had committed is skipped through the journal when run again.
/// </summary>
public sealed class CoordinatorGrain : Grain, ICoordinatorGrain
{
    /// <summary>How long a unit is leased before it must be renewed.</summary>
    public static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(20);

    private readonly List<string> _errorMessages = [];
    private readonly HashSet<int> _alreadyDone = [];
    private readonly Dictionary<int, string> _labels = [];
    private JobSpec? _spec;
    private RestoreSchedule? _schedule;
    private RestoreProgress? _progress;
    private JobState _state = JobState.NotStarted;
    private string? _message;
    private int _errors;
    private int _retries;
    private string? _finishLease;
    private DateTimeOffset _finishExpires;
    private IGrainTimer? _expiry;
    private string? _fatal;

    public Task<JobStatus> Start(JobSpec spec)
    {
        if (_spec is not null)
        {
            return Status();
        }

        _spec = spec;
        var options = spec.Options.ToRestoreOptions();
        using (var archive = PgArchive.Open(spec.ArchivePath))
        {
            var order = JobOrder.Resolve(archive, spec.Order);
            var parts = EntrySelector.Select(order, archive, options.Selection);
            var plan = RestorePlan.Build(order, parts);
            _schedule = new RestoreSchedule(plan);
            foreach (var unit in plan.Units)
            {
                _labels[unit.Id] = UnitLabels.Of(archive.GetEntry(unit.Id)!);
            }

            _progress = new RestoreProgress(plan, Label);
        }

        _state = JobState.Running;
        _progress.Phase(_schedule.CurrentPhase, DateTimeOffset.UtcNow);
        _expiry = this.RegisterGrainTimer(ExpireLeases, new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)) { KeepAlive = true });
        return Status();
    }

    public Task<UnitLease?> Lease(string workerId)
    {
        if (_state != JobState.Running || _schedule is null)
        {
            return Task.FromResult<UnitLease?>(null);
        }

        var now = DateTimeOffset.UtcNow;
        // After a fatal error (or -e) nothing more is handed out; once running units are back, the journal
        // is dropped as at any normal end.
        bool ending = _fatal is not null && _schedule.Progress.LeasedUnits == 0;
        if (_fatal is not null && !ending)
        {
            return Task.FromResult<UnitLease?>(null);
        }

        if (_schedule.IsFinished || ending)
        {
            if (_finishLease is not null && _finishExpires > now)
            {
                return Task.FromResult<UnitLease?>(null);
            }

            _finishLease = $"finish:{Guid.NewGuid():N}";
            _finishExpires = now + LeaseTime;
            _progress?.Leased(_finishLease, int.MinValue, now);
            return Task.FromResult<UnitLease?>(new UnitLease(_finishLease, UnitKind.Finish, int.MinValue, [], false, _finishExpires, []));
        }

        var lease = _schedule.Lease(workerId, now, LeaseTime);
        if (lease is null)
        {
            return Task.FromResult<UnitLease?>(null);
        }

        var kind = lease.Kind switch
        {
            WorkKind.Prefork => UnitKind.Prefork,
            WorkKind.MissedItems => UnitKind.MissedItems,
            _ => UnitKind.Entry,
        };
        _progress?.Leased(lease.LeaseId, lease.UnitId, now);
        var done = lease.EntryIds.Where(_alreadyDone.Contains).ToList();
        return Task.FromResult<UnitLease?>(new UnitLease(lease.LeaseId, kind, lease.UnitId, lease.EntryIds, lease.TableCreated, lease.ExpiresAt, done));
    }

    public Task<bool> Renew(string leaseId)
    {
        var now = DateTimeOffset.UtcNow;
        if (leaseId == _finishLease)
        {
            _finishExpires = now + LeaseTime;
            return Task.FromResult(true);
        }

        return Task.FromResult(_schedule?.Renew(leaseId, now, LeaseTime) ?? false);
    }

    public Task ReportProgress(string leaseId, long bytesRead)
    {
        _progress?.Read(leaseId, bytesRead);
        return Task.CompletedTask;
    }

    public Task Complete(UnitReport report)
    {
        if (_schedule is null || _state != JobState.Running)
        {
            return Task.CompletedTask;
        }

        _retries += report.Retries;
        var now = DateTimeOffset.UtcNow;
        if (report.LeaseId == _finishLease)
        {
            _progress?.Finished(report.LeaseId, report.Rows, report.BytesRead, now);
            _progress?.Phase(RestorePhase.Finished, now);
            _finishLease = null;
            _state = _fatal is not null ? JobState.Failed : _errors > 0 ? JobState.CompletedWithErrors : JobState.Succeeded;
            _message = _fatal ?? report.Fatal;
            _expiry?.Dispose();
            return Task.CompletedTask;
        }

        if (report.Fatal is not null)
        {
            // The restore must stop (-e, or a fatal error): hand out nothing more but the final clean-up.
            _errors += report.Errors;
            _errorMessages.AddRange(report.ErrorMessages);
            _fatal ??= report.Fatal;
            if (_schedule.Fail(report.UnitId, report.LeaseId, retryable: false))
            {
                _progress?.Finished(report.LeaseId, report.Rows, report.BytesRead, now);
            }
            else
            {
                _progress?.Dropped(report.LeaseId);
            }

            ObservePhase(now);
            return Task.CompletedTask;
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
        if (_schedule.Complete(report.UnitId, report.LeaseId, status, statuses) == CompletionResult.Accepted)
        {
            // Errors are counted once per failed statement, as a serial pg_restore counts them.
            _errors += report.Errors;
            _errorMessages.AddRange(report.ErrorMessages);
            _alreadyDone.UnionWith(report.AlreadyDone);
            _progress?.Finished(report.LeaseId, report.Rows, report.BytesRead, now);
        }
        else
        {
            _progress?.Dropped(report.LeaseId);
        }

        ObservePhase(now);
        return Task.CompletedTask;
    }

    public Task Cancel()
    {
        if (_state == JobState.Running)
        {
            _state = JobState.Cancelled;
            _message = "cancelled";
            _progress?.Phase(RestorePhase.Finished, DateTimeOffset.UtcNow);
        }

        return Task.CompletedTask;
    }

    public Task Abort(string message)
    {
        if (_state == JobState.Running)
        {
            _state = JobState.Failed;
            _message = message;
            _expiry?.Dispose();
            _progress?.Phase(RestorePhase.Finished, DateTimeOffset.UtcNow);
        }

        return Task.CompletedTask;
    }

    public Task<JobSpec?> Spec() => Task.FromResult(_spec);

    public Task<JobStatus> Status()
    {
        var p = _schedule?.Progress;
        int total = (p?.TotalUnits ?? 0) + 1;
        // DoneUnits already counts the skipped and failed units (they are done too); the +1 is the final journal drop.
        int done = (p?.DoneUnits ?? 0) + (_state is JobState.Succeeded or JobState.CompletedWithErrors ? 1 : 0);
        var now = DateTimeOffset.UtcNow;
        var running = _progress?.Running.Select(w => new RunningUnit(w.UnitId, w.Label, w.Started, w.BytesRead, w.DataBytes)).ToList() ?? [];
        var slowest = _progress?.Slowest.Select(w => new UnitTiming(w.Label, w.Seconds, w.Bytes, w.Rows)).ToList() ?? [];
        var phases = _progress?.PhaseSeconds(now) ?? default;
        return Task.FromResult(new JobStatus(
            this.GetPrimaryKeyString(), _state, done, total, _progress?.BytesDone(p!.DoneDataBytes) ?? 0, p?.TotalDataBytes ?? 0, _errors, _retries,
            p?.LeasedUnits ?? 0, _message, _errorMessages.ToList(), CurrentPhase(), running, _progress?.Rows ?? 0,
            new PhaseSeconds(phases.PreData, phases.Data, phases.PostData), slowest));
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

    private string Label(int unitId) => unitId switch
    {
        RestoreSchedule.PreforkUnitId => $"pre-data ({_schedule?.Plan.Prefork.Count} entries, serial)",
        RestoreSchedule.MissedItemsUnitId => $"missed items ({_schedule?.MissedItems.Count} entries, serial)",
        int.MinValue => "journal drop",
        _ => _labels.GetValueOrDefault(unitId) ?? $"unit {unitId}",
    };

    private Task ExpireLeases(CancellationToken cancellation)
    {
        if (_schedule?.ExpireLeases(DateTimeOffset.UtcNow) > 0)
        {
            _progress?.Retain(_schedule.Leases.Select(l => l.LeaseId).Append(_finishLease ?? ""));
        }

        return Task.CompletedTask;
    }
}
