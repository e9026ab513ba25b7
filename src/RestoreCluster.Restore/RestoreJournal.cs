using System.Security.Cryptography;
using System.Text;
using Npgsql;
using RestoreCluster.Archive;

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

    public static RestoreJournal For(PgArchive archive, RestoreOptions options) =>
        new("restore", Fingerprint(archive), RestoreOptionsJson.Fingerprint(options));

    /// <summary>
    /// Creates the journal for a new restore, or checks it for --resume; returns the units already done.
    /// A leftover journal without --resume, or one of another archive or other options, is an error, and the
    /// journal stays as it was. Otherwise the run named <paramref name="runId"/> owns the journal from now on.
    /// </summary>
    public HashSet<int> Prepare(NpgsqlConnection conn, string archivePath, bool resume, string target, string runId)
    {
        bool exists = Scalar<bool>(conn, $"SELECT to_regclass('{Schema}.job') IS NOT NULL");
        if (!exists)
        {
            if (resume)
            {
                throw new RestoreFailedException($"nothing to resume in {target}: it holds no interrupted restorecluster restore (schema {Schema})");
            }

            Exec(conn, ReadSql("journal-create.sql"));
            using var insert = new NpgsqlCommand($"INSERT INTO {Schema}.job (job_key, archive_fingerprint, options_fingerprint, archive_path, run_id) VALUES ($1, $2, $3, $4, $5)", conn);
            insert.Parameters.Add(new NpgsqlParameter { Value = JobKey });
            insert.Parameters.Add(new NpgsqlParameter { Value = ArchiveFingerprint });
            insert.Parameters.Add(new NpgsqlParameter { Value = OptionsFingerprint });
            insert.Parameters.Add(new NpgsqlParameter { Value = archivePath });
            insert.Parameters.Add(new NpgsqlParameter { Value = runId });
            insert.ExecuteNonQuery();
            return [];
        }

        if (!resume)
        {
            throw new RestoreFailedException(
                $"{target} holds an interrupted restorecluster restore (schema {Schema}); rerun with --resume to continue it, or drop that schema");
        }

        using (var job = new NpgsqlCommand($"SELECT archive_fingerprint, options_fingerprint FROM {Schema}.job WHERE job_key = $1", conn))
        {
            job.Parameters.Add(new NpgsqlParameter { Value = JobKey });
            using var r = job.ExecuteReader();
            if (!r.Read())
            {
                throw new RestoreFailedException($"the journal in {target} has no job to resume");
            }

            if (r.GetString(0) != ArchiveFingerprint)
            {
                throw new RestoreFailedException($"cannot resume: the interrupted restore in {target} was of a different archive");
            }

            if (r.GetString(1) != OptionsFingerprint)
            {
                throw new RestoreFailedException($"cannot resume: the interrupted restore in {target} used different options");
            }
        }

        using (var takeOver = new NpgsqlCommand($"UPDATE {Schema}.job SET run_id = $2 WHERE job_key = $1", conn))
        {
            takeOver.Parameters.Add(new NpgsqlParameter { Value = JobKey });
            takeOver.Parameters.Add(new NpgsqlParameter { Value = runId });
            takeOver.ExecuteNonQuery();
        }

        var done = new HashSet<int>();
        using var units = new NpgsqlCommand($"SELECT unit_id FROM {Schema}.unit WHERE job_key = $1", conn);
        units.Parameters.Add(new NpgsqlParameter { Value = JobKey });
        using var reader = units.ExecuteReader();
        while (reader.Read())
        {
            done.Add(reader.GetInt32(0));
        }

        return done;
    }

    /// <summary>The statement that records a unit as done, run in the unit's transaction before COMMIT.</summary>
    public string RecordSql(int unitId, int errors) =>
        $"INSERT INTO {Schema}.unit (job_key, unit_id, errors) VALUES ('{JobKey}', {unitId}, {errors})";

    /// <summary>
    /// Drops the journal at the normal end of a restore, so the database dumps as pg_restore's would; but only
    /// the journal this run owns: a run refused by <see cref="Prepare"/> (a leftover journal without --resume,
    /// another archive or other options) ends without taking away what a later --resume needs.
    /// </summary>
    public static void Drop(NpgsqlConnection conn, string runId)
    {
        if (!Scalar<bool>(conn, $"SELECT to_regclass('{Schema}.job') IS NOT NULL"))
        {
            return;
        }

        using var owner = new NpgsqlCommand($"SELECT EXISTS (SELECT FROM {Schema}.job WHERE run_id = $1)", conn);
        owner.Parameters.Add(new NpgsqlParameter { Value = runId });
        if ((bool)owner.ExecuteScalar()!)
        {
            Exec(conn, $"DROP SCHEMA IF EXISTS {Schema} CASCADE");
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
