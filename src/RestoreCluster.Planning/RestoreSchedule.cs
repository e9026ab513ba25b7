namespace RestoreCluster.Planning;

/// <summary>
/// The state machine a coordinator holds to hand out a <see cref="RestorePlan"/>'s work the way
/// pg_restore -j does (restore_toc_entries_parallel, pop_next_work_item, has_lock_conflicts,
/// reduce_dependencies, move_to_ready_heap, mark_restore_job_done), with leases instead of forked
/// workers. First the prefork list is leased as one serial batch (with pre-data groups: serial steps, each followed
/// by a group of units leased as entries, with a barrier after each group); then entry units, in priority order,
/// pass by pass (Main, Acl, PostAcl; each pass boundary is a full barrier); finally anything still pending
/// (circular dependencies, or entries whose dependencies were satisfied only in a later pass) is leased as
/// one serial "missed items" batch.
/// Pure and deterministic: time only comes in through arguments. Not thread-safe (a grain is single-threaded).
/// </summary>
public sealed class RestoreSchedule
{
    /// <summary>The unit ID of the prefork batch.</summary>
    public const int PreforkUnitId = 0;

    /// <summary>The unit ID of the missed-items batch.</summary>
    public const int MissedItemsUnitId = -1;

    private const int SnapshotVersion = 1;
    private const int FlagInhibited = 1;
    private const int FlagCreated = 2;
    private const int FlagMissed = 4;

    private readonly RestorePlan _plan;
    private readonly int _n;
    private readonly int _preforkUnit;
    private readonly int _missedUnit;
    private readonly Action<ScheduleEvent>? _observer;

    private readonly UnitState[] _state;
    private readonly int[] _depCount;
    private readonly int[] _attempts;
    private readonly int[] _flags;
    private readonly string?[] _leaseId;
    private readonly string?[] _worker;
    private readonly long[] _expiry;

    // Leased units by lease ID, and how many leased entry units name each TOC entry as a dependency / lock.
    private readonly Dictionary<string, int> _leases = new(StringComparer.Ordinal);
    private readonly int[] _leasedDepRefs;
    private readonly int[] _leasedLockRefs;

    // Ready entry units of the current pass by rank; entries whose state is no longer Ready are dropped lazily.
    private readonly PriorityQueue<int, int> _ready = new();
    private readonly List<int> _held = [];
    private readonly Stack<int> _skipQueue = new();
    private readonly List<int> _missed = [];

    // Units not yet done per RestorePhase (pre-data, data, post-data): the current phase in O(1).
    private readonly int[] _remainingByPhase = new int[3];

    private int _readyCount;
    private int _leasedEntries;
    private int _doneUnits;
    private int _skippedUnits;
    private int _failedUnits;
    private long _doneBytes;
    private int _errors;
    private int _expiredLeases;
    private long _leaseSequence;

    // Where the prefork is: 2k for its serial step k (the prefork batch), 2k + 1 for pre-data group k.
    private int _preforkPosition;

    /// <summary>
    /// A new schedule for a plan, at the start of the job. <paramref name="observer"/> hears of the moments
    /// pg_restore -j -v names (<see cref="ScheduleEvent"/>) as they happen, inside the calls that cause them
    /// (the constructor included, when there is no prefork batch).
    /// </summary>
    public RestoreSchedule(RestorePlan plan, Action<ScheduleEvent>? observer = null)
        : this(plan, snapshot: null, observer)
    {
    }

    private RestoreSchedule(RestorePlan plan, ScheduleSnapshot? snapshot, Action<ScheduleEvent>? observer)
    {
        ArgumentNullException.ThrowIfNull(plan);
        _plan = plan;
        _observer = observer;
        _n = plan.Units.Count;
        _preforkUnit = _n;
        _missedUnit = _n + 1;
        int slots = _n + 2;
        _state = new UnitState[slots];
        _depCount = new int[slots];
        _attempts = new int[slots];
        _flags = new int[slots];
        _leaseId = new string?[slots];
        _worker = new string?[slots];
        _expiry = new long[slots];
        _leasedDepRefs = new int[plan.EntryCount];
        _leasedLockRefs = new int[plan.EntryCount];
        foreach (var unit in plan.Units)
        {
            _remainingByPhase[(int)RestorePhases.Of(unit.Section)]++;
        }

        if (snapshot is null)
        {
            Array.Copy(plan.InitialDepCount, _depCount, _n);
            Phase = SchedulePhase.Prefork;
            Pass = RestorePass.Main;
            _state[_preforkUnit] = UnitState.Ready;
            if (plan.Prefork.Count == 0)
            {
                MarkDone(_preforkUnit, failed: false);
            }

            Advance();
        }
        else
        {
            Load(snapshot);
        }
    }

