using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>
/// <c>restorecluster forget</c>: what a leftover journal says about its interrupted restore, and dropping it
/// so that a new restore may start without <c>--resume</c>. Reads the journal of every version: a job table
/// without <c>started_at</c>, or no job row at all, is described with what there is.
/// </summary>
public sealed partial class RestoreJournal
{
    /// <summary>The application name of restore sessions (<see cref="ConnectionTarget.ToNpgsql"/>'s default).</summary>
    private const string RestoreApplicationName = "restorecluster";

    /// <summary>
    /// A session on the target for the journal itself: the connect retry and password handling of restores,
    /// and pg_restore's empty search_path.
    /// </summary>
    public static NpgsqlConnection ConnectForJournal(ConnectionTarget target, Func<string?>? promptPassword, Action<string>? reportWarning) =>
        MaintenanceSession.Open(target, promptPassword, reportWarning, e => Failed("read", target, e));

    /// <summary>
    /// The journal in the session's database, or null when it holds none (no schema <see cref="Schema"/>).
    /// Read in a transaction, it also tells whether a restore still works on the journal (<see cref="RunningRestore"/>).
    /// </summary>
    public static LeftoverJournal? DescribeLeftover(NpgsqlConnection conn, ConnectionTarget target)
    {
        try
        {
            if (!Query<bool>(conn, $"SELECT to_regnamespace('{Schema}') IS NOT NULL"))
            {
                return null;
            }

            string? archivePath = null;
            DateTime? startedAt = null;
            if (Query<bool>(conn, $"SELECT to_regclass('{Schema}.job') IS NOT NULL"))
            {
                // started_at came with the first journal, but a journal is read whatever made it.
                bool hasStart = Query<bool>(conn,
                    $"SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = '{Schema}.job'::pg_catalog.regclass AND attname = 'started_at' AND NOT attisdropped)");
                using var job = new NpgsqlCommand($"SELECT archive_path{(hasStart ? ", started_at" : "")} FROM {Schema}.job ORDER BY job_key LIMIT 1", conn);
                using var r = job.ExecuteReader();
                if (r.Read())
                {
                    archivePath = r.GetString(0);
                    startedAt = hasStart ? r.GetDateTime(1) : null;
                }
            }

            long units = Query<bool>(conn, $"SELECT to_regclass('{Schema}.unit') IS NOT NULL")
                ? Query<long>(conn, $"SELECT count(*) FROM {Schema}.unit")
                : 0;
            using var sessions = new NpgsqlCommand(
                "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = pg_catalog.current_database() AND application_name = $1 AND pid <> pg_catalog.pg_backend_pid()",
                conn);
            sessions.Parameters.Add(new NpgsqlParameter { Value = RestoreApplicationName });
            long restoreSessions = (long)sessions.ExecuteScalar()!;
            return new LeftoverJournal(archivePath, startedAt, units, restoreSessions, RunningRestore(conn));
        }
        catch (NpgsqlException e)
        {
            throw Failed("read", target, e);
        }
    }

    /// <summary>Drops the journal (<c>DROP SCHEMA restorecluster_journal CASCADE</c>).</summary>
    public static void Forget(NpgsqlConnection conn, ConnectionTarget target)
    {
        try
        {
            using var drop = new NpgsqlCommand($"DROP SCHEMA {Schema} CASCADE", conn);
            drop.ExecuteNonQuery();
        }
        catch (NpgsqlException e)
        {
            throw Failed("drop", target, e);
        }
    }

    private static RestoreFailedException Failed(string what, ConnectionTarget target, NpgsqlException e) =>
        new($"could not {what} the journal (schema {Schema}) in {target}: {(e is PostgresException pe ? $"{pe.Severity}:  {pe.MessageText}" : e.Message)}", e);

    private static T Query<T>(NpgsqlConnection conn, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, conn);
        return (T)cmd.ExecuteScalar()!;
    }
}

/// <summary>What a leftover journal records of its interrupted restore.</summary>
/// <param name="ArchivePath">The archive it restored (null when the journal has no job row).</param>
/// <param name="StartedAt">When that restore started (UTC; null when the journal does not record it).</param>
/// <param name="UnitsDone">Units it committed.</param>
/// <param name="RestoreSessions">Other restorecluster sessions on the database now: a restore may still run there.</param>
/// <param name="Running">
/// The restore that still works on the journal (a session of it holds the job lock), or null; when null,
/// the reading transaction holds the job lock until it ends, so no run joins the journal meanwhile.
/// </param>
public sealed record LeftoverJournal(string? ArchivePath, DateTime? StartedAt, long UnitsDone, long RestoreSessions, JournalOwner? Running);
