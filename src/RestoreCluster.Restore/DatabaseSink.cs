using System.Text;
using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>
/// Runs the emitted restore in a live session over Npgsql. Each piece of SQL pg_restore would send as one
/// query runs as one batch (one implicit transaction); COPY data is streamed verbatim; large objects are
/// written with lo_open/lowrite/lo_close inside a transaction. Errors are reported as pg_restore reports
/// them — counted, or fatal — each naming the TOC entry and the server's message.
/// </summary>
internal sealed partial class DatabaseSink : ISqlSink, IDisposable
{
    // Large objects go to lowrite in pieces of this size (the result does not depend on it).
    private const int LargeObjectChunk = 1 << 20;

    // Pipelined statements are sent once this many wait (memory stays bounded for --inserts data).
    private const int PipelineCommands = 1000;
    private const long PipelineChars = 4 << 20;

    // --inserts data is read and split in pieces of about this size.
    private const int StatementChunk = 1 << 20;

    private readonly Func<string, NpgsqlConnection> _connect;
    private readonly ArchiveEncoding _encoding;
    private readonly bool _exitOnError;
    private readonly Action<string> _reportError;
    private readonly bool _stdStrings;
    private NpgsqlConnection _conn;
    private CopyTerminatorFilter? _copy;
    private CopyChunkFilter? _chunk;
    private Stream? _copyStream;
    private TextWriter? _copyWriter;
    private string? _copyStatement;
    private Exception? _copyError;
    private bool _inUnit;
    private bool _optimistic;
    private readonly List<NpgsqlBatchCommand> _pending = [];
    private volatile NpgsqlBatch? _running;
    private volatile bool _cancelled;
    private readonly Func<bool> _isCancelled;
    private bool _settingUp;
    private long _pendingChars;

    /// <param name="connect">Opens a session on the named database (null: the target's own).</param>
    public DatabaseSink(Func<string, NpgsqlConnection> connect, string database, PgArchive archive, bool exitOnError, Action<string> reportError)
    {
        _connect = connect;
        _encoding = archive.Encoding;
        _stdStrings = archive.StandardConformingStrings;
        _exitOnError = exitOnError;
        _reportError = reportError;
        // Once, not per block of COPY data: the pace's rests ask it between their slices.
        _isCancelled = () => _cancelled;
        _conn = Open(database);
    }

    public bool IsDatabase => true;

    public TocEntry? CurrentEntry { get; set; }

    public TocEntry? LastErrorEntry { get; private set; }

    /// <summary>Table data bytes and rows sent with COPY so far.</summary>
    public long CopyBytes { get; private set; }

    public long CopyRows { get; private set; }

    /// <summary>The pace COPY data is sent at (<c>--protect</c>); null: full speed.</summary>
    public CopyPace? Pace { get; set; }

    /// <summary>Errors counted so far (pg_restore's n_errors).</summary>
    public int ErrorCount { get; private set; }

    public void Sql(byte[] text, SqlFailure onFailure = SqlFailure.Count, IReadOnlyList<string>? instead = null)
    {
        string sql = _encoding.Encoding.GetString(text);
        // Statements sent in the place of the text still fail as the text would: one query, one error, which
        // names the text as pg_restore's "Command was:" does.
        var statements = instead ?? SqlStatementSplitter.Split(sql, _stdStrings);
        if (_optimistic)
        {
            Pipeline(statements);
            return;
        }

        Run(sql, statements, onFailure);
    }