    public RestorePlan Plan => _plan;

    public SchedulePhase Phase { get; private set; }

    /// <summary>The pre-data group whose units are being handed out, or -1 (a serial step, or no longer the prefork).</summary>
    public int CurrentGroup => Phase == SchedulePhase.Prefork && _preforkPosition % 2 == 1 ? _preforkPosition / 2 : -1;

    /// <summary>How many entries the prefork batch's current (or last) serial step holds.</summary>
    public int PreforkStepEntries => _plan.PreforkSteps[Math.Min(_preforkPosition / 2, _plan.PreforkSteps.Count - 1)].Count;

    /// <summary>The current pass (meaningful in the parallel phase).</summary>
    public RestorePass Pass { get; private set; }

    public bool IsFinished => Phase == SchedulePhase.Finished;

    /// <summary>
    /// The restore phase: pre-data while the prefork batch is not done, then the earliest section that still
    /// has units not done (skipped and failed units are done), <see cref="RestorePhase.Finished"/> after all.
    /// Never goes back, since done units stay done.
    /// </summary>
    public RestorePhase CurrentPhase
    {
        get
        {
            if (Phase == SchedulePhase.Prefork)
            {
                return RestorePhase.PreData;
            }

            for (int p = 0; p < _remainingByPhase.Length; p++)
            {
                if (_remainingByPhase[p] > 0)
                {
                    return (RestorePhase)p;
                }
            }

            return RestorePhase.Finished;
        }
    }

    /// <summary>The missed items (dump IDs, restore order) once the parallel phase has ended; empty before.</summary>
    public IReadOnlyList<int> MissedItems => _missed.ConvertAll(u => _plan.Units[u].Id);

    /// <summary>Errors counted as pg_restore counts them: InhibitData, IgnoredErrors and permanent failures add one each.</summary>
    public int ErrorCount => _errors;

    public ScheduleProgress Progress => new(
        _n, _doneUnits, _skippedUnits, _failedUnits, _readyCount, _leasedEntries, _plan.TotalDataBytes, _doneBytes, _errors,
        _expiredLeases);

    /// <summary>The state of a unit (entry dump ID, or one of the batch IDs).</summary>
    public UnitState GetState(int unitId)
    {
        int u = SlotOf(unitId);
        return u < 0 ? throw new ArgumentOutOfRangeException(nameof(unitId), unitId, "no such unit") : _state[u];
    }

    /// <summary>
    /// The next unit for a worker, or null when nothing can be handed out now (everything ready conflicts
    /// on locks with leased work, the pass barrier holds, or the schedule is finished). Entries go by
    /// larger priority first, ties to the lower dump ID, skipping any that would lock a table a leased unit
    /// uses, or use a table a leased unit locks. With <paramref name="joiningBatch"/> (the lease joins a batch
    /// that holds others), units that run alone (<see cref="PlanUnit.RunsAlone"/>) are passed over too.
    /// </summary>
    public WorkLease? Lease(string workerId, DateTimeOffset now, TimeSpan ttl, bool joiningBatch = false)
    {
        ArgumentNullException.ThrowIfNull(workerId);
        switch (Phase)
        {
            case SchedulePhase.Prefork when CurrentGroup < 0:
                return _state[_preforkUnit] == UnitState.Ready ? Grant(_preforkUnit, workerId, now, ttl) : null;
            case SchedulePhase.Prefork:
                // A pre-data group: its units are ready entries like any, and nothing else is.
                break;
            case SchedulePhase.Postfork:
                return _state[_missedUnit] == UnitState.Ready ? Grant(_missedUnit, workerId, now, ttl) : null;
            case SchedulePhase.Parallel:
                break;
            default:
                return null;
        }

        int found = -1;
        while (_ready.TryDequeue(out int u, out _))
        {
            if (_state[u] != UnitState.Ready)
            {
                continue;
            }

            if (HasLockConflict(u) || (joiningBatch && _plan.Units[u].RunsAlone))
            {
                _held.Add(u);
                continue;
            }

            found = u;
            break;
        }

        foreach (int h in _held)
        {
            _ready.Enqueue(h, _plan.Rank[h]);
        }

        _held.Clear();
        if (found < 0)
        {
            return null;
        }

        _readyCount--;
        return Grant(found, workerId, now, ttl);
    }

