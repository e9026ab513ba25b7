using System.Diagnostics;
using RestoreCluster.Archive;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Planning;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// Runs leased units against the target on one session, outside any grain turn (blocking Npgsql work on
/// the thread pool). One per worker slot and job; its session lives inside the slot's host permit.
/// </summary>
internal sealed class UnitExecutor : IDisposable
{
    private readonly JobSpec _spec;
    private readonly PgArchive _archive;
    private readonly IReadOnlyList<TocEntry> _order;
    private readonly RestoreOptions _options;
    private readonly ConnectionTarget _target;
    private readonly RestoreJournal _journal;
    private readonly List<string> _errors = [];
    private readonly ActivityContext _jobContext;
    private readonly DataReadCounter _read = new();
    private UnitSession? _session;

    public UnitExecutor(JobSpec spec, PgArchive archive)
    {
        _spec = spec;
        _archive = archive;
        _order = JobOrder.Resolve(archive, spec.Order);
        _options = spec.Options.ToRestoreOptions();
        _target = ConnectionTarget.FromValues(spec.Target);
        _journal = RestoreJournal.For(archive, _options);
        // Units run on the thread pool, far from the call that started the job: their spans name the job's span
        // as parent explicitly rather than relying on whatever Activity.Current the slot's loop carries.
        ActivityContext.TryParse(spec.TraceParent, null, isRemote: true, out _jobContext);
    }

    /// <summary>The database the units run in: with -C, the one the archive's DATABASE entry creates.</summary>
    private ConnectionTarget UnitTarget =>
        _options.Selection.CreateDatabase && _order.FirstOrDefault(e => e.Desc == "DATABASE") is { } db
            ? _target.WithDatabase(db.Tag)
            : _target;

    private UnitSession Session => _session ??= new UnitSession(_archive, _order, _options, UnitTarget, _journal, _errors.Add, dataRead: _read);

    /// <summary>
    /// Archive bytes (before decompression) the running entry's data has read so far: read from the slot's
    /// loop while <see cref="Run"/> runs on another thread.
    /// </summary>
    public long BytesRead => _read.Bytes;

    /// <summary>Sets <see cref="BytesRead"/> to 0 before a unit starts, so no poll sees the previous unit's count.</summary>
    public void ResetBytesRead() => _read.Reset();

    public UnitReport Run(UnitLease lease, CancellationToken cancellation)
    {
        _errors.Clear();
        int retriesBefore = _session?.Retries ?? 0;
        int errors = 0;
        long bytes = 0;
        long rows = 0;
        var created = new List<int>();
        var failedTables = new List<int>();
        var alreadyDone = new List<int>();
        try
        {
            void Apply(UnitResult r)
            {
                errors += r.Errors;
                bytes += r.Bytes;
                rows += r.Rows;
                created.AddRange(r.CreatedTables);
                foreach (int dataId in r.InhibitedData)
                {
                    if (_archive.GetEntry(dataId) is { Dependencies.Count: > 0 } data)
                    {
                        failedTables.Add(data.Dependencies[0]);
                    }
                }
            }

            switch (lease.Kind)
            {
                case UnitKind.Prefork:
                    var done = Prefork(lease, cancellation, Apply, ref errors);
                    alreadyDone.AddRange(done);
                    break;
                case UnitKind.Entry:
                    if (!lease.AlreadyDone.Contains(lease.UnitId))
                    {
                        Apply(RunEntry(lease.UnitId, lease.TruncateFirst, cancellation));
                    }

                    break;
                case UnitKind.MissedItems:
                    foreach (int id in lease.EntryIds.Where(id => !lease.AlreadyDone.Contains(id)))
                    {
                        Apply(RunEntry(id, false, cancellation));
                    }

                    break;
                case UnitKind.Finish:
                    RestoreJournal.Drop(Session.Connection, _spec.JobId);
                    break;
            }

            return new UnitReport(lease.LeaseId, lease.UnitId, errors, created, failedTables, alreadyDone, null, bytes, Retries(retriesBefore), _errors.ToList(), rows, EntryBytesRead(lease));
        }
        catch (Exception e) when (e is RestoreFailedException or ArchiveException or PlanningException)
        {
            Close();
            return new UnitReport(lease.LeaseId, lease.UnitId, errors, [], [], alreadyDone, e.Message, bytes, Retries(retriesBefore), _errors.ToList(), rows, EntryBytesRead(lease));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Anything else is a bug: it ends the job with a message, instead of silently ending this slot and
            // leaving the unit to a lapsed lease (or, with every slot gone, the job waiting forever).
            Close();
            string what = _archive.GetEntry(lease.UnitId) is { } te ? $"{te.Desc} {te.Tag}" : lease.Kind.ToString();
            return new UnitReport(lease.LeaseId, lease.UnitId, errors, [], [], alreadyDone, $"unexpected error in unit {lease.UnitId} ({what}): {e.GetType().Name}: {e.Message}", bytes, Retries(retriesBefore), _errors.ToList(), rows, EntryBytesRead(lease));
        }
    }