    // ExecuteSimpleCommands: pg_restore runs each INSERT of a --inserts dump by itself. The data is read in
    // pieces cut at line ends (a newline byte is never part of a multi-byte character in a client encoding);
    // what follows the last complete statement of a piece goes in front of the next one.
    public void Statements(Stream data)
    {
        var buffer = new byte[StatementChunk];
        int held = 0;
        string carry = "";
        while (true)
        {
            int n = data.Read(buffer, held, buffer.Length - held);
            held += n;
            bool end = n == 0;
            int cut = end ? held : Array.LastIndexOf(buffer, (byte)'\n', held - 1, held) + 1;
            if (cut == 0 && held == buffer.Length)
            {
                // A line longer than the buffer: grow it.
                Array.Resize(ref buffer, buffer.Length * 2);
                continue;
            }

            if (cut > 0)
            {
                string text = carry + _encoding.Encoding.GetString(buffer, 0, cut);
                int consumed = text.Length;
                var statements = end
                    ? SqlStatementSplitter.Split(text, _stdStrings)
                    : SqlStatementSplitter.SplitComplete(text, _stdStrings, out consumed);
                carry = text[consumed..];
                RunStatements(statements);
                Buffer.BlockCopy(buffer, cut, buffer, 0, held - cut);
                held -= cut;
            }

            if (end)
            {
                return;
            }
        }
    }

    private void RunStatements(IReadOnlyList<string> statements)
    {
        if (_optimistic)
        {
            // No savepoint per INSERT: if one fails, the unit runs again statement by statement under savepoints.
            Pipeline(statements);
            return;
        }

        foreach (string statement in statements)
        {
            Run(statement, [statement], SqlFailure.Count);
        }
    }

    /// <summary>
    /// Optimistic unit mode: statements wait in the pipeline and go out with the next COPY, large object or
    /// COMMIT (or once the pipeline is large), so a unit of DDL costs one round trip. No savepoints: a
    /// failure anywhere aborts the whole attempt (<see cref="OptimisticUnitFailedException"/>), and the unit
    /// is run again in careful mode, where each query has pg_restore's own outcome and errors are counted.
    /// </summary>
    private void Pipeline(IReadOnlyList<string> statements)
    {
        foreach (string statement in statements)
        {
            _pending.Add(new NpgsqlBatchCommand(statement));
            _pendingChars += statement.Length;
        }

        if (_pending.Count >= PipelineCommands || _pendingChars >= PipelineChars)
        {
            FlushPending();
        }
    }

    /// <summary>Sends the pipelined statements and waits for their results.</summary>
    private void FlushPending()
    {
        ThrowIfCancelled();
        if (_pending.Count == 0)
        {
            return;
        }

        using var batch = new NpgsqlBatch(_conn);
        foreach (var command in _pending)
        {
            batch.BatchCommands.Add(command);
        }

        _pending.Clear();
        _pendingChars = 0;
        try
        {
            _running = batch;
            batch.ExecuteNonQuery();
        }
        catch (PostgresException e) when (!IsTransient(e))
        {
            throw Optimistic(e);
        }
        catch (NpgsqlException e)
        {
            throw Lost(e);
        }
        catch (InvalidOperationException e) when (IsLost)
        {
            throw Lost(new NpgsqlException($"the connection was lost: {e.Message}", e));
        }
        finally
        {
            _running = null;
        }
    }

    /// <summary>
    /// Asks the server to cancel what this session runs now (from another thread), and makes every later
    /// statement of this session stop before it is sent. The caller then abandons the unit; its transaction
    /// is rolled back with the session. The cancel goes through the server (pg_cancel_backend from a short
    /// session of the same login role), because a COPY waiting inside the server (for a lock, say) reads
    /// nothing from the client: Npgsql's own cancel of an import (CopyFail) waits for that wait to end.
    /// </summary>
    public void Cancel()
    {
        _cancelled = true;
        try
        {
            int pid = _conn.ProcessID;
            using var canceller = _connect(_conn.Database);
            using var cmd = new NpgsqlCommand("SELECT pg_catalog.pg_cancel_backend($1)", canceller);
            cmd.Parameters.Add(new NpgsqlParameter { Value = pid });
            cmd.ExecuteNonQuery();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ObjectDisposedException or IOException or RestoreFailedException)
        {
            // The session or the server is gone already: nothing runs there to cancel.
        }
    }

    // After Cancel, nothing more is sent: whatever the unit was about to run stops here.
    private void ThrowIfCancelled()
    {
        if (_cancelled)
        {
            throw new OperationCanceledException("the unit was cancelled");
        }
    }