    /// <summary>True while <paramref name="leaseId"/> is a unit's current, unexpired lease.</summary>
    public bool IsCurrent(string leaseId, DateTimeOffset now) =>
        leaseId is not null && _leases.TryGetValue(leaseId, out int u) && _expiry[u] > now.UtcTicks;

    /// <summary>Extends a current, unexpired lease to <paramref name="now"/> + <paramref name="ttl"/>.</summary>
    public bool Renew(string leaseId, DateTimeOffset now, TimeSpan ttl)
    {
        if (leaseId is null || !_leases.TryGetValue(leaseId, out int u) || _expiry[u] <= now.UtcTicks)
        {
            return false;
        }

        _expiry[u] = (now + ttl).UtcTicks;
        return true;
    }

    /// <summary>
    /// Records that a leased unit finished. Idempotent: repeating a completion changes nothing, and stale
    /// or unknown leases are ignored. A lease past its expiry is still accepted until
    /// <see cref="ExpireLeases"/> has revoked it. For serial batches, <paramref name="entryStatuses"/> gives
    /// the status of individual entries (dump ID → status), e.g. tables created or failed in prefork.
    /// </summary>
    public CompletionResult Complete(
        int unitId, string leaseId, UnitStatus status = UnitStatus.Ok, IReadOnlyDictionary<int, UnitStatus>? entryStatuses = null)
    {
        int u = SlotOf(unitId);
        if (u < 0 || leaseId is null || !string.Equals(_leaseId[u], leaseId, StringComparison.Ordinal))
        {
            return CompletionResult.Stale;
        }

        if (_state[u] is UnitState.Done or UnitState.Failed)
        {
            return CompletionResult.Duplicate;
        }

        if (_state[u] != UnitState.Leased)
        {
            return CompletionResult.Stale;
        }

        Release(u);
        ApplyStatus(unitId, status);
        if (entryStatuses is not null)
        {
            foreach (var (dumpId, entryStatus) in entryStatuses)
            {
                // The unit's own status is applied once (a TABLE of a pre-data group reports its table).
                if (dumpId != unitId)
                {
                    ApplyStatus(dumpId, entryStatus);
                }
            }
        }

        MarkDone(u, failed: false);
        Advance();
        return CompletionResult.Accepted;
    }

    /// <summary>
    /// Records that a leased unit failed. Retryable: it goes back to ready. Otherwise it is done with an
    /// error (counted), and its dependents proceed as pg_restore's do after an ignored error.
    /// </summary>
    public bool Fail(int unitId, string leaseId, bool retryable)
    {
        int u = SlotOf(unitId);
        if (u < 0 || _state[u] != UnitState.Leased || !string.Equals(_leaseId[u], leaseId, StringComparison.Ordinal))
        {
            return false;
        }

        Release(u);
        if (retryable)
        {
            Requeue(u);
        }
        else
        {
            _errors++;
            MarkDone(u, failed: true);
            Advance();
        }

        return true;
    }

    /// <summary>Returns every unit whose lease expired at or before <paramref name="now"/> to ready; the count.</summary>
    public int ExpireLeases(DateTimeOffset now)
    {
        long t = now.UtcTicks;
        List<int>? expired = null;
        foreach (int u in _leases.Values)
        {
            if (_expiry[u] <= t)
            {
                (expired ??= []).Add(u);
            }
        }

        if (expired is null)
        {
            return 0;
        }

        expired.Sort();
        foreach (int u in expired)
        {
            Release(u);
            Requeue(u);
            _expiredLeases++;
        }

        return expired.Count;
    }

    /// <summary>The current leases (for monitoring), in unit order.</summary>
    public IReadOnlyList<(int UnitId, string LeaseId, string WorkerId, DateTimeOffset ExpiresAt)> Leases
    {
        get
        {
            var list = new List<int>(_leases.Values);
            list.Sort();
            return list.ConvertAll(u => (IdOf(u), _leaseId[u]!, _worker[u]!, new DateTimeOffset(_expiry[u], TimeSpan.Zero)));
        }
    }

