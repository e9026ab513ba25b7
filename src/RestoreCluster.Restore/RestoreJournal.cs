using System.Security.Cryptography;
using System.Text;
using Npgsql;
using RestoreCluster.Archive;
using RestoreCluster.Planning;

namespace RestoreCluster.Restore;

/// <summary>
/// The journal that makes units exactly-once: schema <c>restorecluster_journal</c> in the target database
/// (a fixed, documented name), one <c>job</c> row naming the archive and options fingerprints, one
/// <c>unit</c> row per finished unit, written in the unit's own transaction.
/// </summary>
public sealed partial class RestoreJournal
{
    public const string Schema = "restorecluster_journal";

    private RestoreJournal(string jobKey, string archiveFingerprint, string optionsFingerprint)
    {
        JobKey = jobKey;
        ArchiveFingerprint = archiveFingerprint;
        OptionsFingerprint = optionsFingerprint;
    }

    /// <summary>One job per target database: resuming means continuing this key.</summary>
    public string JobKey { get; }

    public string ArchiveFingerprint { get; }

    public string OptionsFingerprint { get; }

    /// <summary>
    /// The journal of a restore of <paramref name="archive"/> with <paramref name="options"/>; <paramref name="splitLayout"/>
    /// (<see cref="TableSplit.Layout"/>) names the chunks its tables are cut into, which are journal units of their own:
    /// a --resume that would cut them otherwise is refused as one with other options.
    /// </summary>
    public static RestoreJournal For(PgArchive archive, RestoreOptions options, string splitLayout = "") =>
        new("restore", Fingerprint(archive), splitLayout.Length == 0
            ? RestoreOptionsJson.Fingerprint(options)
            : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{RestoreOptionsJson.Fingerprint(options)}\nsplit {splitLayout}"))));

    /// <summary>
    /// Creates the journal for a new restore (schema, tables and job row in one transaction), or checks it
    /// for --resume. A journal whose run still works on it (a session of that run holds the job lock) is
    /// refused, whatever the options: "still running". A leftover journal without --resume, or one of another
    /// archive or other options, is an error, and the journal stays as it was. A journal this very run
    /// created (its start leased again) is continued. Otherwise the run named <paramref name="runId"/> owns
    /// the journal from now on. Either way this session then holds the job lock (<see cref="JobLockKey"/>)
    /// shared, as every later session of the run does (<see cref="Join"/>). Units already done are found
    /// when they run: their journal row is written first (<see cref="StartSql"/>), and it is there.
    /// </summary>
    public void Prepare(NpgsqlConnection conn, string archivePath, bool resume, string target, string runId)
    {
        bool exists = Scalar<bool>(conn, $"SELECT to_regclass('{Schema}.job') IS NOT NULL");
        if (!exists)
        {
            if (resume)
            {
                throw new RestoreFailedException($"nothing to resume in {target}: it holds no interrupted restorecluster restore (schema {Schema})");
            }

            using var batch = new NpgsqlBatch(conn);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            foreach (string statement in SqlStatementSplitter.Split(ReadSql("journal-create.sql"), true))
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(statement));
            }

            var insert = new NpgsqlBatchCommand(
                $"INSERT INTO {Schema}.job (job_key, archive_fingerprint, options_fingerprint, archive_path, run_id, run_pid, run_host) VALUES ($1, $2, $3, $4, $5, $6, $7)");
            insert.Parameters.Add(new NpgsqlParameter { Value = JobKey });
            insert.Parameters.Add(new NpgsqlParameter { Value = ArchiveFingerprint });
            insert.Parameters.Add(new NpgsqlParameter { Value = OptionsFingerprint });
            insert.Parameters.Add(new NpgsqlParameter { Value = archivePath });
            insert.Parameters.Add(new NpgsqlParameter { Value = runId });
            insert.Parameters.Add(new NpgsqlParameter { Value = Environment.ProcessId });
            insert.Parameters.Add(new NpgsqlParameter { Value = Environment.MachineName });
            batch.BatchCommands.Add(insert);
            batch.BatchCommands.Add(MarkAliveSql());
            batch.BatchCommands.Add(new NpgsqlBatchCommand(HoldJobLockSql));
            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            batch.ExecuteNonQuery();
            return;
        }

