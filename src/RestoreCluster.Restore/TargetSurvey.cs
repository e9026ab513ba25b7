using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>
/// What a fleet's dry run reads on a target server, changing nothing: the roles there, and whether the databases it
/// names exist. One short session to the target's maintenance database (<c>postgres</c>).
/// </summary>
public sealed record TargetSurvey(IReadOnlySet<string> Roles, IReadOnlySet<string> Databases)
{
    public static TargetSurvey Read(ConnectionTarget target, Action<string>? reportWarning = null)
    {
        var connector = new TargetConnector(target, ArchiveEncoding.ForName("UTF8")!, promptPassword: null, reportWarning);
        using var conn = connector.Open("postgres");
        return new TargetSurvey(Names(conn, "SELECT rolname FROM pg_catalog.pg_roles"), Names(conn, "SELECT datname FROM pg_catalog.pg_database"));
    }

    private static HashSet<string> Names(NpgsqlConnection conn, string query)
    {
        using var command = new NpgsqlCommand(query, conn);
        using var reader = command.ExecuteReader();
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