    /// <summary>The persistent state, to store with the grain.</summary>
    public ScheduleSnapshot Snapshot()
    {
        int slots = _n + 2;
        var ids = new int[slots];
        var states = new int[slots];
        for (int u = 0; u < slots; u++)
        {
            ids[u] = IdOf(u);
            states[u] = (int)_state[u];
        }

        return new ScheduleSnapshot(
            SnapshotVersion, (int)Phase, (int)Pass, _leaseSequence, _errors, _expiredLeases, ids, states,
            (int[])_depCount.Clone(), (int[])_attempts.Clone(), (int[])_flags.Clone(), (string?[])_leaseId.Clone(),
            (string?[])_worker.Clone(), (long[])_expiry.Clone(), _preforkPosition);
    }

    /// <summary>Rebuilds a schedule from a snapshot taken of a schedule of the same plan.</summary>
    public static RestoreSchedule Restore(RestorePlan plan, ScheduleSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return new RestoreSchedule(plan, snapshot, observer: null);
    }

    private void Load(ScheduleSnapshot s)
    {
        int slots = _n + 2;
        if (s.Version != SnapshotVersion)
        {
            throw new PlanningException($"unsupported schedule snapshot version {s.Version}");
        }

        if (s.UnitIds.Length != slots || s.States.Length != slots || s.DepCounts.Length != slots || s.Attempts.Length != slots
            || s.Flags.Length != slots || s.LeaseIds.Length != slots || s.Workers.Length != slots || s.ExpiryUtcTicks.Length != slots)
        {
            throw new PlanningException("the schedule snapshot does not match the plan (unit count differs)");
        }

        for (int u = 0; u < slots; u++)
        {
            if (s.UnitIds[u] != IdOf(u))
            {
                throw new PlanningException($"the schedule snapshot does not match the plan (unit {u} is {s.UnitIds[u]}, expected {IdOf(u)})");
            }
        }

        Phase = (SchedulePhase)s.Phase;
        Pass = (RestorePass)s.Pass;
        _preforkPosition = s.PreforkPosition;
        _leaseSequence = s.LeaseSequence;
        _errors = s.ErrorCount;
        _expiredLeases = s.ExpiredLeases;
        Array.Copy(s.DepCounts, _depCount, slots);
        Array.Copy(s.Attempts, _attempts, slots);
        Array.Copy(s.Flags, _flags, slots);
        Array.Copy(s.LeaseIds, _leaseId, slots);
        Array.Copy(s.Workers, _worker, slots);
        Array.Copy(s.ExpiryUtcTicks, _expiry, slots);
        for (int u = 0; u < slots; u++)
        {
            var state = (UnitState)s.States[u];
            _state[u] = state;
            bool entry = u < _n;
            switch (state)
            {
                case UnitState.Ready when entry:
                    _readyCount++;
                    _ready.Enqueue(u, _plan.Rank[u]);
                    break;
                case UnitState.Leased:
                    _leases.Add(_leaseId[u] ?? throw new PlanningException($"leased unit {IdOf(u)} has no lease ID"), u);
                    if (entry)
                    {
                        _leasedEntries++;
                        AddLeaseRefs(u, +1);
                    }

                    break;
                case UnitState.Done or UnitState.Failed when entry:
                    CountDone(u, state == UnitState.Failed);
                    break;
            }

            if (entry && (_flags[u] & FlagMissed) != 0)
            {
                _missed.Add(u);
            }
        }
    }

    private WorkLease Grant(int u, string workerId, DateTimeOffset now, TimeSpan ttl)
    {
        _leaseSequence++;
        string leaseId = $"{IdOf(u)}.{_leaseSequence}";
        _state[u] = UnitState.Leased;
        _leaseId[u] = leaseId;
        _worker[u] = workerId;
        _expiry[u] = (now + ttl).UtcTicks;
        _attempts[u]++;
        _leases.Add(leaseId, u);
        IReadOnlyList<int> entryIds;
        WorkKind kind;
        if (u == _preforkUnit)
        {
            // The first serial step starts the restore; a later one runs its entries after the group before it.
            kind = _preforkPosition == 0 ? WorkKind.Prefork : WorkKind.PreforkStep;
            entryIds = _plan.PreforkSteps[_preforkPosition / 2];
        }
        else if (u == _missedUnit)
        {
            kind = WorkKind.MissedItems;
            entryIds = MissedItems;
        }
        else
        {
            kind = WorkKind.Entry;
            entryIds = [_plan.Units[u].Id];
            _leasedEntries++;
            AddLeaseRefs(u, +1);
        }

        var unit = u < _n ? _plan.Units[u] : null;
        return new WorkLease(
            leaseId, IdOf(u), kind, entryIds, unit?.Pass ?? RestorePass.Main, unit?.Priority ?? 0, (_flags[u] & FlagCreated) != 0,
            workerId, new DateTimeOffset(_expiry[u], TimeSpan.Zero), _attempts[u]);
    }