    // A failed statement inside an optimistic attempt: the attempt is void, the unit will run again carefully.
    private OptimisticUnitFailedException Optimistic(PostgresException e)
    {
        _optimistic = false;
        _pending.Clear();
        _pendingChars = 0;
        return new OptimisticUnitFailedException(e);
    }

    // One query of pg_restore's: its statements as one batch, so they share one implicit transaction.
    private void Run(string sql, IReadOnlyList<string> statements, SqlFailure onFailure)
    {
        ThrowIfCancelled();
        if (statements.Count == 0)
        {
            return;
        }

        try
        {
            using var batch = new NpgsqlBatch(_conn);
            if (_inUnit)
            {
                // Inside a unit's transaction a savepoint gives each query pg_restore's own-transaction outcome.
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SAVEPOINT restorecluster_query"));
            }

            foreach (string statement in statements)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(statement));
            }

            if (_inUnit)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("RELEASE SAVEPOINT restorecluster_query"));
            }

            _running = batch;
            batch.ExecuteNonQuery();
            _running = null;
        }
        catch (PostgresException e) when (!IsTransient(e))
        {
            RollBackQuery();
            Failed(onFailure, $"could not execute query: {Describe(e)}; command was: {Shorten(sql)}", e);
        }
        catch (NpgsqlException e)
        {
            throw Lost(e);
        }
    }

    /// <summary>
    /// Starts a COPY. With <paramref name="freeze"/> (the table was truncated earlier in this transaction) and no
    /// savepoint between the two (optimistic mode: in careful mode each query has its own subtransaction, and
    /// PostgreSQL allows FREEZE only in the subtransaction that created or truncated the table), the rows are
    /// written frozen (<c>COPY ... WITH (FREEZE)</c>), which spares the table its first VACUUM's freezing pass.
    /// With <paramref name="chunk"/>, only the rows of that chunk of a split table are sent.
    /// </summary>
    public void BeginCopy(byte[] copyStatement, bool freeze = false, CopyChunkFilter? chunk = null)
    {
        ThrowIfCancelled();
        _copyStatement = _encoding.Encoding.GetString(copyStatement);
        if (freeze && _optimistic && CopyFreeze.With(_copyStatement) is { } frozen)
        {
            _copyStatement = frozen;
        }

        _copy = new CopyTerminatorFilter();
        _chunk = chunk;
        _copyError = null;
        Pace?.Start();
        if (_optimistic)
        {
            FlushPending();
            try
            {
                _copyWriter = _conn.BeginTextImport(_copyStatement);
                _copyStream = ((StreamWriter)_copyWriter).BaseStream;
                return;
            }
            catch (PostgresException e) when (!IsTransient(e))
            {
                _copyWriter = null;
                _copyStream = null;
                throw Optimistic(e);
            }
            catch (NpgsqlException e)
            {
                throw Lost(e);
            }
        }

        try
        {
            if (_inUnit)
            {
                Exec("SAVEPOINT restorecluster_query");
            }

            _copyWriter = _conn.BeginTextImport(_copyStatement);
            _copyStream = ((StreamWriter)_copyWriter).BaseStream;
        }
        catch (PostgresException e) when (!IsTransient(e))
        {
            RollBackQuery();
            // The COPY itself failed (its table is missing, say): its data is skipped.
            _copyWriter = null;
            _copyStream = null;
            Failed(SqlFailure.Count, $"could not execute query: {Describe(e)}; command was: {Shorten(_copyStatement)}", e);
        }
        catch (NpgsqlException e)
        {
            throw Lost(e);
        }
    }

    public void CopyData(ReadOnlySpan<byte> data)
    {
        ThrowIfCancelled();
        if (_copyStream is null || _copy is null)
        {
            return;
        }

        try
        {
            if (_chunk is { } chunk)
            {
                // A chunk counts the bytes of its own rows: a split table's bytes add up over its chunks.
                long before = chunk.Bytes;
                chunk.Write(data, _copyStream);
                CopyBytes += chunk.Bytes - before;
            }
            else
            {
                _copy.Write(data, _copyStream);
                CopyBytes += data.Length;
            }

            Pace?.Sent(_isCancelled);
        }
        catch (Exception e) when (e is NpgsqlException or IOException)
        {
            // The server may end the COPY early on bad data; the error comes when the COPY is finished. Or
            // the session is gone: then finishing the COPY says nothing, and EndCopy reports this error.
            _copyStream = null;
            _copyError = e;
        }
    }

    public void EndCopy(string table)
    {
        var writer = _copyWriter;
        CopyRows += _chunk?.Rows ?? _copy?.Rows ?? 0;
        _chunk = null;
        _copyWriter = null;
        _copyStream = null;
        if (writer is null)
        {
            return;
        }

        var copyError = _copyError;
        _copyError = null;
        try
        {
            writer.Dispose();
            if (IsLost)
            {
                throw new NpgsqlException($"the connection was lost during COPY: {copyError?.Message}", copyError);
            }

            if (_inUnit && !_optimistic)
            {
                Exec("RELEASE SAVEPOINT restorecluster_query");
            }
        }
        catch (PostgresException e) when (!IsTransient(e) && _optimistic)
        {
            throw Optimistic(e);
        }
        catch (PostgresException e) when (!IsTransient(e))
        {
            RollBackQuery();
            Failed(SqlFailure.Count, $"COPY failed for table \"{table}\": {Describe(e)}", e);
        }
        catch (NpgsqlException e)
        {
            throw Lost(e);
        }
    }

    public void ScriptOnly(byte[] text)
    {
    }

    public void LargeObjects(IEnumerable<LargeObjectData> objects, bool ownTransaction, bool standardConformingStrings)
    {
        ThrowIfCancelled();
        ownTransaction &= !_inUnit;
        if (_optimistic)
        {
            FlushPending();
        }

        try
        {
            if (ownTransaction)
            {
                Exec("BEGIN");
            }

            var chunk = new byte[LargeObjectChunk];
            foreach (var lo in objects)
            {
                int fd;
                using (var open = new NpgsqlCommand("SELECT pg_catalog.lo_open($1, 131072)", _conn))
                {
                    open.Parameters.Add(new NpgsqlParameter { Value = lo.Oid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
                    fd = (int)open.ExecuteScalar()!;
                }

                int n;
                while ((n = ScriptSink.Fill(lo.Data, chunk)) > 0)
                {
                    using var write = new NpgsqlCommand("SELECT pg_catalog.lowrite($1, $2)", _conn);
                    write.Parameters.Add(new NpgsqlParameter { Value = fd });
                    write.Parameters.Add(new NpgsqlParameter { Value = new ReadOnlyMemory<byte>(chunk, 0, n), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
                    write.ExecuteNonQuery();
                }

                using var close = new NpgsqlCommand("SELECT pg_catalog.lo_close($1)", _conn);
                close.Parameters.Add(new NpgsqlParameter { Value = fd });
                close.ExecuteNonQuery();
            }

            if (ownTransaction)
            {
                Exec("COMMIT");
            }
        }
        catch (PostgresException e) when (!IsTransient(e) && _optimistic)
        {
            throw Optimistic(e);
        }
        catch (PostgresException e) when (!IsTransient(e))
        {
            // lo_open and lo_write failures end pg_restore.
            throw Fatal($"could not restore large objects: {Describe(e)}", e);
        }
        catch (NpgsqlException e)
        {
            throw Lost(e);
        }
    }

    public void Reconnect(byte[] database)
    {
        string name = _encoding.Encoding.GetString(database);
        _conn.Dispose();
        _conn = Open(name);
    }

    /// <summary>
    /// Starts the transaction of one or more units: BEGIN, then <paramref name="prologue"/> (the journal
    /// rows, written first so that a second copy of a unit waits for this one or stops at once).
    /// <paramref name="optimistic"/>: statements are pipelined without savepoints (see <see cref="Pipeline"/>);
    /// otherwise the prologue runs now, and each later query gets a savepoint and pg_restore's outcome.
    /// </summary>
    public void BeginUnit(IReadOnlyList<NpgsqlBatchCommand> prologue, bool optimistic)
    {
        _inUnit = true;
        _optimistic = true;
        _pending.Clear();
        _pendingChars = 0;
        _pending.Add(new NpgsqlBatchCommand("BEGIN"));
        _pending.AddRange(prologue);
        if (!optimistic)
        {
            // A session lost while idle between units is found here: that too is retryable within the unit.
            try
            {
                FlushPending();
            }
            catch (OptimisticUnitFailedException e) when (e.Failure.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                Guard(() => Exec("ROLLBACK"));
                _inUnit = false;
                throw new UnitAlreadyDoneException(e.Failure);
            }
            catch (OptimisticUnitFailedException e)
            {
                Guard(() => Exec("ROLLBACK"));
                _inUnit = false;
                throw Fatal($"could not write the journal: {Describe(e.Failure)}", e.Failure);
            }
        }

        _optimistic = optimistic;
    }

    /// <summary>
    /// Ends the unit's transaction: <paramref name="epilogue"/> (the journal's record of the outcome), then
    /// COMMIT, everything still pipelined going out with it in one round trip.
    /// </summary>
    public void CommitUnit(IReadOnlyList<NpgsqlBatchCommand> epilogue)
    {
        ThrowIfCancelled();
        bool optimistic = _optimistic;
        _optimistic = true;
        _pending.AddRange(epilogue);
        _pending.Add(new NpgsqlBatchCommand("COMMIT"));
        try
        {
            FlushPending();
        }
        catch (OptimisticUnitFailedException) when (optimistic)
        {
            throw;
        }
        catch (OptimisticUnitFailedException e)
        {
            // A deferred constraint, or the journal: nothing of the unit is kept.
            AbortUnit();
            throw Fatal($"could not commit: {Describe(e.Failure)}", e.Failure);
        }
        finally
        {
            _optimistic = false;
        }

        _inUnit = false;
    }

    /// <summary>Rolls the unit's transaction back (after a failed optimistic attempt): nothing of it stays.</summary>
    public void AbortUnit()
    {
        _pending.Clear();
        _pendingChars = 0;
        _optimistic = false;
        _copyWriter = null;
        _copyStream = null;
        if (_inUnit && !IsLost)
        {
            _inUnit = false;
            Guard(() => Exec("ROLLBACK"));
        }

        _inUnit = false;
    }

    /// <summary>What an -e stop inside a unit runs before it commits the work done so far (journal rows out).</summary>
    public IReadOnlyList<NpgsqlBatchCommand> UnfinishedUnitSql { get; set; } = [];

    /// <summary>
    /// The session's fixed settings, pipelined in one round trip; if one fails (a newer archive's SET on an
    /// older server), they all run again one by one, so the failure is counted as pg_restore counts it.
    /// </summary>
    public void PipelineSessionSetup(Action setup)
    {
        _optimistic = true;
        _settingUp = true;
        try
        {
            setup();
            FlushPending();
        }
        catch (OptimisticUnitFailedException)
        {
            // The settings were one implicit transaction: none of them holds now.
            _optimistic = false;
            setup();
        }
        finally
        {
            _optimistic = false;
            _settingUp = false;
        }
    }

    /// <summary>Runs control SQL (the journal) on this session.</summary>
    public NpgsqlConnection Connection => _conn;

    public void Dispose()
    {
        try
        {
            _copyWriter?.Dispose();
        }
        catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException)
        {
            // The session goes anyway; a half-sent COPY is the server's to discard.
        }

        _conn.Dispose();
    }

    // ConnectDatabase: every session first gets a secure search_path (ALWAYS_SECURE_SEARCH_PATH_SQL).
    private NpgsqlConnection Open(string database)
    {
        var conn = _connect(database);
        using var cmd = new NpgsqlCommand("SELECT pg_catalog.set_config('search_path', '', false)", conn);
        cmd.ExecuteNonQuery();
        return conn;
    }

    private void Exec(string sql)
    {
        using var cmd = new NpgsqlCommand(sql, _conn);
        cmd.ExecuteNonQuery();
    }

    // After a failed query inside a unit, undo just that query; the unit goes on, as pg_restore's next query would.
    private void RollBackQuery()
    {
        if (_inUnit)
        {
            Guard(() => Exec("ROLLBACK TO SAVEPOINT restorecluster_query"));
        }
    }

    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (NpgsqlException e)
        {
            throw Lost(e);
        }
        catch (InvalidOperationException e) when (IsLost)
        {
            // Npgsql refuses commands on a connection it already knows is broken.
            throw Lost(new NpgsqlException($"the connection was lost: {e.Message}", e));
        }
    }

    /// <summary>The session's connection is closed or broken (its backend was terminated, say).</summary>
    private bool IsLost => _conn.FullState == System.Data.ConnectionState.Closed || _conn.FullState.HasFlag(System.Data.ConnectionState.Broken);

    /// <summary>
    /// A session lost to the server (terminated backend, restart, broken connection) or a transaction the
    /// server gave up (deadlock, serialization): retryable inside a unit, fatal in a serial restore.
    /// </summary>
    private Exception Lost(NpgsqlException e) =>
        (_inUnit || _settingUp) && IsTransient(e)
            ? new TransientRestoreException($"{EntryText()}session lost: {e.Message}", e)
            : Fatal($"connection to the target failed: {e.Message}", e);

    internal static bool IsTransient(NpgsqlException e) => e switch
    {
        PostgresException pe => pe.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pe.SqlState is "57P01" or "57P02" or "57P03" or "40001" or "40P01" or "53300",
        _ => true,
    };

    private void Failed(SqlFailure kind, string message, Exception e)
    {
        // A statement cancelled by Cancel is not the archive's error: it is neither counted nor, with -e,
        // a reason to commit the unit's work so far.
        ThrowIfCancelled();
        LastErrorEntry = CurrentEntry;
        string full = $"{EntryText()}{message}";
        if (kind == SqlFailure.Fatal || _exitOnError)
        {
            // pg_restore stops here with everything before this query already committed: so do we.
            if (_inUnit)
            {
                // The unit did not finish: its journal rows go, so a --resume runs it again.
                _inUnit = false;
                Guard(() =>
                {
                    using var batch = new NpgsqlBatch(_conn);
                    foreach (var command in UnfinishedUnitSql)
                    {
                        batch.BatchCommands.Add(command);
                    }

                    batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
                    batch.ExecuteNonQuery();
                });
            }

            throw new RestoreFailedException(full, e);
        }

        ErrorCount++;
        _reportError(full);
    }

    private RestoreFailedException Fatal(string message, Exception e) => new($"{EntryText()}{message}", e);

    // warn_or_exit_horribly's "from TOC entry %d; %u %u %s %s %s", on the same line.
    private string EntryText() => CurrentEntry is { } te
        ? $"from TOC entry {te.DumpId}; {te.TableOidValue} {te.OidValue} {te.Desc} {te.Tag} {te.Owner}: "
        : "";

    private static string Describe(PostgresException e) => $"{e.Severity}:  {e.MessageText}";

    private static string Shorten(string sql)
    {
        var sb = new StringBuilder();
        foreach (char c in sql.Trim())
        {
            sb.Append(c is '\n' or '\r' ? ' ' : c);
            if (sb.Length >= 300)
            {
                sb.Append("...");
                break;
            }
        }

        return sb.ToString();
    }
}

/// <summary>A statement failed in an optimistic (pipelined, savepoint-free) unit attempt.</summary>
internal sealed class OptimisticUnitFailedException(PostgresException failure) : Exception(failure.MessageText, failure)
{
    public PostgresException Failure { get; } = failure;
}

/// <summary>The journal already holds the unit: another run of it committed first.</summary>
internal sealed class UnitAlreadyDoneException(PostgresException failure) : Exception(failure.MessageText, failure);
