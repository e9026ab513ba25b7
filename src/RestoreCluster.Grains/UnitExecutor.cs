using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RestoreCluster.Archive;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Planning;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// Runs leased units against the target on one session, outside any grain turn (blocking Npgsql work on
/// a thread of its own). One per worker slot and job; its session lives inside the slot's host permit. The
/// entry leases of one call are one batch: one transaction if all goes well (UnitSession.RunBatch).
/// </summary>
internal sealed partial class UnitExecutor : IDisposable
{
    // Consecutive small units share a transaction up to this many objects, unless the server's lock
    // table is smaller (max_locks_per_transaction / 2: each unit takes a lock or two).
    private const int MaxBatchUnits = 64;

    private readonly JobSpec _spec;
    private readonly PgArchive _archive;
    private readonly IReadOnlyList<TocEntry> _order;
    private readonly RestoreOptions _options;
    private readonly ConnectionTarget _target;
    private readonly RestoreJournal _journal;
    private readonly TableSplit _split;
    // The split tables' chunk counts, by the dump ID of their TABLE DATA entry.
    private readonly IReadOnlyDictionary<int, int> _chunks;
    // The parts of each entry the job restores, as the coordinator selected them (the same pure decision).
    private readonly IReadOnlyDictionary<int, RestoreParts> _parts;
    private readonly List<string> _messages = [];
    private readonly ActivityContext _jobContext;
    private readonly DataReadCounter _read = new();
    private readonly ILogger _logger;
    private UnitSession? _session;
    private int _batchCeiling;
    private bool _ownsJournal;
    // The first unit of the running batch, for the records of its retries.
    private UnitLease? _running;

    public UnitExecutor(JobSpec spec, PgArchive archive, ILogger<UnitExecutor>? logger = null)
    {
        _logger = logger ?? NullLogger<UnitExecutor>.Instance;
        _spec = spec;
        _archive = archive;
        _order = JobOrder.Resolve(archive, spec.Order);
        _options = spec.Options.ToRestoreOptions();
        _target = ConnectionTarget.FromValues(spec.Target);
        // The chunks the coordinator's plan cuts (the same pure decision) are part of what a --resume must match.
        _split = _options.SplitFor(spec.Jobs);
        _parts = EntrySelector.Select(_order, archive, _options.Selection);
        _chunks = RestorePlan.SplitTables(_order, _parts, _split);
        _journal = RestoreJournal.For(archive, _options, _split.Layout(_chunks));
        // Units run on threads of their own, far from the call that started the job: their spans name the job's span
        // as parent explicitly rather than relying on whatever Activity.Current the slot's loop carries.
        ActivityContext.TryParse(spec.TraceParent, null, isRemote: true, out _jobContext);
        BatchLimit = MaxBatchUnits;
        _batchCeiling = MaxBatchUnits;
    }

    /// <summary>
    /// How many units the next batch may hold: the ceiling while batches commit whole; after a batch had to
    /// fall back to one transaction per unit, 1, growing back by doubling.
    /// </summary>
    public int BatchLimit { get; private set; }

    /// <summary>The database the units run in: with -C, the one the archive's DATABASE entry creates.</summary>
    private ConnectionTarget UnitTarget =>
        _options.Selection.CreateDatabase && _order.FirstOrDefault(e => e.Desc == "DATABASE") is { } db
            ? _target.WithDatabase(db.Tag)
            : _target;

    private UnitSession Session => _session ??= new UnitSession(_archive, _order, _options, UnitTarget, _journal, Message, dataRead: _read)
    {
        JournalRun = _ownsJournal ? _spec.JobId : null,
        HostBudget = _spec.HostBudget,
        Pace = Pace,
    };

    /// <summary>
    /// The pace of the running batch's COPYs: set from the slot's loop while <see cref="Run"/> runs on another thread, from
    /// a protecting budget (<see cref="Permit.Protects"/>); 1 otherwise.
    /// </summary>
    public CopyPace Pace { get; } = new();

