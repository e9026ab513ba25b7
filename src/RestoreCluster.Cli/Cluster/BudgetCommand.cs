using System.CommandLine;
using System.Text;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// <c>restorecluster budget --cluster CONNSTR set HOST:PORT N</c>: changes a target server's budget while jobs run. A
/// higher budget lets waiting slots in at once; a lower one takes effect as running batches end (each gives its
/// permit back while the server holds more than the budget). The budget grain stores it. The server is found by the
/// name a fleet's manifest or a job's target gives it (HOST:PORT), or by its budget key as status shows it.
/// </summary>
internal sealed class BudgetCommand
{
    private readonly Option<string?> _cluster = ClusterOption.Create();
    private readonly Argument<string> _host = new("host") { HelpName = "HOST:PORT", Description = "the target server as a manifest's hosts or a job's target name it, or its budget key (status)" };
    private readonly Argument<string> _budget = new("budget") { HelpName = "N", Description = "the most sessions of ours on that server at once (at least 1)" };

    public BudgetCommand()
    {
        // --cluster before or after "set" (cli.md's form is budget --cluster CONNSTR set HOST:PORT N).
        _cluster.Recursive = true;
        Set = new Command("set", "change a target server's budget while jobs run") { _host, _budget };
        Command = new Command("budget", "target servers' budgets") { _cluster, Set };
    }

    public Command Command { get; }

    public Command Set { get; }

    public int Run(ParseResult p, CliOutput io) => RunAsync(p, io).GetAwaiter().GetResult();

    private async Task<int> RunAsync(ParseResult p, CliOutput io)
    {
        int budget = RestoreCommand.ParseInt(p.GetValue(_budget)!, "budget", 1, int.MaxValue);
        string host = p.GetValue(_host)!;
        var database = ClusterOption.Resolve(p, _cluster);
        await using var cluster = await ClusterClient.ConnectAsync(database, ClusterTlsOptions.Resolve(p));
        var keys = await FleetRegistry.HostKeysAsync(database, host);
        if (keys.Count == 0)
        {
            throw new CliError($"no fleet or job of the cluster in {database} restores into {host}");
        }

        using var stdout = new StreamWriter(io.OpenStdout(), new UTF8Encoding(false)) { AutoFlush = true };
        foreach (string key in keys)
        {
            var grain = cluster.Grains.GetGrain<IHostBudgetGrain>(key);
            var before = await grain.Status();
            await grain.SetBudget(budget);
            string when = budget >= before.Budget ? "now" : "as running units finish";
            await stdout.WriteLineAsync($"{host} ({key}): budget {before.Budget} -> {budget} ({before.InFlight} in flight; takes effect {when})");
        }

        return ExitCodes.Success;
    }
}
