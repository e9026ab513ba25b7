using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>Identifies the server behind a target, whatever name or address reaches it.</summary>
public static class ServerIdentity
{
    /// <summary>
    /// <c>pg:&lt;system identifier&gt;:&lt;port&gt;</c> when the role may read pg_control_system(), else null.
    /// Connection failures are reported as restores report them; a connect retried after a passing failure
    /// (the server restarting, say) goes to <paramref name="reportWarning"/>.
    /// </summary>
    public static string? Read(ConnectionTarget target, Action<string>? reportWarning = null)
    {
        var connector = new TargetConnector(target, ArchiveEncoding.ForName("UTF8")!, promptPassword: null, reportWarning);
        using var conn = connector.Open(target.Database);
        try
        {
            using var cmd = new NpgsqlCommand(
                "SELECT (SELECT system_identifier FROM pg_catalog.pg_control_system())::text || ':' || pg_catalog.current_setting('port')", conn);
            return "pg:" + (string)cmd.ExecuteScalar()!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            return null;
        }
    }
}