        // The job lock taken exclusively, for this transaction only, is free exactly when no session of the run
        // that owns the journal is left (it ended, was killed, or lost them all). Holding it, the job row is read
        // and taken over without a session of that run joining in between (Join waits for this transaction).
        using var transaction = conn.BeginTransaction();
        bool free = Scalar<bool>(conn, $"SELECT pg_catalog.pg_try_advisory_xact_lock({JobLockKey})");
        var job = ReadJob(conn) ?? throw new RestoreFailedException($"the journal in {target} has no job to resume");
        if (job.RunId != runId)
        {
            if (!free)
            {
                throw new RestoreFailedException($"{job.Run.Describe(target)}; wait for it to end, or stop it, before {(resume ? "--resume" : "restoring into it again")}");
            }

            if (!resume)
            {
                throw new RestoreFailedException(
                    $"{target} holds an interrupted restorecluster restore (schema {Schema}); rerun with --resume to continue it, or drop it with restorecluster forget");
            }

            if (job.ArchiveFingerprint != ArchiveFingerprint)
            {
                throw new RestoreFailedException($"cannot resume: the interrupted restore in {target} was of a different archive");
            }

            if (job.OptionsFingerprint != OptionsFingerprint)
            {
                throw new RestoreFailedException($"cannot resume: the interrupted restore in {target} used different options");
            }

            using var takeOver = new NpgsqlCommand($"UPDATE {Schema}.job SET run_id = $2, run_pid = $3, run_host = $4, run_started_at = now() WHERE job_key = $1", conn);
            takeOver.Parameters.Add(new NpgsqlParameter { Value = JobKey });
            takeOver.Parameters.Add(new NpgsqlParameter { Value = runId });
            takeOver.Parameters.Add(new NpgsqlParameter { Value = Environment.ProcessId });
            takeOver.Parameters.Add(new NpgsqlParameter { Value = Environment.MachineName });
            takeOver.ExecuteNonQuery();

            // What the journal holds now is all that counts: this run redoes the rest, so the server's crashes before
            // it are no longer a threat (a journal made before the alive table gets it here).
            using var alive = new NpgsqlBatch(conn);
            alive.BatchCommands.Add(new NpgsqlBatchCommand(AliveTableSql));
            alive.BatchCommands.Add(MarkAliveSql());
            alive.ExecuteNonQuery();
        }

