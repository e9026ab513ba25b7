using Npgsql;
using RestoreCluster.Archive;
using RestoreCluster.Planning;

namespace RestoreCluster.Restore;

/// <summary>
/// One worker session on the target: runs units (one TOC entry, or one DROP) in transactions together with
/// their journal rows, so a unit is applied exactly once however often it is retried. Several small units
/// may share one transaction (a batch); each keeps its own journal row.
/// <list type="bullet">
/// <item>The journal rows are written first, so a second copy of a unit waits for the first one's
/// transaction and then stops at once, instead of redoing the unit only to be refused at COMMIT.</item>
/// <item>An attempt is first optimistic: statements are pipelined without savepoints (a unit of DDL is one
/// round trip). If anything fails, the attempt is rolled back and the units run again one by one, first
/// optimistically and then carefully: a savepoint per query, errors counted as pg_restore counts them.</item>
/// <item>A lost session is reopened and the attempt retried with bounded exponential backoff; an error in
/// the archive's SQL is counted, never retried.</item>
/// </list>
/// </summary>
public sealed class UnitSession : IDisposable
{
    private readonly PgArchive _archive;
    private readonly IReadOnlyList<TocEntry> _order;
    private readonly RestoreOptions _options;
    private readonly Func<string, NpgsqlConnection> _connect;
    private readonly string _database;
    private readonly string _targetLabel;
    private readonly RestoreJournal _journal;
    private readonly Action<string> _reportError;
    private readonly DataReadCounter? _dataRead;
    private readonly List<string> _attemptErrors = [];
    private DatabaseSink? _sink;
    private RestoreEmitter? _emitter;
    private KeyPlan? _keys;
    private int? _maxLocks;
    private bool _walMinimal;
    private long _workMemKb;

    public UnitSession(
        PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions options, ConnectionTarget target,
        RestoreJournal journal, Action<string> reportError, Func<string?>? promptPassword = null, DataReadCounter? dataRead = null)
    {
        _dataRead = dataRead;
        _archive = archive;
        _order = order;
        _options = options;
        _database = target.Database;
        _targetLabel = target.ToString();
        _journal = journal;
        _reportError = reportError;
        _connect = new TargetConnector(target, archive.Encoding, promptPassword, m => reportError("warning: " + m)).Open;
    }

    /// <summary>No entry's schema part is selected: pg_restore's "implied data-only restore".</summary>
    public bool ImpliedDataOnly =>
        _options.Selection.DumpSchema && RestoreEmitter.ImpliesDataOnly(_order, EntrySelector.Select(_order, _archive, _options.Selection));

    /// <summary>
    /// The run that owns the journal, once it does (its start prepared the journal): every session opened
    /// from then on joins the job before anything else (<see cref="RestoreJournal.Join"/>: it holds the job
    /// lock, and stops if another run took the journal over). Null before, and for sessions outside the
    /// journal (a probe of the -d database).
    /// </summary>
    public string? JournalRun { get; set; }

    /// <summary>The job's host budget: --host-memory is shared out over it (<see cref="MaintenanceSettings"/>).</summary>
    public int HostBudget { get; init; } = 1;

    /// <summary>
    /// How many of the session's fixed settings failed when it was opened (a newer archive's
    /// <c>SET transaction_timeout</c> on an older server): printed for every session, as pg_restore's workers
    /// print theirs, but counted only where pg_restore's leader counts its own (UnitExecutor).
    /// </summary>
    public int FixedSettingErrors { get; private set; }

    /// <summary>
    /// The units start no parallel workers (index builds, a foreign key's validation): their host's budget protects a
    /// live server (<c>--protect</c>), and parallel workers are processes on it that the budget does not count. Set
    /// per transaction (<c>SET LOCAL</c>), so nothing stays on the session.
    /// </summary>
    public bool NoParallelWorkers { get; set; }

    /// <summary>The pace of this session's COPYs (<c>--protect</c>); null: full speed.</summary>
    public CopyPace? Pace { get; init; }

    /// <summary>Retries made because a session was lost (for telemetry and tests).</summary>
    public int Retries { get; private set; }

