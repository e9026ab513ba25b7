using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>pg_restore -d, serially over one session: the same emission as the script, sent to the server.</summary>
public static class DatabaseRestore
{
    /// <summary>
    /// Restores the selected entries in order; returns the number of errors counted (pg_restore's
    /// "errors ignored on restore"). Throws <see cref="RestoreFailedException"/> when the restore must stop.
    /// With -v, <paramref name="reportInfo"/> gets pg_restore's messages in pg_restore's order, between the errors.
    /// </summary>
    public static int Run(
        PgArchive archive,
        IReadOnlyList<TocEntry> order,
        RestoreOptions options,
        ConnectionTarget target,
        Func<string?>? promptPassword,
        Action<string> reportError,
        Action<string> reportWarning,
        Action<string>? reportInfo = null)
    {
        RequireRawSql();
        if (options.Verbose)
        {
            reportInfo?.Invoke(VerboseMessages.ConnectingForRestore);
        }

        // A connect retried after a passing failure (the server restarting, say) is a warning, as any other.
        var connector = new TargetConnector(target, archive.Encoding, promptPassword, reportWarning);
        using var sink = new DatabaseSink(connector.Open, target.Database, archive, options.ExitOnError, reportError);
        var emitter = new RestoreEmitter(archive, order, options, sink) { Info = reportInfo };
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

    /// <summary>
    /// -C's DATABASE entry, which cannot run inside a transaction (nor can -c's DROP DATABASE before it):
    /// both run on the -d database, outside any unit and before the journal exists (the journal lives in
    /// the new database). Returns the errors counted. <paramref name="announcement"/>: a verbose line that
    /// goes before the entry, after the drop (pg_restore -j's "processing item").
    /// </summary>
    public static int RecreateDatabase(
        PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions options, ConnectionTarget target, TocEntry database,
        Action<string> reportError, string? announcement = null)
    {
        RequireRawSql();
        // This runs as a unit: its messages travel as the unit's, where warnings carry the "warning: " prefix
        // and verbose lines theirs.
        var connector = new TargetConnector(target, archive.Encoding, promptPassword: null, reportWarning: m => reportError("warning: " + m));
        using var sink = new DatabaseSink(connector.Open, target.Database, archive, options.ExitOnError, reportError);
        var emitter = new RestoreEmitter(archive, order, options, sink) { UnitMode = true, Info = m => reportError(VerboseMessages.Mark(m)) };
        emitter.SetFixedOutputState();
        if (options.Clean)
        {
            // With -C, the -c phase drops only the database.
            foreach (var te in emitter.DropOrder().ToList())
            {
                emitter.DropEntry(te);
            }
        }

        if (announcement is not null)
        {
            reportError(VerboseMessages.Mark(announcement));
        }

        emitter.RestoreEntry(database);
        return sink.ErrorCount;
    }

    // Each batch command must reach the server exactly as written (one statement, already split by us):
    // Npgsql's own rewriting would split SQL-standard function bodies (BEGIN ATOMIC ... END) apart.
    public static void RequireRawSql()
    {
        if (!AppContext.TryGetSwitch("Npgsql.EnableSqlRewriting", out bool enabled) || enabled)
        {
            throw new InvalidOperationException("database restores need AppContext switch Npgsql.EnableSqlRewriting=false (set by the restorecluster host)");
        }
    }
}