    /// <summary>
    /// Archive bytes (before decompression) the running entry's data has read so far: read from the slot's
    /// loop while <see cref="Run"/> runs on another thread.
    /// </summary>
    public long BytesRead => _read.Bytes;

    /// <summary>Sets <see cref="BytesRead"/> to 0 before a unit starts, so no poll sees the previous unit's count.</summary>
    public void ResetBytesRead() => _read.Reset();

    /// <summary>
    /// The next batch's units start no parallel workers: its permit comes from a budget that protects a live server
    /// (<see cref="Permit.Protects"/>).
    /// </summary>
    public bool NoParallelWorkers { get; set; }

    /// <summary>Runs the leases of one call (a batch of entries, or one serial unit); one report per lease.</summary>
    public IReadOnlyList<UnitReport> Run(IReadOnlyList<UnitLease> leases, CancellationToken cancellation)
    {
        _messages.Clear();
        Session.NoParallelWorkers = NoParallelWorkers;
        var first = leases[0];
        _running = first;
        int retriesBefore = _session?.Retries ?? 0;
        if (first.Kind is UnitKind.Entry or UnitKind.MissedItems or UnitKind.PreforkStep)
        {
            // Leased only once the prefork's first step is done: this run prepared the journal.
            OwnJournal();
        }

        try
        {
            switch (first.Kind)
            {
                case UnitKind.Prefork:
                    return [Serial(first, Prefork(first, cancellation), retriesBefore)];
                case UnitKind.PreforkStep:
                    // A serial step of pre-data after a group: its entries as the prefork runs them, with the same -v lines.
                    var step = first.EntryIds.Select(id => Announced(Work(id, false), VerboseMessages.ProcessingItem)).ToList();
                    return [Serial(first, RunSerially(step, cancellation), retriesBefore)];
                case UnitKind.MissedItems:
                    var missed = first.EntryIds.Select(id => !PlanUnit.IsArchiveItem(id) ? Work(id, false) : Announced(Work(id, false), VerboseMessages.ProcessingMissedItem)).ToList();
                    return [Serial(first, RunSerially(missed, cancellation), retriesBefore)];
                case UnitKind.Finish:
                    // A job stopped by a chunk of a split table (-e): the table's end unit never ran, so its rows are taken
                    // back here, after every leased unit is back, as pg_restore -e's failed COPY leaves none of them.
                    int takeBackErrors = 0;
                    if (first.EntryIds.Count > 0)
                    {
                        Session.RunBatch([.. first.EntryIds.Select(id => new UnitWork(id, WorkEntry(id)!, UnitWorkKind.SplitEnd, true))], r =>
                        {
                            takeBackErrors += r.Errors;
                            _messages.AddRange(r.ErrorMessages);
                        }, cancellation);
                    }

                    Session.AsLoginRole(conn =>
                    {
                        // --analyze: what no unit analyzed (the catalogs, what the database held before), once the journal is
                        // gone, as vacuumdb would see the database. Not for a run whose start was refused: it dropped nothing;
                        // nor for a job that failed (-e, a fatal error): like pg_restore, it stops at its error.
                        if (RestoreJournal.Drop(conn, _spec.JobId) && _options.Analyze && !first.JobFailed)
                        {
                            using var analyze = new Npgsql.NpgsqlCommand(AnalyzeSql.Rest(AnalyzeTargets.Select(t => t.Relation)), conn);
                            analyze.ExecuteNonQuery();
                        }

                        return true;
                    });
                    // pg_restore -j's leader connects again after its workers (restore_toc_entries_postfork) and
                    // sets the fixed settings once more, counting their failures again; -j 1 is serial.
                    int postfork = _spec.Jobs > 1 ? Session.FixedSettingErrors : 0;
                    return [Report(first, postfork + takeBackErrors, [], [], 0, 0, retriesBefore, [.. _messages])];
                default:
                    return RunEntries(leases, retriesBefore, cancellation);
            }
        }
        catch (Exception e) when (e is RestoreFailedException or ArchiveException or PlanningException)
        {
            Log.UnitStopsRestore(_logger, e, first.UnitId, What(first), e.Message);
            Close();
            return [Report(first, 0, [], [], 0, 0, retriesBefore, [.. _messages]) with { Fatal = e.Message }, .. leases.Skip(1).Select(NotRun)];
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Anything else is a bug: it ends the job with a message, instead of silently ending this slot and
            // leaving the unit to a lapsed lease (or, with every slot gone, the job waiting forever).
            Close();
            string what = What(first);
            Log.UnexpectedError(_logger, e, first.UnitId, what);
            return [Report(first, 0, [], [], 0, 0, retriesBefore, [.. _messages]) with { Fatal = $"unexpected error in unit {first.UnitId} ({what}): {e.GetType().Name}: {e.Message}" }, .. leases.Skip(1).Select(NotRun)];
        }
    }