    /// <summary>Optimistic attempts that failed and were run again carefully (for tests and telemetry).</summary>
    public int CarefulReruns { get; private set; }

    /// <summary>
    /// The units run as the archive's owners (--use-set-session-authorization) or as --role: the journal is
    /// then written as the login role, switching back and forth inside the unit's transaction.
    /// </summary>
    private bool SwitchesRoles => _options.UseSetSessionAuthorization || _options.Role is not null;

    /// <summary>Restores one entry as a unit; <paramref name="truncateFirst"/> for data of a table this run created.</summary>
    public UnitResult RunEntry(int unitId, TocEntry entry, bool truncateFirst, CancellationToken cancellation = default) =>
        RunBatch([new UnitWork(unitId, entry, UnitWorkKind.Entry, truncateFirst)], _ => { }, cancellation)[0];

    /// <summary>
    /// Runs units, in order, in one transaction if they all succeed; otherwise each in its own. Every unit
    /// that committed is passed to <paramref name="committed"/> as soon as it is in (an -e stop later in the
    /// batch leaves them done); the result lists them all.
    /// </summary>
    public IReadOnlyList<UnitResult> RunBatch(IReadOnlyList<UnitWork> units, Action<UnitResult> committed, CancellationToken cancellation = default)
    {
        try
        {
            // Cancelling (Ctrl-C, a lease that could not be renewed) stops the statement running now.
            using var stop = cancellation.Register(() => _sink?.Cancel());
            var tried = new HashSet<int>();
            if (units.Count > 1 && !units.Any(u => u.LoadsWithInserts) && Attempt(units, optimistic: true, tried, cancellation) is { } together)
            {
                for (int i = 0; i < together.Count; i++)
                {
                    together[i] = Validated(units[i], together[i], tried, cancellation);
                    committed(together[i]);
                }

                return together;
            }

            var results = new List<UnitResult>(units.Count);
            foreach (var unit in units)
            {
                var result = Validated(unit, Run(unit, tried, cancellation), tried, cancellation);
                committed(result);
                results.Add(result);
            }

            return results;
        }
        finally
        {
            // A session that was told to cancel sends nothing more: the next unit opens another.
            if (cancellation.IsCancellationRequested)
            {
                Close();
            }
        }
    }

    // One unit in a transaction of its own: optimistic first (but --inserts data), then carefully.
    private UnitResult Run(UnitWork unit, HashSet<int> tried, CancellationToken cancellation) =>
        ((unit.LoadsWithInserts ? null : Attempt([unit], optimistic: true, tried, cancellation)) ?? Attempt([unit], optimistic: false, tried, cancellation)!)[0];

    /// <summary>
    /// The journal ID of a foreign key's validation: the FK entry's dump ID + 2^30, the range of an entry's second step
    /// (<see cref="AnalyzeUnits.IdOf"/>). Apart from every entry's (its dump ID), drop's (negated), split table chunk's
    /// (<see cref="TableSplit.ChunkId"/>, below −2^30, where int.MinValue + ID would meet one: the chunk of dump ID 1, K = 2,
    /// i = 0 is int.MinValue + 72) and ANALYZE unit's (a table's or materialized view's dump ID + 2^30: never an FK entry's).
    /// </summary>
    public static int ValidationUnitId(int dumpId) => AnalyzeUnits.IdOf(dumpId);

    /// <summary>
    /// A foreign key added NOT VALID by its unit (<see cref="KeyPlan.ForeignKeyOf"/>) is validated next, in a
    /// transaction of its own with its own journal row, so the strong locks of the ADD are gone while the table
    /// is scanned, and a resume finds each step done once; its outcome joins the unit's. Nothing to validate
    /// when the ADD failed (pg_restore then has no constraint either).
    /// </summary>
    private UnitResult Validated(UnitWork unit, UnitResult added, HashSet<int> tried, CancellationToken cancellation)
    {
        if (unit.Kind != UnitWorkKind.Entry || added.Errors > 0 || Keys.ForeignKeyOf(unit.Entry.DumpId) is null)
        {
            return added;
        }

        var validated = Run(new UnitWork(ValidationUnitId(unit.Entry.DumpId), unit.Entry, UnitWorkKind.Validate, false), tried, cancellation);
        return added with
        {
            Errors = added.Errors + validated.Errors,
            ErrorMessages = [.. added.ErrorMessages, .. validated.ErrorMessages],
            AlreadyDone = added.AlreadyDone && validated.AlreadyDone,
            Ended = validated.Ended,
        };
    }

