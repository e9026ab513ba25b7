using Npgsql;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;

namespace RestoreCluster.Hosting;

/// <summary>
/// The cluster's submitted jobs, in the cluster database (<c>restorecluster_job</c>): what status lists, what wait
/// and cancel look a job id up in, what a silo that starts joins. In the database, not in a grain, so that the
/// list outlives any silo. No password is ever in it (the target is its display form).
/// </summary>
public static class JobRegistry
{
    /// <summary>Records a job; one of a fleet (<see cref="JobEntry.FleetId"/>) with its place in the manifest.</summary>
    public static async Task AddAsync(ClusterDatabase database, JobEntry job, int? fleetPosition = null, CancellationToken cancellation = default)
    {
        await using var conn = new NpgsqlConnection(database.ToNpgsql());
        await conn.OpenAsync(cancellation).ConfigureAwait(false);
        await using var insert = new NpgsqlCommand(
            "INSERT INTO restorecluster_job (job_id, archive, target, host_key, submitted_at, fleet_id, fleet_position, priority) " +
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (job_id) DO NOTHING", conn);
        insert.Parameters.Add(new NpgsqlParameter { Value = job.JobId });
        insert.Parameters.Add(new NpgsqlParameter { Value = job.Archive });
        insert.Parameters.Add(new NpgsqlParameter { Value = job.Target });
        insert.Parameters.Add(new NpgsqlParameter { Value = job.HostKey });
        insert.Parameters.Add(new NpgsqlParameter { Value = job.Submitted });
        insert.Parameters.Add(new NpgsqlParameter { Value = (object?)job.FleetId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        insert.Parameters.Add(new NpgsqlParameter { Value = (object?)fleetPosition ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        insert.Parameters.Add(new NpgsqlParameter { Value = job.Priority });
        await insert.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
    }

    /// <summary>Every job (or the one named), oldest first.</summary>
    public static Task<IReadOnlyList<JobEntry>> ListAsync(ClusterDatabase database, string? jobId = null, CancellationToken cancellation = default) =>
        SelectAsync(database, "$1::text IS NULL OR job_id = $1", "submitted_at, job_id", jobId, cancellation);

    /// <summary>The jobs of a fleet, in the manifest's order (none: no such fleet).</summary>
    public static Task<IReadOnlyList<JobEntry>> FleetAsync(ClusterDatabase database, string fleetId, CancellationToken cancellation = default) =>
        SelectAsync(database, "fleet_id = $1", "fleet_position, job_id", fleetId, cancellation);

    private static async Task<IReadOnlyList<JobEntry>> SelectAsync(
        ClusterDatabase database, string where, string order, string? value, CancellationToken cancellation)
    {
        await using var conn = new NpgsqlConnection(database.ToNpgsql());
        await conn.OpenAsync(cancellation).ConfigureAwait(false);
        await using var select = new NpgsqlCommand(
            $"SELECT job_id, archive, target, host_key, submitted_at, fleet_id, priority FROM restorecluster_job WHERE {where} ORDER BY {order}", conn);
        select.Parameters.Add(new NpgsqlParameter { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await using var reader = await select.ExecuteReaderAsync(cancellation).ConfigureAwait(false);
        var jobs = new List<JobEntry>();
        while (await reader.ReadAsync(cancellation).ConfigureAwait(false))
        {
            jobs.Add(new JobEntry(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetInt32(6)));
        }

        return jobs;
    }
}
