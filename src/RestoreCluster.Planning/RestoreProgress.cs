namespace RestoreCluster.Planning;

/// <summary>A leased unit as progress reports show it.</summary>
/// <param name="BytesRead">The most archive bytes any attempt of the unit read so far.</param>
/// <param name="DataBytes">The unit's data size (<see cref="PlanUnit.DataBytes"/>); 0 when unknown or none.</param>
public sealed record RunningWork(int UnitId, string Label, DateTimeOffset Started, long BytesRead, long DataBytes);

/// <summary>A finished unit: wall time from lease to completion, archive bytes, COPY rows.</summary>
public sealed record FinishedWork(string Label, double Seconds, long Bytes, long Rows);

/// <summary>
/// The live side of a job's progress, next to its <see cref="RestoreSchedule"/>: what each lease is running and
/// how far its data got, the bytes done including running units, rows loaded, time per phase, the slowest
/// units. Pure: time comes in through arguments. Not thread-safe (a grain is single-threaded).
/// </summary>
/// <remarks>
/// Bytes done = the schedule's bytes of finished units + for each unit started but not finished the most any
/// of its attempts read (capped at its data size: the archive's data lengths include block framing) + the
/// bytes read by finished units whose size is unknown (0, e.g. tar or a custom archive written to a pipe).
/// A retried unit starts reading from 0 again; keeping each unit's maximum and a high-water mark of the
/// total makes the value never decrease.
/// </remarks>
public sealed class RestoreProgress
{
    private const int SlowestKept = 5;

    private readonly RestorePlan _plan;
    private readonly Func<int, string> _label;
    private readonly Dictionary<string, RunningWork> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<int, long> _partial = [];
    private readonly List<FinishedWork> _slowest = [];
    private readonly DateTimeOffset?[] _phaseStarted = new DateTimeOffset?[4];
    private long _unknownSizeDone;
    private long _partialSum;
    private long _high;

    /// <param name="label">Names a unit for displays (<c>TABLE DATA public.orders</c>), batches included.</param>
    public RestoreProgress(RestorePlan plan, Func<int, string> label)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(label);
        _plan = plan;
        _label = label;
    }

    /// <summary>COPY rows of the finished units.</summary>
    public long Rows { get; private set; }

    /// <summary>The leased units, in the order they were leased.</summary>
    public IEnumerable<RunningWork> Running => _running.Values;

    /// <summary>The slowest finished units, slowest first (at most five).</summary>
    public IReadOnlyList<FinishedWork> Slowest => _slowest;

    /// <summary>A unit was leased.</summary>
    public void Leased(string leaseId, int unitId, DateTimeOffset now)
    {
        long size = _plan.GetUnit(unitId)?.DataBytes ?? 0;
        _running[leaseId] = new RunningWork(unitId, _label(unitId), now, _partial.GetValueOrDefault(unitId), size);
    }

    /// <summary>
    /// The current attempt of a leased unit has read <paramref name="bytesRead"/> archive bytes; unknown leases are
    /// ignored. A chunk of a split table reads the whole table's stream and keeps about 1/K of it: it counts 1/K of
    /// what it read, so that the table's bytes are counted once over its K chunks.
    /// </summary>
    public void Read(string leaseId, long bytesRead)
    {
        if (!_running.TryGetValue(leaseId, out var work))
        {
            return;
        }

        if (_plan.GetUnit(work.UnitId)?.Chunk is { } chunk)
        {
            bytesRead /= chunk.Count;
        }

        if (bytesRead <= work.BytesRead || !IsEntry(work.UnitId))
        {
            return;
        }

        _running[leaseId] = work with { BytesRead = bytesRead };
        long capped = work.DataBytes > 0 ? Math.Min(bytesRead, work.DataBytes) : bytesRead;
        long before = _partial.GetValueOrDefault(work.UnitId);
        if (capped > before)
        {
            _partial[work.UnitId] = capped;
            _partialSum += capped - before;
        }
    }

    /// <summary>A lease ended without its unit finishing (it lapsed, or its completion was stale).</summary>
    public void Dropped(string leaseId) => _running.Remove(leaseId);

    /// <summary>The unit of a lease finished (the schedule accepted it, or failed it for good).</summary>
    public void Finished(string leaseId, long rows, long bytesRead, DateTimeOffset now)
    {
        if (!_running.Remove(leaseId, out var work))
        {
            return;
        }

        long read = Math.Max(work.BytesRead, bytesRead);
        if (_partial.Remove(work.UnitId, out long partial))
        {
            _partialSum -= partial;
        }

        // From here the schedule counts a sized unit's DataBytes; a unit of unknown size counts what it read.
        if (work.DataBytes == 0 && IsEntry(work.UnitId))
        {
            _unknownSizeDone += read;
        }

        Rows += rows;
        Rank(new FinishedWork(work.Label, (now - work.Started).TotalSeconds, work.DataBytes > 0 ? work.DataBytes : read, rows));
    }

    /// <summary>Leases still current (after the schedule expired some): the others are dropped.</summary>
    public void Retain(IEnumerable<string> currentLeaseIds)
    {
        var current = currentLeaseIds.ToHashSet(StringComparer.Ordinal);
        foreach (string id in _running.Keys.Where(id => !current.Contains(id)).ToList())
        {
            _running.Remove(id);
        }
    }

    /// <summary>Table data bytes done, given the schedule's bytes of finished units; never decreases.</summary>
    public long BytesDone(long finishedDataBytes)
    {
        _high = Math.Max(_high, finishedDataBytes + _unknownSizeDone + _partialSum);
        return _high;
    }

    /// <summary>Records the phase the job is in now (phases only move forward).</summary>
    public void Phase(RestorePhase phase, DateTimeOffset now)
    {
        for (int p = 0; p <= (int)phase; p++)
        {
            _phaseStarted[p] ??= now;
        }
    }

    /// <summary>Seconds spent in each phase (pre-data, data, post-data) up to <paramref name="now"/>.</summary>
    public (double PreData, double Data, double PostData) PhaseSeconds(DateTimeOffset now)
    {
        double Span(int p)
        {
            if (_phaseStarted[p] is not { } start)
            {
                return 0;
            }

            var end = _phaseStarted[p + 1] ?? now;
            return Math.Max(0, (end - start).TotalSeconds);
        }

        return (Span(0), Span(1), Span(2));
    }

    // The serial batches and the final journal drop are not plan units: their data is counted when the
    // schedule counts their entries done.
    private bool IsEntry(int unitId) => _plan.GetUnit(unitId) is not null;

    private void Rank(FinishedWork done)
    {
        int at = _slowest.FindIndex(w => w.Seconds < done.Seconds);
        if (at < 0)
        {
            if (_slowest.Count >= SlowestKept)
            {
                return;
            }

            at = _slowest.Count;
        }

        _slowest.Insert(at, done);
        if (_slowest.Count > SlowestKept)
        {
            _slowest.RemoveAt(SlowestKept);
        }
    }
}