    /// <summary>Which constraints are restored in steps (the same plan as the coordinator's, from the same order).</summary>
    private KeyPlan Keys => _keys ??= KeyPlan.For(_order, !_options.NoKeysAsIndexes, !_options.NoFkNotValid);

    /// <summary>The entries -c drops, in the order pg_restore drops them.</summary>
    public IReadOnlyList<TocEntry> DropEntries()
    {
        _ = Sink;
        return _emitter!.DropOrder().ToList();
    }

    /// <summary>
    /// Runs journal control work (preparing, dropping) on this session as the login role, whatever role the
    /// units switched to; the units' role comes back with the next unit.
    /// </summary>
    public T AsLoginRole<T>(Func<NpgsqlConnection, T> work)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return AsLoginRoleOnce(work);
            }
            catch (Exception e) when (e is TransientRestoreException || (e is NpgsqlException n && DatabaseSink.IsTransient(n)))
            {
                // Journal work is idempotent: a lost session is reopened and the work done again.
                Close();
                if (attempt >= RetryBackoff.Default.MaxAttempts)
                {
                    throw new RestoreFailedException($"connection to the target failed: {e.Message}; gave up after {attempt} attempts", e);
                }

                Retries++;
                var delay = RetryBackoff.Default.DelayAfter(attempt);
                _reportError($"warning: session lost: {e.Message}; retrying in {delay.TotalMilliseconds:0} ms (attempt {attempt + 1} of {RetryBackoff.Default.MaxAttempts})");
                Thread.Sleep(delay);
            }
            catch (PostgresException e)
            {
                throw new RestoreFailedException($"{e.Severity}:  {e.MessageText}", e);
            }
        }
    }

    private T AsLoginRoleOnce<T>(Func<NpgsqlConnection, T> work)
    {
        var sink = Sink;
        if (SwitchesRoles)
        {
            Exec(sink.Connection, "SET SESSION AUTHORIZATION DEFAULT");
            Exec(sink.Connection, "RESET ROLE");
            _emitter!.ForgetSessionState();
        }

        try
        {
            return work(sink.Connection);
        }
        finally
        {
            if (_options.Role is not null && _emitter?.RoleStatement() is { } setRole && sink.Connection.FullState == System.Data.ConnectionState.Open)
            {
                Exec(sink.Connection, setRole);
            }
        }
    }

    public void Dispose() => Close();

    private DatabaseSink Sink
    {
        get
        {
            if (_sink is null)
            {
                var sink = new DatabaseSink(_connect, _database, _archive, _options.ExitOnError, _attemptErrors.Add) { Pace = Pace };
                // Verbose lines go with the attempt's errors: they are reported with its outcome, or not at all.
                var emitter = new RestoreEmitter(_archive, _order, _options, sink)
                {
                    UnitMode = true,
                    // The coordinator planned these keys' locks from the same order (CoordinatorGrain.Plan).
                    Keys = Keys,
                    DataRead = _dataRead,
                    Info = line => _attemptErrors.Add(VerboseMessages.Mark(line)),
                };
                _attemptErrors.Clear();
                try
                {
                    // As the login role, before the fixed settings (--role) change it: the journal is its alone.
                    if (JournalRun is { } run)
                    {
                        JoinJournal(sink.Connection, run);
                    }

                    sink.PipelineSessionSetup(emitter.SetFixedOutputState);
                    if (_maxLocks is null)
                    {
                        (_maxLocks, _walMinimal, _workMemKb) = ServerSettings(sink.Connection);
                    }
                }
                catch
                {
                    sink.Dispose();
                    throw;
                }

                // Errors of the session's fixed settings (a newer archive's SET on an older server) are printed here.
                FixedSettingErrors = sink.ErrorCount;
                foreach (string message in _attemptErrors)
                {
                    _reportError(message);
                }

                _attemptErrors.Clear();
                _sink = sink;
                _emitter = emitter;
            }

            return _sink;
        }
    }

    private void JoinJournal(NpgsqlConnection conn, string run)
    {
        try
        {
            _journal.Join(conn, run, _targetLabel, asyncCommit: !_options.NoAsyncCommit);
        }
        catch (NpgsqlException e) when (DatabaseSink.IsTransient(e))
        {
            throw new TransientRestoreException($"session lost: {e.Message}", e);
        }
        catch (PostgresException e)
        {
            throw new RestoreFailedException($"could not join the journal in {_targetLabel}: {e.Severity}:  {e.MessageText}", e);
        }
    }

    // PostgreSQL's default maintenance_work_mem: 64 MB.
    private const long DefaultWorkMemKb = 64 * 1024;

    /// <summary>The server's max_locks_per_transaction (what one transaction of many units may lock), once a session has read it.</summary>
    public int? MaxLocksPerTransaction => _maxLocks;

    // max_locks_per_transaction, whether wal_level is minimal (the one level where a COPY into a table
    // truncated in its own transaction writes no WAL), and maintenance_work_mem in kB.
    private static (int MaxLocks, bool WalMinimal, long WorkMemKb) ServerSettings(NpgsqlConnection conn)
    {
        try
        {
            using var cmd = new NpgsqlCommand(
                "SELECT pg_catalog.current_setting('max_locks_per_transaction')::integer, pg_catalog.current_setting('wal_level') = 'minimal', " +
                "(SELECT setting::bigint FROM pg_catalog.pg_settings WHERE name = 'maintenance_work_mem')", conn);
            using var r = cmd.ExecuteReader();
            r.Read();
            return (r.GetInt32(0), r.GetBoolean(1), r.IsDBNull(2) ? DefaultWorkMemKb : r.GetInt64(2));
        }
        catch (NpgsqlException e) when (!DatabaseSink.IsTransient(e))
        {
            // Not readable here: PostgreSQL's defaults.
            return (64, false, DefaultWorkMemKb);
        }
        catch (NpgsqlException e)
        {
            throw new TransientRestoreException($"session lost: {e.Message}", e);
        }
    }

    /// <summary>
    /// One attempt at <paramref name="units"/> in one transaction, retried on lost sessions. Null when an
    /// optimistic attempt failed (rolled back: nothing of it stays but dead rows). <paramref name="tried"/>
    /// holds the units whose statements an earlier attempt sent.
    /// </summary>
    private List<UnitResult>? Attempt(IReadOnlyList<UnitWork> units, bool optimistic, HashSet<int> tried, CancellationToken cancellation)
    {
        var ids = units.Select(u => u.UnitId).ToList();
        for (int attempt = 1; ; attempt++)
        {
            cancellation.ThrowIfCancellationRequested();
            // Each attempt reads the entry's data from its start again: so does its live count.
            _dataRead?.Reset();
            _attemptErrors.Clear();
            try
            {
                var sink = Sink;
                var emitter = _emitter!;
                if (SwitchesRoles)
                {
                    emitter.ForgetSessionState();
                }

                sink.UnfinishedUnitSql = [.. UnfinishedValidationSql(units), .. LoginRoleSql(), _journal.ForgetSql([.. ids, .. ValidatedEntryIds(units)])];
                sink.BeginUnit([.. AsyncCommitSql(), .. MaintenanceSql(units), .. NoParallelWorkersSql(), .. LoginRoleSql(), _journal.StartSql(ids), .. UnitRoleSql()], optimistic);
                var results = new List<UnitResult>(units.Count);
                foreach (var unit in units)
                {
                    var started = DateTimeOffset.UtcNow;
                    long readBefore = _dataRead?.Bytes ?? 0;
                    int errorsBefore = sink.ErrorCount;
                    int messagesBefore = _attemptErrors.Count;
                    long bytesBefore = sink.CopyBytes;
                    long rowsBefore = sink.CopyRows;
                    emitter.CreatedTables.Clear();
                    emitter.InhibitedData.Clear();
                    if (unit.Announcement is not null && _options.Verbose)
                    {
                        _attemptErrors.Add(VerboseMessages.Mark(unit.Announcement));
                    }

                    if (unit.Kind == UnitWorkKind.Drop)
                    {
                        emitter.DropEntry(unit.Entry);
                    }
                    else if (unit.Kind == UnitWorkKind.Validate)
                    {
                        emitter.ValidateForeignKey(unit.Entry);
                    }
                    else if (unit.Kind == UnitWorkKind.SplitEnd)
                    {
                        // The end of a split table's load (or a chunk with nothing to load): a chunk failed in a table
                        // this run created, so none of the archive's rows stay, as after pg_restore's one failed COPY.
                        if (unit.TruncateFirst)
                        {
                            sink.CurrentEntry = unit.Entry;
                            sink.Sql(new SqlBuffer().Add("TRUNCATE TABLE ONLY ").QualifiedId(unit.Entry.GetRaw(TocField.Namespace), unit.Entry.GetRaw(TocField.Tag) ?? []).Add(";").ToArray());
                        }
                    }
                    else if (unit.Kind == UnitWorkKind.Analyze)
                    {
                        // --analyze: its errors name the relation's entry.
                        sink.CurrentEntry = unit.Entry;
                        sink.Sql(_archive.Encoding.Encoding.GetBytes(AnalyzeSql.Relation(unit.Entry)));
                    }
                    else
                    {
                        // pg_restore -j truncates a table this run created before its COPY (wal_level minimal then
                        // skips WAL). Elsewhere the TRUNCATE only costs (a new file per table, about 1.4 ms):
                        // it is left out where nothing can be in the table yet, and kept for every later run,
                        // whose COPY would otherwise load beside the rolled-back rows (docs/restore.md). A table of
                        // at least CopyFreeze.MinBytes is truncated on its first run too, so that its COPY may FREEZE.
                        // A chunk of a split table never truncates (it would take away the other chunks' rows), so
                        // it loads without FREEZE; each attempt filters the stream from its start again.
                        bool rerun = !tried.Add(unit.UnitId);
                        bool freeze = !_options.NoCopyFreeze && unit.Entry.DataLength >= CopyFreeze.MinBytes;
                        emitter.Chunk = unit.Chunk is { } chunk ? new CopyChunkFilter(chunk.Index, chunk.Count, unit.ChunkBlockBytes) : null;
                        try
                        {
                            emitter.RestoreEntry(unit.Entry, unit.Chunk is null && unit.TruncateFirst && (_walMinimal || !unit.FirstRun || rerun || freeze));
                        }
                        finally
                        {
                            emitter.Chunk = null;
                        }
                    }

                    results.Add(new UnitResult(
                        unit.UnitId, sink.ErrorCount - errorsBefore, [.. emitter.CreatedTables], [.. emitter.InhibitedData],
                        sink.CopyBytes - bytesBefore, sink.CopyRows - rowsBefore, AlreadyDone: false,
                        _attemptErrors.GetRange(messagesBefore, _attemptErrors.Count - messagesBefore))
                    {
                        Started = started,
                        Ended = DateTimeOffset.UtcNow,
                        BytesRead = (_dataRead?.Bytes ?? 0) - readBefore,
                    });
                }

                var outcome = results.Where(r => r.Errors > 0 || r.CreatedTables.Count > 0 || r.InhibitedData.Count > 0).ToList();
                bool switchBack = outcome.Count > 0 && SwitchesRoles;
                sink.CommitUnit([.. switchBack ? LoginRoleSql() : [], .. outcome.Select(_journal.OutcomeSql)]);
                if (switchBack)
                {
                    emitter.ForgetSessionState();
                }

                // The messages travel with the results: nothing of a failed attempt is reported.
                _attemptErrors.Clear();
                return results;
            }
            catch (UnitAlreadyDoneException)
            {
                // Another run of this unit committed first (a lapsed lease, a lost COMMIT acknowledgement, the run
                // a --resume continues): report what the journal says that run did.
                _emitter?.ForgetSessionState();
                var now = DateTimeOffset.UtcNow;
                return [AsLoginRole(conn => _journal.ReadOutcome(conn, ids[0])) with { Started = now, Ended = now }];
            }
            catch (Exception) when (cancellation.IsCancellationRequested)
            {
                // Whatever the cancelled statement raised: nothing of this attempt is kept.
                Close();
                throw new OperationCanceledException(cancellation);
            }
            catch (OptimisticUnitFailedException) when (optimistic)
            {
                _sink?.AbortUnit();
                _emitter?.ForgetSessionState();
                CarefulReruns++;
                return null;
            }
            catch (RestoreFailedException)
            {
                // -e or a fatal error: what the attempt reported is part of the failure.
                _attemptErrors.ForEach(_reportError);
                _attemptErrors.Clear();
                throw;
            }
            catch (TransientRestoreException e) when (attempt < RetryBackoff.Default.MaxAttempts)
            {
                // The transaction died with the session: nothing of this attempt was committed.
                Close();
                Retries++;
                RestoreInstruments.Retries.Add(1);
                var delay = RetryBackoff.Default.DelayAfter(attempt);
                _reportError($"warning: {e.Message}; retrying in {delay.TotalMilliseconds:0} ms (attempt {attempt + 1} of {RetryBackoff.Default.MaxAttempts})");
                cancellation.WaitHandle.WaitOne(delay);
            }
            catch (TransientRestoreException e)
            {
                Close();
                throw new RestoreFailedException($"{e.Message}; gave up after {RetryBackoff.Default.MaxAttempts} attempts", e);
            }
        }
    }

    // -e stops at a failed validation with the work before it committed, as pg_restore stops after its failed ADD
    // CONSTRAINT, which leaves no constraint: so the constraint added NOT VALID goes, and with it the journal row of
    // its ADD, so that --resume runs both steps again.
    private IEnumerable<NpgsqlBatchCommand> UnfinishedValidationSql(IReadOnlyList<UnitWork> units) =>
        units.Where(u => u.Kind == UnitWorkKind.Validate && Keys.ForeignKeyOf(u.Entry.DumpId) is not null)
            .Select(u => new NpgsqlBatchCommand(Keys.ForeignKeyOf(u.Entry.DumpId)!.Drop));

    private static IEnumerable<int> ValidatedEntryIds(IReadOnlyList<UnitWork> units) =>
        units.Where(u => u.Kind == UnitWorkKind.Validate).Select(u => u.Entry.DumpId);

    // A unit's COMMIT does not wait for the disk: its journal row commits with its work, so a crash loses both
    // or neither, and the run stops at the next session it opens (RestoreJournal.Join) for --resume to redo the
    // lost units. The final drop of the journal runs outside units, with the server's setting (docs/restore.md).
    private List<NpgsqlBatchCommand> AsyncCommitSql() => _options.NoAsyncCommit || JournalRun is null
        ? []
        : [new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off")];

    // --host-memory: the settings of the batch's first unit that builds an index, for the whole transaction (SET LOCAL:
    // nothing outlives it, a rollback to a savepoint keeps them). Units that build none get none.
    private List<NpgsqlBatchCommand> MaintenanceSql(IReadOnlyList<UnitWork> units) =>
        units.Where(u => u.Kind == UnitWorkKind.Entry)
            .Select(u => MaintenanceSettings.For(u.Entry.Desc, _options.HostMemory, HostBudget, u.SpareSessions, _workMemKb))
            .FirstOrDefault(m => m is not null) is { } settings
            ? settings.Sql().Select(sql => new NpgsqlBatchCommand(sql)).ToList()
            : [];

    // After --host-memory's settings: a protecting budget's units start no parallel workers, whatever their share.
    private List<NpgsqlBatchCommand> NoParallelWorkersSql() => NoParallelWorkers
        ? [new NpgsqlBatchCommand("SET LOCAL max_parallel_maintenance_workers = 0"), new NpgsqlBatchCommand("SET LOCAL max_parallel_workers_per_gather = 0")]
        : [];

    // Back to the login role inside the unit's transaction, for the journal (nobody else may write it).
    private List<NpgsqlBatchCommand> LoginRoleSql() => SwitchesRoles
        ? [new NpgsqlBatchCommand("SET SESSION AUTHORIZATION DEFAULT"), new NpgsqlBatchCommand("RESET ROLE")]
        : [];

    // And back to --role for the unit's own statements (the archive's owners come back through the emitter).
    private List<NpgsqlBatchCommand> UnitRoleSql() => _options.Role is not null && _emitter?.RoleStatement() is { } setRole
        ? [new NpgsqlBatchCommand(setRole)]
        : [];

    private static void Exec(NpgsqlConnection conn, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, conn);
        cmd.ExecuteNonQuery();
    }

    private void Close()
    {
        _sink?.Dispose();
        _sink = null;
        _emitter = null;
    }
}

