using System.Globalization;
using Npgsql;

namespace RestoreCluster.Restore;

/// <summary>
/// The job lock: which run is working on the journal now. Every session of the run that owns the journal
/// holds a session-level advisory lock on <see cref="JobLockKey"/> in the target database, shared; so the
/// lock costs no session of its own (the host budget counts the unit sessions, and with a budget of 1 the
/// lock lives on the one unit session), and it goes with the sessions when the run ends or is killed.
/// Whoever must know that nobody works on the journal (a --resume taking it over, <c>restorecluster
/// forget</c>) tries the lock exclusively for its transaction: it is free exactly when no session of the
/// owning run is left.
/// </summary>
public sealed partial class RestoreJournal
{
    /// <summary>
    /// The advisory lock key ("rcjournl" in ASCII, as one bigint). Advisory locks belong to a database, so
    /// this is the lock of the journal in the session's database.
    /// </summary>
    public const long JobLockKey = 0x72636a6f75726e6c;

    private static readonly string HoldJobLockSql = $"SELECT pg_catalog.pg_advisory_lock_shared({JobLockKey})";

    /// <summary>
    /// Joins the job on a new session of the run that owns the journal (after <see cref="Prepare"/>): holds
    /// the job lock, shared, then checks that the run still owns the journal. A run that had, for a moment,
    /// no session at all (all of them lost, say) may have been taken over by a --resume meanwhile: it stops
    /// then, so only one run ever works on a journal. Runs as the login role, before the session's settings.
    /// With <paramref name="asyncCommit"/> (units commit with synchronous_commit off) it also stops the run when
    /// the server crashed since the run took the journal (<see cref="ServerCrashed"/>).
    /// </summary>
    public void Join(NpgsqlConnection conn, string runId, string target, bool asyncCommit)
    {
        using var batch = new NpgsqlBatch(conn);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(HoldJobLockSql));
        var read = new NpgsqlBatchCommand(
            $"SELECT run_id, archive_path, run_started_at, run_pid, run_host, EXISTS (SELECT FROM {Schema}.alive a WHERE a.job_key = j.job_key) FROM {Schema}.job j WHERE job_key = $1");
        read.Parameters.Add(new NpgsqlParameter { Value = JobKey });
        batch.BatchCommands.Add(read);
        try
        {
            using var r = batch.ExecuteReader();
            r.NextResult();
            if (!r.Read())
            {
                throw Gone(target);
            }

            if (r.GetString(0) != runId)
            {
                var other = new JournalOwner(r.GetString(1), r.GetDateTime(2), r.IsDBNull(3) ? null : r.GetInt32(3), r.IsDBNull(4) ? null : r.GetString(4));
                throw new RestoreFailedException($"another run took over the journal in {target}: {other.Describe(target)}; this restore stops");
            }

            if (asyncCommit && !r.GetBoolean(5))
            {
                throw ServerCrashed(target);
            }
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            throw Gone(target);
        }
    }

    /// <summary>
    /// For <c>restorecluster forget</c>, in its transaction: null when no restore works on the journal (the
    /// job lock is free, and stays this transaction's until it ends); otherwise what the job row says of the
    /// run that does.
    /// </summary>
    public static JournalOwner? RunningRestore(NpgsqlConnection conn)
    {
        if (Scalar<bool>(conn, $"SELECT pg_catalog.pg_try_advisory_xact_lock({JobLockKey})"))
        {
            return null;
        }

        // A journal made before the job lock has no run columns; its run cannot hold the lock, but say what there is.
        bool hasRun = Scalar<bool>(conn,
            $"SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass('{Schema}.job') AND attname = 'run_pid' AND NOT attisdropped)");
        if (!hasRun)
        {
            return new JournalOwner(null, null, null, null);
        }

        using var cmd = new NpgsqlCommand($"SELECT archive_path, run_started_at, run_pid, run_host FROM {Schema}.job ORDER BY job_key LIMIT 1", conn);
        using var r = cmd.ExecuteReader();
        return r.Read()
            ? new JournalOwner(r.GetString(0), r.GetDateTime(1), r.IsDBNull(2) ? null : r.GetInt32(2), r.IsDBNull(3) ? null : r.GetString(3))
            : new JournalOwner(null, null, null, null);
    }

    private JobRow? ReadJob(NpgsqlConnection conn)
    {
        using var cmd = new NpgsqlCommand(
            $"SELECT run_id, archive_fingerprint, options_fingerprint, archive_path, run_started_at, run_pid, run_host FROM {Schema}.job WHERE job_key = $1", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = JobKey });
        using var r = cmd.ExecuteReader();
        if (!r.Read())
        {
            return null;
        }

        return new JobRow(
            r.GetString(0), r.GetString(1), r.GetString(2),
            new JournalOwner(r.GetString(3), r.GetDateTime(4), r.IsDBNull(5) ? null : r.GetInt32(5), r.IsDBNull(6) ? null : r.GetString(6)));
    }

    /// <summary>
    /// The journal's unlogged alive row is gone: crash recovery emptied it, so the server crashed (or was stopped
    /// with -m immediate) while this run worked, and commits of units made with synchronous_commit off may be
    /// lost although the run was told of them. Going on could run units whose prerequisites vanished; the run
    /// stops, and --resume redoes exactly what the journal no longer holds (a unit's row commits with its work).
    /// </summary>
    public static RestoreFailedException ServerCrashed(string target) =>
        new($"the server of {target} crashed or was stopped immediately while this restore ran, so units committed " +
            "without waiting for the disk (synchronous_commit off) may be lost; rerun with --resume to redo what the journal no longer holds");

    private static RestoreFailedException Gone(string target) =>
        new($"the journal in {target} (schema {Schema}) is gone: it was dropped while this restore ran");

    private sealed record JobRow(string RunId, string ArchiveFingerprint, string OptionsFingerprint, JournalOwner Run);
}

/// <summary>The run that owns a journal, as its job row records it (null: not recorded).</summary>
/// <param name="ArchivePath">The archive it restores.</param>
/// <param name="StartedAt">When it created or took over the journal (UTC).</param>
/// <param name="Pid">Its process.</param>
/// <param name="Host">The host that process runs on.</param>
public sealed record JournalOwner(string? ArchivePath, DateTime? StartedAt, int? Pid, string? Host)
{
    /// <summary>"a restore of ARCHIVE into TARGET is still running (started ..., pid N on host H)".</summary>
    public string Describe(string target)
    {
        var details = new List<string>();
        if (StartedAt is { } started)
        {
            details.Add(string.Create(CultureInfo.InvariantCulture, $"started {started.ToLocalTime():yyyy-MM-dd HH:mm:ss zzz}"));
        }

        if (Pid is { } pid)
        {
            details.Add(string.Create(CultureInfo.InvariantCulture, $"pid {pid}{(Host is { } host ? $" on host {host}" : "")}"));
        }

        string what = ArchivePath is { } archive ? $"a restore of {archive}" : "a restore";
        return $"{what} into {target} is still running{(details.Count > 0 ? $" ({string.Join(", ", details)})" : "")}";
    }
}