    public void Close()
    {
        _session?.Dispose();
        _session = null;
    }

    // From now on every session of this slot holds the job lock, shared, and checks that the run still owns
    // the journal (RestoreJournal.Join). The final drop joins only in a slot that owns it: a run whose start
    // was refused drops nothing (RestoreJournal.Drop) and must not join another run's journal.
    private void OwnJournal()
    {
        _ownsJournal = true;
        if (_session is not null)
        {
            _session.JournalRun = _spec.JobId;
        }
    }

    public void Dispose() => Close();

    private string What(UnitLease lease) => WorkEntry(lease.UnitId) is { } te
        ? AnalyzeUnits.IsAnalyze(lease.UnitId) ? $"{AnalyzeUnits.Desc} {te.Tag}"
            : TableSplit.ChunkOf(lease.UnitId) is { } chunk ? $"{te.Desc} {te.Tag} {chunk}"
            : TableSplit.EndOf(lease.UnitId) is not null ? $"{te.Desc} {te.Tag} {TableSplit.EndLabel}" : $"{te.Desc} {te.Tag}"
        : lease.Kind.ToString();

    // The session's messages for the unit's report; its warnings (a lost session or a refused connect, retried)
    // are logged as they happen, while the unit still runs.
    private void Message(string message)
    {
        _messages.Add(message);
        if (message.StartsWith(WarningPrefix, StringComparison.Ordinal) && _running is { } lease)
        {
            Log.UnitRetried(_logger, lease.UnitId, What(lease), message[WarningPrefix.Length..]);
        }
    }

    private const string WarningPrefix = "warning: ";

    private static UnitReport NotRun(UnitLease lease) => new(lease.LeaseId, lease.UnitId, 0, [], [], null, 0, 0, [], NotRun: true);

    private UnitReport Report(UnitLease lease, int errors, IReadOnlyList<int> created, IReadOnlyList<int> failedTables, long bytes, long rows, int retriesBefore, IReadOnlyList<string> messages, long bytesRead = 0) =>
        new(lease.LeaseId, lease.UnitId, errors, created, failedTables, null, bytes, Retries(retriesBefore), messages, rows, lease.Kind == UnitKind.Entry ? bytesRead : 0);

    // A batch of entry leases: all in one transaction when it goes well, each reported by its own lease.
    private List<UnitReport> RunEntries(IReadOnlyList<UnitLease> leases, int retriesBefore, CancellationToken cancellation)
    {
        var reports = new List<UnitReport>(leases.Count);
        int reruns = Session.CarefulReruns;
        try
        {
            var works = leases.Select(l => Work(l.UnitId, l.TruncateFirst) with { FirstRun = l.FirstRun, SpareSessions = l.SpareSessions }).ToList();
            Session.RunBatch(works, result =>
            {
                var lease = leases[reports.Count];
                // Warnings (retried sessions) go with the first report of the batch.
                IReadOnlyList<string> messages = reports.Count == 0 ? [.. _messages, .. result.ErrorMessages] : result.ErrorMessages;
                reports.Add(Report(lease, result.Errors, result.CreatedTables, FailedTables(result.InhibitedData), result.Bytes, result.Rows, reports.Count == 0 ? retriesBefore : Session.Retries, messages, result.BytesRead) with { AlreadyDone = result.AlreadyDone });
                Record(result, works[reports.Count - 1].Entry);
            }, cancellation);
        }
        catch (Exception e) when (e is RestoreFailedException && reports.Count < leases.Count)
        {
            // -e or a fatal error in the unit after the committed ones: the rest of the batch never ran.
            var failed = leases[reports.Count];
            Log.UnitStopsRestore(_logger, e, failed.UnitId, What(failed), e.Message);
            reports.Add(Report(failed, 0, [], [], 0, 0, retriesBefore, reports.Count == 0 ? [.. _messages] : []) with { Fatal = e.Message });
            reports.AddRange(leases.Skip(reports.Count).Select(NotRun));
            Close();
        }

        // Batches that had to fall back to a transaction per unit shrink to one unit, then grow back.
        BatchLimit = Session.CarefulReruns > reruns ? 1 : Math.Min(BatchCeiling(), BatchLimit * 2);
        return reports;
    }