/// <summary>
/// What a unit is: restore an entry, the -c DROP of one, the validation of a foreign key added NOT VALID, or
/// --analyze's ANALYZE of a relation (the entry).
/// </summary>
public enum UnitWorkKind
{
    Entry,
    Drop,
    Validate,
    Analyze,

    /// <summary>
    /// The end of a split table's load (<see cref="TableSplit.EndId"/>): with <see cref="UnitWork.TruncateFirst"/>
    /// (a chunk failed in a table this run created) its TRUNCATE, else nothing; also a chunk that loads nothing.
    /// </summary>
    SplitEnd,
}

/// <summary>
/// One unit to run: its journal ID (the dump ID, negated for drops, <see cref="UnitSession.ValidationUnitId"/> for
/// validations), the entry, what to do; with -v, the line
/// that goes before what the entry prints (pg_restore -j's "processing item" of the leader's serial entries).
/// </summary>
public sealed record UnitWork(int UnitId, TocEntry Entry, UnitWorkKind Kind, bool TruncateFirst, string? Announcement = null)
{
    /// <summary>
    /// No earlier run of this unit can have left rows in its table (its first lease in a job that resumes
    /// nothing): the TRUNCATE before its data is then left out, unless wal_level is minimal, where it lets
    /// the COPY skip WAL as in pg_restore -j. A run after another in this session (a lost session, a batch
    /// that fell back to one transaction per unit) truncates whatever this says.
    /// </summary>
    public bool FirstRun { get; init; }