    // Lease ID and worker stay recorded after completion, so that a repeated Complete is recognised.
    private void Release(int u)
    {
        _leases.Remove(_leaseId[u]!);
        if (u < _n)
        {
            _leasedEntries--;
            AddLeaseRefs(u, -1);
        }
    }

    private void Requeue(int u)
    {
        _state[u] = UnitState.Ready;
        _leaseId[u] = null;
        _worker[u] = null;
        _expiry[u] = 0;
        if (u < _n)
        {
            _readyCount++;
            _ready.Enqueue(u, _plan.Rank[u]);
        }
    }

    private void AddLeaseRefs(int u, int delta)
    {
        foreach (int e in _plan.DepEntries[u])
        {
            _leasedDepRefs[e] += delta;
        }

        foreach (int e in _plan.LockEntries[u])
        {
            _leasedLockRefs[e] += delta;
        }
    }

    // has_lock_conflicts against every leased unit at once: a lock of ours is a dependency of a leased
    // unit, or a dependency of ours is locked by a leased unit.
    private bool HasLockConflict(int u)
    {
        foreach (int e in _plan.LockEntries[u])
        {
            if (_leasedDepRefs[e] != 0)
            {
                return true;
            }
        }

        if (_leasedEntries > 0)
        {
            foreach (int e in _plan.DepEntries[u])
            {
                if (_leasedLockRefs[e] != 0)
                {
                    return true;
                }
            }
        }

        return false;
    }

    // mark_create_done / inhibit_data_for_failed_table and the error count of mark_restore_job_done.
    private void ApplyStatus(int dumpId, UnitStatus status)
    {
        switch (status)
        {
            case UnitStatus.TableCreated:
            {
                // TRUNCATE before the data only where one unit loads the whole table: with several data entries,
                // each part's TRUNCATE would take away the rows the others loaded. The chunks and the end unit of a
                // split table learn it too: they split only a table this run created (docs/restore.md).
                var tableData = _plan.TableDataUnitsOf(dumpId);
                if (tableData is [_] || (tableData.Count > 1 && tableData.All(u => _plan.Units[u].DumpId == _plan.Units[tableData[0]].DumpId)))
                {
                    foreach (int td in tableData)
                    {
                        _flags[td] |= FlagCreated;
                    }
                }

                break;
            }

            case UnitStatus.InhibitData:
            {
                _errors++;
                foreach (int td in _plan.TableDataUnitsOf(dumpId))
                {
                    Inhibit(td);
                }

                break;
            }

            case UnitStatus.IgnoredErrors:
                _errors++;
                break;
        }
    }

    private void Inhibit(int td)
    {
        _flags[td] |= FlagInhibited;
        if (_state[td] == UnitState.Ready)
        {
            // Left in the heap; dropped there lazily.
            _readyCount--;
            _observer?.Invoke(new ScheduleEvent(ScheduleEventKind.Skipped, _plan.Units[td]));
            MarkDone(td, failed: false);
        }
    }

    private bool IsSkipped(int u) => _plan.Units[u].IsSkipped || (_flags[u] & FlagInhibited) != 0;

    private void MarkDone(int u, bool failed)
    {
        _state[u] = failed ? UnitState.Failed : UnitState.Done;
        if (u >= _n)
        {
            return;
        }

        CountDone(u, failed);
        ReduceDependents(u);
        CompleteSkipped();
    }

    private void CountDone(int u, bool failed)
    {
        _doneUnits++;
        _remainingByPhase[(int)RestorePhases.Of(_plan.Units[u].Section)]--;
        _doneBytes += _plan.Units[u].DataBytes;
        if (failed)
        {
            _failedUnits++;
        }
        else if (IsSkipped(u))
        {
            _skippedUnits++;
        }
    }

    // reduce_dependencies: dependents of the current pass that became ready join the heap.
    private void ReduceDependents(int u)
    {
        foreach (int d in _plan.Dependents[u])
        {
            if (--_depCount[d] == 0 && _state[d] == UnitState.Pending && Phase == SchedulePhase.Parallel
                && _plan.Units[d].Pass == Pass)
            {
                MakeReady(d);
            }
        }
    }