    // The serial start, as pg_restore's leader does it: CREATE DATABASE (-C), then the journal (which
    // tells a resumed restore what is done), the -c drops in reverse order, then the pre-data entries.
    private (int Errors, List<int> Created, List<int> Failed, long Bytes, long Rows) Prefork(UnitLease lease, CancellationToken cancellation)
    {
        var entries = lease.EntryIds.Select(id => _archive.GetEntry(id)!).ToList();
        int errors = 0;
        if (_options.Verbose && Session.ImpliedDataOnly)
        {
            // RestoreArchive says so once, before the -c drops.
            _messages.Add(VerboseMessages.Mark(VerboseMessages.ImpliedDataOnly(_archive)));
        }

        // Only -C restores the DATABASE entry (without it, the entry is a no-op like any unselected one).
        var database = _options.Selection.CreateDatabase ? entries.FirstOrDefault(e => e.Desc == "DATABASE") : null;
        if (database is not null && RecreatesDatabase(lease))
        {
            // DROP and CREATE DATABASE cannot run in a transaction: they run on the -d database first. They run
            // once: a prefork leased again in the same run finds its database and its journal there.
            errors += DatabaseRestore.RecreateDatabase(
                _archive, _order, _options, _target, database, Message, Announcement(database, VerboseMessages.ProcessingItem));
        }

        Session.AsLoginRole(conn =>
        {
            _journal.Prepare(conn, _spec.ArchivePath, _spec.Resume, UnitTarget.ToString(), _spec.JobId);
            return true;
        });
        // This session holds the job lock now; a session opened after a lost one joins the job again.
        OwnJournal();
        // pg_restore's leader counts the failed fixed settings of its session (RestoreArchive's
        // _doSetFixedOutputState; with -C, again after connecting to the new database, which RecreateDatabase
        // has counted for the first connection).
        errors += Session.FixedSettingErrors;
        var works = new List<UnitWork>();
        if (_options.Clean && database is null)
        {
            works.AddRange(Session.DropEntries().Select(te => new UnitWork(-te.DumpId, te, UnitWorkKind.Drop, false)));
        }

        works.AddRange(entries.Where(te => te != database).Select(te => Announced(Work(te.DumpId, false), VerboseMessages.ProcessingItem)));
        var result = RunSerially(works, cancellation);
        return (result.Errors + errors, result.Created, result.Failed, result.Bytes, result.Rows);
    }