    public void Close()
    {
        _session?.Dispose();
        _session = null;
    }

    public void Dispose() => Close();

    // Live byte counts are per entry: a batch's count would be only its current entry's.
    private long EntryBytesRead(UnitLease lease) => lease.Kind == UnitKind.Entry ? _read.Bytes : 0;

    private int Retries(int before) => (_session?.Retries ?? before) - before;

    // The serial start, as pg_restore's leader does it: CREATE DATABASE (-C), then the journal (which
    // tells a resumed restore what is done), the -c drops in reverse order, then the pre-data entries.
    private HashSet<int> Prefork(UnitLease lease, CancellationToken cancellation, Action<UnitResult> apply, ref int errors)
    {
        var entries = lease.EntryIds.Select(id => _archive.GetEntry(id)!).ToList();
        // Only -C restores the DATABASE entry (without it, the entry is a no-op like any unselected one).
        var database = _options.Selection.CreateDatabase ? entries.FirstOrDefault(e => e.Desc == "DATABASE") : null;
        if (database is not null && !(_spec.Resume && DatabaseExists(database.Tag)))
        {
            // DROP and CREATE DATABASE cannot run in a transaction: they run on the -d database first.
            errors += DatabaseRestore.RecreateDatabase(_archive, _order, _options, _target, database, _errors.Add);
        }

        var done = _journal.Prepare(Session.Connection, _spec.ArchivePath, _spec.Resume, UnitTarget.ToString(), _spec.JobId);
        if (_options.Clean && database is null)
        {
            foreach (var te in Session.DropEntries())
            {
                int unitId = -te.DumpId;
                if (!done.Contains(unitId))
                {
                    apply(Session.RunDrop(unitId, te, cancellation));
                }
            }
        }

        foreach (var te in entries)
        {
            if (te != database && !done.Contains(te.DumpId))
            {
                apply(RunEntry(te.DumpId, truncateFirst: false, cancellation));
            }
        }

        return done;
    }

    private UnitResult RunEntry(int dumpId, bool truncateFirst, CancellationToken cancellation)
    {
        var te = _archive.GetEntry(dumpId) ?? throw new PlanningException($"unit {dumpId} is not in the archive");
        using var activity = RestoreInstruments.Source.StartActivity("restore unit", ActivityKind.Internal, _jobContext);
        activity?.SetTag("restorecluster.dump_id", te.DumpId);
        activity?.SetTag("restorecluster.desc", te.Desc);
        activity?.SetTag("restorecluster.tag", te.Tag);
        var started = Stopwatch.GetTimestamp();
        var result = Session.RunEntry(te.DumpId, te, truncateFirst, cancellation);
        activity?.SetTag("restorecluster.bytes", result.Bytes);
        activity?.SetTag("restorecluster.rows", result.Rows);
        activity?.SetTag("restorecluster.errors", result.Errors);
        RestoreInstruments.Units.Add(1);
        RestoreInstruments.Bytes.Add(result.Bytes);
        RestoreInstruments.Rows.Add(result.Rows);
        RestoreInstruments.UnitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return result;
    }

    private bool DatabaseExists(string name)
    {
        using var probe = new UnitSession(_archive, _order, _options, _target, _journal, _errors.Add);
        using var cmd = new Npgsql.NpgsqlCommand("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", probe.Connection);
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = name });
        return cmd.ExecuteScalar() is not null;
    }
}
