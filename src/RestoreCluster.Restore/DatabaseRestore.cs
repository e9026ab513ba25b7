using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>pg_restore -d, serially over one session: the same emission as the script, sent to the server.</summary>
public static class DatabaseRestore
{
    /// <summary>
    /// Restores the selected entries in order; returns the number of errors counted (pg_restore's
    /// "errors ignored on restore"). Throws <see cref="RestoreFailedException"/> when the restore must stop.
    /// </summary>
    public static int Run(
        PgArchive archive,
        IReadOnlyList<TocEntry> order,
        RestoreOptions options,
        ConnectionTarget target,
        Func<string?>? promptPassword,
        Action<string> reportError,
        Action<string> reportWarning)
    {
        RequireRawSql();
        var connector = new Connector(target, archive.Encoding, promptPassword);
        using var sink = new DatabaseSink(connector.Open, target.Database, archive, options.ExitOnError, reportError);
        var emitter = new RestoreEmitter(archive, order, options, sink);
        try
        {
            emitter.Run();
        }
        finally
        {
            foreach (string w in emitter.Warnings)
            {
                reportWarning(w);
            }
        }

        return sink.ErrorCount;
    }

    // Each batch command must reach the server exactly as written (one statement, already split by us):
    // Npgsql's own rewriting would split SQL-standard function bodies (BEGIN ATOMIC ... END) apart.
    private static void RequireRawSql()
    {
        if (!AppContext.TryGetSwitch("Npgsql.EnableSqlRewriting", out bool enabled) || enabled)
        {
            throw new InvalidOperationException("database restores need AppContext switch Npgsql.EnableSqlRewriting=false (set by the restorecluster host)");
        }
    }

    /// <summary>Opens sessions to the target, asking for a password once if the server wants one.</summary>
    private sealed class Connector(ConnectionTarget target, ArchiveEncoding encoding, Func<string?>? promptPassword)
    {
        private ConnectionTarget _target = target;

        public NpgsqlConnection Open(string database)
        {
            var t = _target.WithDatabase(database);
            try
            {
                return OpenOnce(t);
            }
            catch (NpgsqlException e) when (NeedsPassword(e) && t.Password is null && promptPassword?.Invoke() is { } pw)
            {
                _target = _target.WithPassword(pw);
                return OpenOnce(_target.WithDatabase(database));
            }
        }

        private NpgsqlConnection OpenOnce(ConnectionTarget t)
        {
            // The session speaks the archive's encoding, so names, definitions and COPY bytes pass unchanged.
            string clientEncoding = encoding.Name.ToUpperInvariant() == "UNICODE" ? "UTF8" : encoding.Name;
            var conn = new NpgsqlConnection(t.ToNpgsql(clientEncoding, encoding.Encoding.WebName));
            try
            {
                conn.Open();
                return conn;
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
            {
                conn.Dispose();
                if (NeedsPassword(e) && t.Password is null && promptPassword is not null)
                {
                    throw;
                }

                throw new RestoreFailedException($"connection to server at {t} failed: {Flatten(e)}", e);
            }
        }

        private static bool NeedsPassword(Exception e) =>
            e is PostgresException { SqlState: "28P01" } || (e.Message.Contains("password", StringComparison.OrdinalIgnoreCase) && e is not PostgresException);

        private static string Flatten(Exception e)
        {
            string m = e is PostgresException pe ? $"{pe.Severity}:  {pe.MessageText}" : e.Message;
            if (e.InnerException is { } inner && e is not PostgresException)
            {
                m += ": " + inner.Message;
            }

            return m.Replace('\n', ' ').Replace('\r', ' ');
        }
    }
}