        // A session lock outlives the transaction: this session is one of the run's from now on.
        Exec(conn, HoldJobLockSql);
        transaction.Commit();
    }

    // journal-create.sql's alive table, for a journal made before it.
    private const string AliveTableSql = $"CREATE UNLOGGED TABLE IF NOT EXISTS {Schema}.alive (job_key text PRIMARY KEY)";

    private NpgsqlBatchCommand MarkAliveSql()
    {
        var cmd = new NpgsqlBatchCommand($"INSERT INTO {Schema}.alive (job_key) VALUES ($1) ON CONFLICT DO NOTHING");
        cmd.Parameters.Add(new NpgsqlParameter { Value = JobKey });
        return cmd;
    }

    /// <summary>
    /// The statement that claims units, at the start of their transaction: a second copy of a unit blocks on
    /// the primary key until this transaction ends, then fails at once (unique violation) if it committed.
    /// </summary>
    public NpgsqlBatchCommand StartSql(IReadOnlyList<int> unitIds)
    {
        var cmd = new NpgsqlBatchCommand($"INSERT INTO {Schema}.unit (job_key, unit_id) SELECT $1, unnest($2::integer[])");
        cmd.Parameters.Add(new NpgsqlParameter { Value = JobKey });
        cmd.Parameters.Add(new NpgsqlParameter { Value = unitIds.ToArray() });
        return cmd;
    }

    /// <summary>Takes the claims back (an -e stop commits what the unit did so far, but the unit is not done).</summary>
    public NpgsqlBatchCommand ForgetSql(IReadOnlyList<int> unitIds)
    {
        var cmd = new NpgsqlBatchCommand($"DELETE FROM {Schema}.unit WHERE job_key = $1 AND unit_id = ANY ($2::integer[])");
        cmd.Parameters.Add(new NpgsqlParameter { Value = JobKey });
        cmd.Parameters.Add(new NpgsqlParameter { Value = unitIds.ToArray() });
        return cmd;
    }

    /// <summary>
    /// Records what a unit's outcome needs besides being done (errors and their first messages, tables
    /// created, data switched off), before COMMIT, so a resumed or duplicated run reports the same.
    /// </summary>
    public NpgsqlBatchCommand OutcomeSql(UnitResult result)
    {
        var cmd = new NpgsqlBatchCommand(
            $"UPDATE {Schema}.unit SET errors = $3, messages = $4, created = $5, inhibited = $6 WHERE job_key = $1 AND unit_id = $2");
        cmd.Parameters.Add(new NpgsqlParameter { Value = JobKey });
        cmd.Parameters.Add(new NpgsqlParameter { Value = result.UnitId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = result.Errors });
        // What -v printed is no outcome: a resumed run does not print it again.
        cmd.Parameters.Add(new NpgsqlParameter { Value = result.ErrorMessages.Where(m => !VerboseMessages.IsMarked(m)).Take(MessagesKept).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = result.CreatedTables.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = result.InhibitedData.ToArray() });
        return cmd;
    }

    /// <summary>Whether any of <paramref name="unitIds"/> is done with errors (a split table's chunks, for its end unit).</summary>
    public bool AnyErrors(NpgsqlConnection conn, IReadOnlyList<int> unitIds)
    {
        using var cmd = new NpgsqlCommand($"SELECT EXISTS (SELECT FROM {Schema}.unit WHERE job_key = $1 AND unit_id = ANY ($2::integer[]) AND errors > 0)", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = JobKey });
        cmd.Parameters.Add(new NpgsqlParameter { Value = unitIds.ToArray() });
        return (bool)cmd.ExecuteScalar()!;
    }

    /// <summary>How many of a unit's error messages the journal keeps (its count is always kept).</summary>
    public const int MessagesKept = 100;

    /// <summary>What the journal recorded of a unit another run committed.</summary>
    public UnitResult ReadOutcome(NpgsqlConnection conn, int unitId)
    {
        using var cmd = new NpgsqlCommand($"SELECT errors, messages, created, inhibited FROM {Schema}.unit WHERE job_key = $1 AND unit_id = $2", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = JobKey });
        cmd.Parameters.Add(new NpgsqlParameter { Value = unitId });
        using var r = cmd.ExecuteReader();
        if (!r.Read())
        {
            return new UnitResult(unitId, 0, [], [], 0, 0, AlreadyDone: true, []);
        }

        return new UnitResult(
            unitId, r.GetInt32(0), r.IsDBNull(2) ? [] : r.GetFieldValue<int[]>(2), r.IsDBNull(3) ? [] : r.GetFieldValue<int[]>(3), 0, 0,
            AlreadyDone: true, r.IsDBNull(1) ? [] : r.GetFieldValue<string[]>(1));
    }

    /// <summary>
    /// Drops the journal at the normal end of a restore, so the database dumps as pg_restore's would; but only
    /// the journal this run owns: a run refused by <see cref="Prepare"/> (a leftover journal without --resume,
    /// another archive or other options) ends without taking away what a later --resume needs. A drop that
    /// fails is an error: the restore did not end cleanly. True when this run's journal is gone now (dropped here,
    /// or by an earlier lease of the drop).
    /// </summary>
    public static bool Drop(NpgsqlConnection conn, string runId)
    {
        try
        {
            if (!Scalar<bool>(conn, $"SELECT to_regclass('{Schema}.job') IS NOT NULL"))
            {
                return true;
            }

            using var owner = new NpgsqlCommand($"SELECT EXISTS (SELECT FROM {Schema}.job WHERE run_id = $1)", conn);
            owner.Parameters.Add(new NpgsqlParameter { Value = runId });
            if ((bool)owner.ExecuteScalar()!)
            {
                Exec(conn, $"DROP SCHEMA IF EXISTS {Schema} CASCADE");
                return true;
            }

            return false;
        }
        catch (PostgresException e)
        {
            throw new RestoreFailedException($"could not drop the journal (schema {Schema}): {e.Severity}:  {e.MessageText}", e);
        }
    }

    /// <summary>Identifies an archive by its header and TOC, whatever its format.</summary>
    public static string Fingerprint(PgArchive archive)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var h = archive.Header;
        sha.AppendData(Encoding.UTF8.GetBytes($"{h.Version}|{h.Created}|{h.DatabaseName}|{archive.Entries.Count}\n"));
        foreach (var e in archive.Entries)
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"{e.DumpId}|{e.Desc}|{e.Namespace}|{e.Tag}|{e.Owner}|{string.Join(',', e.Dependencies)}\n"));
            sha.AppendData(e.GetRaw(TocField.Defn) ?? []);
        }

        return Convert.ToHexString(sha.GetHashAndReset());
    }

    private static string ReadSql(string name)
    {
        using var stream = typeof(RestoreJournal).Assembly.GetManifestResourceStream($"RestoreCluster.Restore.Sql.{name}")
            ?? throw new InvalidOperationException($"embedded SQL {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static void Exec(NpgsqlConnection conn, string sql)
    {
        using var batch = new NpgsqlBatch(conn);
        foreach (string statement in SqlStatementSplitter.Split(sql, true))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(statement));
        }

        batch.ExecuteNonQuery();
    }

    private static T Scalar<T>(NpgsqlConnection conn, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, conn);
        return (T)cmd.ExecuteScalar()!;
    }
}
