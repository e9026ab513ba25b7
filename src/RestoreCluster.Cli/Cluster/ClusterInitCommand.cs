using System.CommandLine;
using System.Text;
using Npgsql;
using RestoreCluster.Hosting;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// <c>restorecluster cluster init --cluster CONNSTR</c>: creates the cluster's tables (idempotently), or upgrades
/// an older schema, and says which schema version the database holds.
/// </summary>
internal sealed class ClusterInitCommand
{
    private readonly Option<string?> _cluster = ClusterOption.Create();

    public ClusterInitCommand()
    {
        var init = new Command("init", "create (or upgrade) the cluster's tables in the --cluster database") { _cluster };
        Command = new Command("cluster", "manage the cluster database") { init };
        Init = init;
    }

    public Command Command { get; }

    public Command Init { get; }

    public int Run(ParseResult p, CliOutput io)
    {
        var database = ClusterOption.Resolve(p, _cluster);
        IReadOnlyList<int> applied;
        try
        {
            applied = ClusterSchema.InitAsync(database).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new CliError($"could not initialise the cluster database {database}: {e.Message.Split('\n')[0].Trim()}");
        }

        using var stdout = new StreamWriter(io.OpenStdout(), new UTF8Encoding(false));
        stdout.WriteLine(applied.Count == 0
            ? $"cluster database {database} is up to date (schema version {ClusterSchema.Latest})"
            : $"cluster database {database}: applied schema version{(applied.Count > 1 ? "s" : "")} {string.Join(", ", applied)} (now {ClusterSchema.Latest})");
        return ExitCodes.Success;
    }
}