    private void MakeReady(int u)
    {
        if (IsSkipped(u))
        {
            // Skipped entries complete at once, without a worker (pg_restore's "skipping item").
            _state[u] = UnitState.Ready;
            _skipQueue.Push(u);
            return;
        }

        _state[u] = UnitState.Ready;
        _readyCount++;
        _ready.Enqueue(u, _plan.Rank[u]);
    }

    private void MoveToReady()
    {
        for (int u = 0; u < _n; u++)
        {
            if (_state[u] == UnitState.Pending && _depCount[u] == 0 && _plan.Units[u].Pass == Pass)
            {
                MakeReady(u);
            }
        }

        CompleteSkipped();
    }

    // Skipped units made ready complete at once; their dependents may be skipped in turn.
    private void CompleteSkipped()
    {
        while (_skipQueue.TryPop(out int s))
        {
            _state[s] = UnitState.Done;
            _observer?.Invoke(new ScheduleEvent(ScheduleEventKind.Skipped, _plan.Units[s]));
            CountDone(s, failed: false);
            ReduceDependents(s);
        }
    }

    private void Advance()
    {
        while (true)
        {
            switch (Phase)
            {
                case SchedulePhase.Prefork:
                    if (CurrentGroup >= 0 ? _readyCount > 0 || _leasedEntries > 0 : _state[_preforkUnit] is not (UnitState.Done or UnitState.Failed))
                    {
                        return;
                    }

                    // The step is done (a serial batch, or every unit of a group: a barrier). The next step, if any.
                    _preforkPosition++;
                    if (_preforkPosition < _plan.PreforkSteps.Count + _plan.PreDataGroupCount)
                    {
                        if (CurrentGroup >= 0)
                        {
                            foreach (int g in _plan.GroupUnits[CurrentGroup])
                            {
                                if (_state[g] == UnitState.Pending && _depCount[g] == 0)
                                {
                                    MakeReady(g);
                                }
                            }

                            CompleteSkipped();
                        }
                        else
                        {
                            // The prefork batch again, with the next serial step's entries and a lease of its own.
                            _state[_preforkUnit] = UnitState.Ready;
                            _leaseId[_preforkUnit] = null;
                            _worker[_preforkUnit] = null;
                            _attempts[_preforkUnit] = 0;
                        }

                        continue;
                    }

                    Phase = SchedulePhase.Parallel;
                    Pass = RestorePass.Main;
                    _observer?.Invoke(new ScheduleEvent(ScheduleEventKind.ParallelStarted));
                    MoveToReady();
                    continue;

                case SchedulePhase.Parallel:
                    if (_readyCount > 0 || _leasedEntries > 0)
                    {
                        return;
                    }

                    if (Pass < RestorePass.PostAcl)
                    {
                        Pass++;
                        MoveToReady();
                        continue;
                    }

                    for (int u = 0; u < _n; u++)
                    {
                        if (_state[u] == UnitState.Pending)
                        {
                            _flags[u] |= FlagMissed;
                            _missed.Add(u);
                        }
                    }

                    _observer?.Invoke(new ScheduleEvent(ScheduleEventKind.ParallelEnded));
                    if (_missed.Count == 0)
                    {
                        Phase = SchedulePhase.Finished;
                        return;
                    }

                    Phase = SchedulePhase.Postfork;
                    _state[_missedUnit] = UnitState.Ready;
                    continue;

                case SchedulePhase.Postfork:
                    if (_state[_missedUnit] is not (UnitState.Done or UnitState.Failed))
                    {
                        return;
                    }

                    bool failed = _state[_missedUnit] == UnitState.Failed;
                    foreach (int u in _missed)
                    {
                        _state[u] = failed ? UnitState.Failed : UnitState.Done;
                        CountDone(u, failed);
                    }

                    Phase = SchedulePhase.Finished;
                    return;

                default:
                    return;
            }
        }
    }

    private int SlotOf(int unitId) => unitId switch
    {
        PreforkUnitId => _preforkUnit,
        MissedItemsUnitId => _missedUnit,
        _ => _plan.UnitIndexOf(unitId),
    };

    private int IdOf(int u) => u == _preforkUnit ? PreforkUnitId : u == _missedUnit ? MissedItemsUnitId : _plan.Units[u].Id;
}
