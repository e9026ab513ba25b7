using Npgsql;

namespace RestoreCluster.Cli.Tune;

/// <summary>
/// The server's cumulative work counters at one moment, as far as its major has them: bytes read, written and
/// extended by every process (<c>pg_stat_io</c>, PostgreSQL 16+), else buffers written by the checkpointer, the
/// background writer and backends (<c>pg_stat_bgwriter</c>) and blocks read in the trial's database
/// (<c>pg_stat_database</c>); checkpoints; and the WAL position.
/// </summary>
internal sealed record ServerCounters(string Source, long ReadBytes, long WriteBytes, long ExtendBytes, long Checkpoints, string WalLsn)
{
    private const long BlockSize = 8192;

    public static ServerCounters Take(NpgsqlConnection conn, int serverVersion, string database)
    {
        // Statistics are read from a snapshot per transaction: each query here runs in its own.
        long checkpoints = Scalar(conn, serverVersion >= 170000
            ? "SELECT num_timed + num_requested FROM pg_catalog.pg_stat_checkpointer"
            : "SELECT checkpoints_timed + checkpoints_req FROM pg_catalog.pg_stat_bgwriter");
        string lsn = Text(conn, "SELECT pg_catalog.pg_current_wal_lsn()::text");
        if (serverVersion >= 180000)
        {
            var io = Row(conn, "SELECT coalesce(sum(read_bytes), 0), coalesce(sum(write_bytes), 0), coalesce(sum(extend_bytes), 0) FROM pg_catalog.pg_stat_io");
            return new ServerCounters("pg_stat_io", io[0], io[1], io[2], checkpoints, lsn);
        }

        if (serverVersion >= 160000)
        {
            var io = Row(conn, "SELECT coalesce(sum(reads * op_bytes), 0), coalesce(sum(writes * op_bytes), 0), coalesce(sum(extends * op_bytes), 0) FROM pg_catalog.pg_stat_io");
            return new ServerCounters("pg_stat_io", io[0], io[1], io[2], checkpoints, lsn);
        }

        long written = Scalar(conn, "SELECT buffers_checkpoint + buffers_clean + buffers_backend FROM pg_catalog.pg_stat_bgwriter");
        using var cmd = new NpgsqlCommand("SELECT coalesce(sum(blks_read), 0) FROM pg_catalog.pg_stat_database WHERE datname = $1", conn);
        cmd.Parameters.AddWithValue(database);
        long read = Convert.ToInt64(cmd.ExecuteScalar());
        return new ServerCounters("pg_stat_bgwriter+pg_stat_database", read * BlockSize, written * BlockSize, 0, checkpoints, lsn);
    }

    /// <summary>What happened between two snapshots; WAL bytes as the server computes the distance.</summary>
    public static ServerWork Between(NpgsqlConnection conn, ServerCounters before, ServerCounters after)
    {
        using var cmd = new NpgsqlCommand("SELECT pg_catalog.pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint", conn);
        cmd.Parameters.AddWithValue(after.WalLsn);
        cmd.Parameters.AddWithValue(before.WalLsn);
        long wal = Convert.ToInt64(cmd.ExecuteScalar());
        return new ServerWork(
            after.Source, after.ReadBytes - before.ReadBytes, after.WriteBytes - before.WriteBytes, after.ExtendBytes - before.ExtendBytes,
            after.Checkpoints - before.Checkpoints, wal);
    }

    private static long Scalar(NpgsqlConnection conn, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private static string Text(NpgsqlConnection conn, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, conn);
        return (string)cmd.ExecuteScalar()!;
    }

    private static long[] Row(NpgsqlConnection conn, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, conn);
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return [.. Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToInt64(reader.GetValue(i)))];
    }
}

/// <summary>The server's work during one trial: where the figures come from, bytes read, written and extended, checkpoints, WAL bytes.</summary>
internal sealed record ServerWork(string Source, long ReadBytes, long WriteBytes, long ExtendBytes, long Checkpoints, long WalBytes);
