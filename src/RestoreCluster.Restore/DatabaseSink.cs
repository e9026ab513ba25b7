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

    private readonly Func<string, NpgsqlConnection> _connect;
    private readonly ArchiveEncoding _encoding;
    private readonly bool _exitOnError;
    private readonly Action<string> _reportError;
    private readonly bool _stdStrings;
    private NpgsqlConnection _conn;
    private CopyTerminatorFilter? _copy;
    private Stream? _copyStream;
    private TextWriter? _copyWriter;
    private string? _copyStatement;
    private Exception? _copyError;
    private bool _inUnit;

    /// <param name="connect">Opens a session on the named database (null: the target's own).</param>
    public DatabaseSink(Func<string, NpgsqlConnection> connect, string database, PgArchive archive, bool exitOnError, Action<string> reportError)
    {
        _connect = connect;
        _encoding = archive.Encoding;
        _stdStrings = archive.StandardConformingStrings;
        _exitOnError = exitOnError;
        _reportError = reportError;
        _conn = Open(database);
    }

    public bool IsDatabase => true;

    public TocEntry? CurrentEntry { get; set; }

    public TocEntry? LastErrorEntry { get; private set; }

    /// <summary>Table data bytes and rows sent with COPY so far.</summary>
    public long CopyBytes { get; private set; }

    public long CopyRows { get; private set; }

    /// <summary>Errors counted so far (pg_restore's n_errors).</summary>
    public int ErrorCount { get; private set; }

    public void Sql(byte[] text, SqlFailure onFailure = SqlFailure.Count)
    {
        string sql = _encoding.Encoding.GetString(text);
        Run(sql, SqlStatementSplitter.Split(sql, _stdStrings), onFailure);
    }

    // ExecuteSimpleCommands: pg_restore runs each INSERT of a --inserts dump by itself.
    public void Statements(byte[] text)
    {
        string sql = _encoding.Encoding.GetString(text);
        foreach (string statement in SqlStatementSplitter.Split(sql, _stdStrings))
        {
            Run(statement, [statement], SqlFailure.Count);
        }
    }

    // One query of pg_restore's: its statements as one batch, so they share one implicit transaction.
    private void Run(string sql, IReadOnlyList<string> statements, SqlFailure onFailure)
    {
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

            batch.ExecuteNonQuery();
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

    public void BeginCopy(byte[] copyStatement)
    {
        _copyStatement = _encoding.Encoding.GetString(copyStatement);
        _copy = new CopyTerminatorFilter();
        _copyError = null;
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
        if (_copyStream is null || _copy is null)
        {
            return;
        }

        try
        {
            _copy.Write(data, _copyStream);
            CopyBytes += data.Length;
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
        CopyRows += _copy?.Rows ?? 0;
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

            if (_inUnit)
            {
                Exec("RELEASE SAVEPOINT restorecluster_query");
            }
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
        ownTransaction &= !_inUnit;
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

    /// <summary>Starts a unit: its statements, and then its journal row, in one transaction.</summary>
    public void BeginUnit()
    {
        // A session lost while idle between units is found here: that too is retryable within the unit.
        _inUnit = true;
        Guard(() => Exec("BEGIN"));
    }

    /// <summary>
    /// Records the unit in the journal and commits it with everything it did. False when the journal already
    /// had it (a lease that lapsed while its unit still ran, and another worker ran it too): then nothing of
    /// this run is kept.
    /// </summary>
    public bool CommitUnit(string journalSql)
    {
        _inUnit = false;
        try
        {
            Exec(journalSql);
            Exec("COMMIT");
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            Guard(() => Exec("ROLLBACK"));
            return false;
        }
        catch (NpgsqlException e)
        {
            _inUnit = true;
            throw Lost(e);
        }
    }

    /// <summary>Runs control SQL (the journal) on this session.</summary>
    public NpgsqlConnection Connection => _conn;

    public void Dispose()
    {
        _copyWriter?.Dispose();
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
        _inUnit && IsTransient(e)
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
        LastErrorEntry = CurrentEntry;
        string full = $"{EntryText()}{message}";
        if (kind == SqlFailure.Fatal || _exitOnError)
        {
            // pg_restore stops here with everything before this query already committed: so do we.
            if (_inUnit)
            {
                _inUnit = false;
                Guard(() => Exec("COMMIT"));
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