    // A serial list of units (prefork, missed items) in batches, one transaction per batch when all goes well.
    private (int Errors, List<int> Created, List<int> Failed, long Bytes, long Rows) RunSerially(IReadOnlyList<UnitWork> works, CancellationToken cancellation)
    {
        int errors = 0;
        long bytes = 0, rows = 0;
        var created = new List<int>();
        var failed = new List<int>();
        void Apply(UnitResult r)
        {
            errors += r.Errors;
            bytes += r.Bytes;
            rows += r.Rows;
            created.AddRange(r.CreatedTables);
            failed.AddRange(FailedTables(r.InhibitedData));
            _messages.AddRange(r.ErrorMessages);
            // -c drops are not entries restored: no unit span, not counted (docs/telemetry.md).
            if (r.UnitId > 0 && WorkEntry(r.UnitId) is { } te)
            {
                Record(r, te);
            }
        }

        for (int i = 0; i < works.Count;)
        {
            int reruns = Session.CarefulReruns;
            // Data and large objects go alone: only small definitions share a transaction.
            // An explicit --transaction-size cuts these serial batches (pg_restore 17's leader) at N objects too.
            int limit = _options.TransactionSize > 0 ? Math.Min(BatchLimit, _options.TransactionSize) : BatchLimit;
            int n = 1;
            while (n < limit && i + n < works.Count && IsDefinition(works[i + n]) && IsDefinition(works[i]))
            {
                n++;
            }

            Session.RunBatch(works.Skip(i).Take(n).ToList(), Apply, cancellation);
            i += n;
            BatchLimit = Session.CarefulReruns > reruns ? 1 : Math.Min(BatchCeiling(), BatchLimit * 2);
        }

        return (errors, created, failed, bytes, rows);
    }

    private UnitReport Serial(UnitLease lease, (int Errors, List<int> Created, List<int> Failed, long Bytes, long Rows) r, int retriesBefore) =>
        Report(lease, r.Errors, r.Created, r.Failed, r.Bytes, r.Rows, retriesBefore, [.. _messages]);

    private static bool IsDefinition(UnitWork work) => work.Kind == UnitWorkKind.Drop || !work.Entry.HadDumper;

    // pg_restore -j -v names each entry its leader restores serially; pg_restore -j 1 is serial and does not.
    private string? Announcement(TocEntry te, Func<int, string, string, string> line) =>
        _options.Verbose && _spec.Jobs > 1 ? line(te.DumpId, te.Desc, te.Tag) : null;

    private UnitWork Announced(UnitWork work, Func<int, string, string, string> line) =>
        work with { Announcement = Announcement(work.Entry, line) };

    // A unit ID is a dump ID, the chunk ID of a split table's chunk (TableSplit), which never truncates its table, the
    // end unit of a split table's load, or --analyze's unit of a relation (AnalyzeUnits). For a chunk or an end unit,
    // truncateFirst says that this run created the table (the coordinator's TableCreated).
    private UnitWork Work(int unitId, bool truncateFirst)
    {
        var entry = WorkEntry(unitId) ?? throw new PlanningException($"unit {unitId} is not in the archive");
        if (AnalyzeUnits.IsAnalyze(unitId))
        {
            return new(unitId, entry, UnitWorkKind.Analyze, truncateFirst);
        }

        if (TableSplit.EndOf(unitId) is { } dumpId)
        {
            // Only rows of a table this run created can be taken back: the chunks of any other loaded it as one COPY.
            bool takeBack = truncateFirst && Session.AsLoginRole(conn => _journal.AnyErrors(conn, ChunkIdsOf(dumpId)));
            return new(unitId, entry, UnitWorkKind.SplitEnd, takeBack);
        }

        var chunk = TableSplit.ChunkOf(unitId);
        if (chunk is { } c && !truncateFirst)
        {
            // A table this run did not create (-a, or its CREATE failed: it was there) may hold rows of its own, which
            // a failed chunk's rows could not be told from: its first chunk loads it whole, in one COPY as pg_restore
            // does (one error, none of its rows kept, when a row is refused), and the other chunks load nothing.
            return c.Index == 0 ? new(unitId, entry, UnitWorkKind.Entry, false) : new(unitId, entry, UnitWorkKind.SplitEnd, false);
        }

        return chunk is null
            ? new(unitId, entry, UnitWorkKind.Entry, truncateFirst)
            : new(unitId, entry, UnitWorkKind.Entry, false) { Chunk = chunk, ChunkBlockBytes = _split.BlockBytes };
    }

    // The chunk IDs of a split TABLE DATA entry, as the plan cut it (the same pure decision as the coordinator's).
    private int[] ChunkIdsOf(int dumpId) => TableSplit.ChunkIds(dumpId, _chunks[dumpId]);

