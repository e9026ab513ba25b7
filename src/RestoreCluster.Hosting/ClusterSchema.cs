using Npgsql;
using RestoreCluster.Restore;

namespace RestoreCluster.Hosting;

/// <summary>
/// The cluster database's tables (<c>restorecluster cluster init</c>): Orleans' AdoNet clustering and grain storage tables and
/// their named queries, and <c>restorecluster_schema</c>, our record of the versions applied. The versions are
/// the embedded <c>Sql/cluster-NNN-*.sql</c> files; init applies, in one transaction under an advisory lock,
/// those not yet recorded, so it is idempotent and upgrades an older schema.
/// </summary>
public static class ClusterSchema
{
    /// <summary>The advisory lock key cluster init holds while it looks and applies ("rcschema").</summary>
    public const long InitLockKey = 0x7263736368656d61;

    private const string Prefix = "RestoreCluster.Hosting.Sql.";

    /// <summary>The schema versions this build knows, in order: (version, resource name).</summary>
    public static IReadOnlyList<(int Version, string Name)> Versions { get; } =
        typeof(ClusterSchema).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix + "cluster-", StringComparison.Ordinal))
            .Select(n => (Version: int.Parse(n.AsSpan(Prefix.Length + 8, 3), System.Globalization.CultureInfo.InvariantCulture), Name: n))
            .Where(v => v.Version > 0)
            .OrderBy(v => v.Version)
            .ToList();

    /// <summary>The newest version this build knows.</summary>
    public static int Latest => Versions[^1].Version;

    /// <summary>Applies the versions <paramref name="database"/> lacks, up to <paramref name="upTo"/> (default: all); the versions applied now.</summary>
    public static async Task<IReadOnlyList<int>> InitAsync(ClusterDatabase database, int? upTo = null, CancellationToken cancellation = default)
    {
        await using var conn = new NpgsqlConnection(database.ToNpgsql());
        await conn.OpenAsync(cancellation).ConfigureAwait(false);
        await using var transaction = await conn.BeginTransactionAsync(cancellation).ConfigureAwait(false);
        await ExecAsync(conn, $"SELECT pg_advisory_xact_lock({InitLockKey})", cancellation).ConfigureAwait(false);
        await ExecAsync(conn, Read(Prefix + "cluster-000-schema.sql"), cancellation).ConfigureAwait(false);
        int current = await CurrentAsync(conn, cancellation).ConfigureAwait(false);
        var applied = new List<int>();
        foreach (var (version, name) in Versions.Where(v => v.Version > current && v.Version <= (upTo ?? int.MaxValue)))
        {
            await ExecAsync(conn, Read(name), cancellation).ConfigureAwait(false);
            await using var record = new NpgsqlCommand("INSERT INTO restorecluster_schema (version, description) VALUES ($1, $2)", conn);
            record.Parameters.Add(new NpgsqlParameter { Value = version });
            record.Parameters.Add(new NpgsqlParameter { Value = name[Prefix.Length..^4] });
            await record.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
            applied.Add(version);
        }

        await transaction.CommitAsync(cancellation).ConfigureAwait(false);
        return applied;
    }

    /// <summary>The version the database holds: 0 when cluster init never ran there.</summary>
    public static async Task<int> VersionAsync(NpgsqlConnection conn, CancellationToken cancellation = default)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass('restorecluster_schema') IS NOT NULL", conn);
        return (bool)(await exists.ExecuteScalarAsync(cancellation).ConfigureAwait(false))! ? await CurrentAsync(conn, cancellation).ConfigureAwait(false) : 0;
    }

    /// <summary>
    /// Checks that cluster init ran in <paramref name="database"/> and that its schema is this build's, before a
    /// silo or client starts: a missing or older schema is a one-line error instead of Orleans' retries.
    /// </summary>
    public static async Task RequireAsync(ClusterDatabase database, CancellationToken cancellation = default)
    {
        await using var conn = new NpgsqlConnection(database.ToNpgsql());
        await conn.OpenAsync(cancellation).ConfigureAwait(false);
        int version = await VersionAsync(conn, cancellation).ConfigureAwait(false);
        if (version == 0)
        {
            throw new InvalidOperationException($"the cluster database {database} is not initialised: run restorecluster cluster init --cluster ... first");
        }

        if (version < Latest)
        {
            throw new InvalidOperationException($"the cluster database {database} has schema version {version}, this restorecluster needs {Latest}: run restorecluster cluster init to upgrade it");
        }
    }

    private static async Task<int> CurrentAsync(NpgsqlConnection conn, CancellationToken cancellation)
    {
        await using var cmd = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM restorecluster_schema", conn);
        return (int)(await cmd.ExecuteScalarAsync(cancellation).ConfigureAwait(false))!;
    }

    // The files hold several statements: split as the server reads them (our rewriting-free sessions send one each).
    private static async Task ExecAsync(NpgsqlConnection conn, string sql, CancellationToken cancellation)
    {
        await using var batch = new NpgsqlBatch(conn);
        foreach (string statement in SqlStatementSplitter.Split(sql, standardConformingStrings: true))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(statement));
        }

        await batch.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
    }

    private static string Read(string name)
    {
        using var stream = typeof(ClusterSchema).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded SQL {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
