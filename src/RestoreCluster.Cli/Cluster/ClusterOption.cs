using System.CommandLine;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// <c>--cluster CONNSTR</c>, on every cluster command: the PostgreSQL database that holds the cluster (an Npgsql
/// connection string or any form -d takes; default: <c>RESTORECLUSTER_CLUSTER</c>).
/// </summary>
internal static class ClusterOption
{
    public static Option<string?> Create() => new("--cluster")
    {
        HelpName = "CONNSTR",
        Description = $"the cluster's PostgreSQL database: an Npgsql connection string, a database name, a key=value string or a URI (default: ${ClusterDatabase.EnvironmentVariable})",
    };

    /// <summary>The cluster database the option (or the environment) names; a usage error when neither does.</summary>
    public static ClusterDatabase Resolve(ParseResult p, Option<string?> option)
    {
        try
        {
            return ClusterDatabase.Resolve(p.GetValue(option))
                ?? throw new CliError($"no cluster database: give --cluster CONNSTR or set {ClusterDatabase.EnvironmentVariable}", ExitCodes.Usage);
        }
        catch (ArgumentException e)
        {
            throw new CliError($"invalid --cluster: {e.Message}", ExitCodes.Usage);
        }
    }
}
