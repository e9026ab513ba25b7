using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>
/// A session to the target's own database for work beside a restore (<c>forget</c>'s journal, <c>tune</c>'s
/// CREATE and DROP DATABASE and statistics): connected as a restore's sessions are (password prompt once when the
/// server asks, transient faults retried), with an empty search_path.
/// </summary>
public static class MaintenanceSession
{
    /// <summary><paramref name="failed"/> makes the exception for a session that connected but could not be set up.</summary>
    public static NpgsqlConnection Open(
        ConnectionTarget target, Func<string?>? promptPassword, Action<string>? reportWarning, Func<NpgsqlException, Exception>? failed = null)
    {
        var connector = new TargetConnector(target, ArchiveEncoding.ForName("UTF8")!, promptPassword, reportWarning);
        var conn = connector.Open(target.Database);
        try
        {
            using var cmd = new NpgsqlCommand("SELECT pg_catalog.set_config('search_path', '', false)", conn);
            cmd.ExecuteNonQuery();
            return conn;
        }
        catch (NpgsqlException e)
        {
            conn.Dispose();
            throw failed?.Invoke(e) ?? new RestoreFailedException($"could not use the connection to {target}: {e.Message}", e);
        }
    }
}