    /// <summary>The job's host budget less its units leased when this one was (--host-memory's parallel workers).</summary>
    public int SpareSessions { get; init; }

    /// <summary>
    /// The chunk of a split table's data this unit loads (<see cref="TableSplit"/>; its <see cref="UnitId"/> is then the
    /// chunk ID), with the chunk filter's block size; null: the entry's whole data.
    /// </summary>
    public TableChunk? Chunk { get; init; }

    public int ChunkBlockBytes { get; init; } = TableSplit.MaxBlockBytes;

    /// <summary>
    /// Table data of a --inserts dump. It always runs carefully (a savepoint per INSERT, as pg_restore's own
    /// transaction per INSERT): an optimistic attempt that failed would leave its rolled-back rows behind as
    /// dead tuples, and the rows loaded again would then sit in another physical order than pg_restore's,
    /// which pg_dump shows (docs/concurrency.md).
    /// </summary>
    public bool LoadsWithInserts => Kind == UnitWorkKind.Entry && Entry.HadDumper && Entry.Desc == "TABLE DATA" && Entry.CopyStmt is not { Length: > 0 };
}

/// <summary>
/// What one unit did: errors counted (and their messages, with its -v lines among them, marked as
/// <see cref="VerboseMessages"/> says), tables created, TABLE DATA entries switched off, data sent;
/// <see cref="AlreadyDone"/> when the journal showed another run of it had committed.
/// </summary>
public sealed record UnitResult(
    int UnitId, int Errors, IReadOnlyList<int> CreatedTables, IReadOnlyList<int> InhibitedData, long Bytes, long Rows,
    bool AlreadyDone, IReadOnlyList<string> ErrorMessages)
{
    /// <summary>When the committed attempt started and finished this unit (inside its batch).</summary>
    public DateTimeOffset Started { get; init; }

    public DateTimeOffset Ended { get; init; }

    /// <summary>Archive bytes (before decompression) this unit's data read, when they are counted.</summary>
    public long BytesRead { get; init; }
}
