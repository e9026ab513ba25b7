using Npgsql;
using RestoreCluster.Restore;

namespace RestoreCluster.Hosting;

/// <summary>A target server of a fleet: the name the manifest gives it (<c>HOST:PORT</c>), its budget key and budget.</summary>
public sealed record FleetHost(string Name, string HostKey, int Budget);

/// <summary>
/// The cluster's fleets, in the cluster database (<c>restorecluster_fleet</c>, <c>restorecluster_fleet_host</c>): which
/// manifest a fleet came from and the budget each of its servers was given, under the manifest's name for it, which
/// <c>budget set HOST:PORT</c> looks up. The fleet's jobs are in <see cref="JobRegistry"/>, each naming its fleet.
/// </summary>
public static class FleetRegistry
{
    public static async Task AddAsync(ClusterDatabase database, string fleetId, string manifest, IReadOnlyList<FleetHost> hosts, CancellationToken cancellation = default)
    {
        await using var conn = new NpgsqlConnection(database.ToNpgsql());
        await conn.OpenAsync(cancellation).ConfigureAwait(false);
        await using var transaction = await conn.BeginTransactionAsync(cancellation).ConfigureAwait(false);
        await using (var fleet = new NpgsqlCommand("INSERT INTO restorecluster_fleet (fleet_id, manifest) VALUES ($1, $2)", conn))
        {
            fleet.Parameters.Add(new NpgsqlParameter { Value = fleetId });
            fleet.Parameters.Add(new NpgsqlParameter { Value = manifest });
            await fleet.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
        }

        foreach (var host in hosts)
        {
            await using var insert = new NpgsqlCommand("INSERT INTO restorecluster_fleet_host (fleet_id, name, host_key, budget) VALUES ($1, $2, $3, $4)", conn);
            insert.Parameters.Add(new NpgsqlParameter { Value = fleetId });
            insert.Parameters.Add(new NpgsqlParameter { Value = host.Name });
            insert.Parameters.Add(new NpgsqlParameter { Value = host.HostKey });
            insert.Parameters.Add(new NpgsqlParameter { Value = host.Budget });
            await insert.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// The budget keys a server name (<c>HOST:PORT</c>, as a manifest or a job's target names it) stands for in the
    /// cluster: from the fleets' hosts, and from the jobs whose target is on it. Newest first; empty when none.
    /// </summary>
    public static async Task<IReadOnlyList<string>> HostKeysAsync(ClusterDatabase database, string name, CancellationToken cancellation = default)
    {
        await using var conn = new NpgsqlConnection(database.ToNpgsql());
        await conn.OpenAsync(cancellation).ConfigureAwait(false);
        // A job's target is shown as host:port/database as user (ConnectionTarget.ToString).
        await using var select = new NpgsqlCommand(
            "SELECT host_key FROM (" +
            " SELECT h.host_key, f.submitted_at AS at FROM restorecluster_fleet_host h JOIN restorecluster_fleet f USING (fleet_id) WHERE h.name = $1" +
            " UNION ALL SELECT host_key, submitted_at FROM restorecluster_job WHERE split_part(target, '/', 1) = $1 OR host_key = $1) k " +
            "GROUP BY host_key ORDER BY max(at) DESC", conn);
        select.Parameters.Add(new NpgsqlParameter { Value = name });
        await using var reader = await select.ExecuteReaderAsync(cancellation).ConfigureAwait(false);
        var keys = new List<string>();
        while (await reader.ReadAsync(cancellation).ConfigureAwait(false))
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }
}