    private TocEntry? WorkEntry(int unitId) =>
        _archive.GetEntry(AnalyzeUnits.IsAnalyze(unitId) ? AnalyzeUnits.RelationOf(unitId) : TableSplit.DumpIdOf(unitId));

    // --analyze's relations, as the coordinator planned them (the same selection, the same rule).
    private IReadOnlyList<AnalyzeTarget> AnalyzeTargets => _analyzeTargets ??= AnalyzeUnits.Targets(_order, _parts);

    private IReadOnlyList<AnalyzeTarget>? _analyzeTargets;

    // A TABLE DATA entry switched off names its table: that table's status is "inhibit data".
    private List<int> FailedTables(IReadOnlyList<int> inhibitedData) =>
        inhibitedData.Select(id => _archive.GetEntry(id)).Where(d => d is { Dependencies.Count: > 0 }).Select(d => d!.Dependencies[0]).ToList();

    private int BatchCeiling()
    {
        if (_batchCeiling == MaxBatchUnits && _session?.MaxLocksPerTransaction is { } locks)
        {
            _batchCeiling = Math.Clamp(locks / 2, 1, MaxBatchUnits);
        }

        return _batchCeiling;
    }

    // One span per unit, from its start to its end inside the attempt that committed it (a batch's units
    // share a transaction, each still has its span), and the unit meters.
    private void Record(UnitResult result, TocEntry te)
    {
        using (var activity = RestoreInstruments.Source.StartActivity("restore unit", ActivityKind.Internal, _jobContext, startTime: result.Started))
        {
            if (activity is not null)
            {
                activity.SetTag("restorecluster.dump_id", te.DumpId);
                activity.SetTag("restorecluster.desc", AnalyzeUnits.IsAnalyze(result.UnitId) ? AnalyzeUnits.Desc : te.Desc);
                activity.SetTag("restorecluster.tag", te.Tag);
                activity.SetTag("restorecluster.bytes", result.Bytes);
                activity.SetTag("restorecluster.rows", result.Rows);
                activity.SetTag("restorecluster.errors", result.Errors);
                if (result.AlreadyDone)
                {
                    activity.SetTag("restorecluster.already_done", true);
                }

                activity.SetEndTime(result.Ended > result.Started ? result.Ended.UtcDateTime : result.Started.UtcDateTime);
            }
        }

        RestoreInstruments.Units.Add(1);
        RestoreInstruments.Bytes.Add(result.Bytes);
        RestoreInstruments.Rows.Add(result.Rows);
        RestoreInstruments.UnitDuration.Record(Math.Max(0, (result.Ended - result.Started).TotalSeconds));
    }

    private int Retries(int before) => (_session?.Retries ?? before) - before;

    // With -C, whether this prefork runs the DATABASE entry (-c's DROP, then CREATE DATABASE). Its first lease
    // does, as pg_restore does, without looking. A lease after a lapse or under --resume looks first: a
    // journal of this run in the unit database means an earlier lease created it (or, with --resume, the
    // run resumed did). Only a database that is not there (3D000) counts as missing: any other failure to
    // reach it fails the unit, since with -c taking it for missing would drop what the run restored so far.
    private bool RecreatesDatabase(UnitLease lease)
    {
        if (lease.FirstRun)
        {
            return true;
        }

        bool? journal = JournalInUnitDatabase();
        bool recreate = journal is null || (journal == false && !_spec.Resume);
        if (recreate)
        {
            // DROP DATABASE refuses a database with sessions in it: ours goes first.
            Close();
        }

        return recreate;
    }

    // True or false: the unit database is there, with or without a journal; null: it is not there.
    private bool? JournalInUnitDatabase()
    {
        try
        {
            return Session.AsLoginRole(conn =>
            {
                using var cmd = new Npgsql.NpgsqlCommand($"SELECT to_regclass('{RestoreJournal.Schema}.job') IS NOT NULL", conn);
                return (bool)cmd.ExecuteScalar()!;
            });
        }
        catch (RestoreFailedException e) when (e.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.InvalidCatalogName })
        {
            Close();
            return null;
        }
    }
}
