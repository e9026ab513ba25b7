using System.CommandLine;
using System.Diagnostics;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// <c>restorecluster wait --cluster CONNSTR JOB</c>: blocks until the job ends, printing its messages as <c>restore</c>
/// does, and exits as <c>restore</c> would (0; 1 with "errors ignored on restore: N"; 1 with the failure). Given a
/// fleet's id, it waits for every job of the fleet (FleetWait).
/// </summary>
internal sealed class WaitCommand
{
    private readonly Option<string?> _cluster = ClusterOption.Create();
    private readonly Option<string> _progress = new("--progress") { HelpName = "MODE", Description = "progress display: auto, plain, json or none", DefaultValueFactory = _ => "none" };
    private readonly Argument<string> _job = new("job") { Description = "the job id submit printed" };

    public WaitCommand()
    {
        Command = new Command("wait", "block until a job ends; exit code as restore") { _cluster, _progress, _job };
    }

    public Command Command { get; }

    public int Run(ParseResult p, CliOutput io) => RunAsync(p, io).GetAwaiter().GetResult();

    private async Task<int> RunAsync(ParseResult p, CliOutput io)
    {
        var database = ClusterOption.Resolve(p, _cluster);
        await using var cluster = await ClusterClient.ConnectAsync(database, ClusterTlsOptions.Resolve(p));
        string id = p.GetValue(_job)!;
        if (await JobRegistry.FleetAsync(database, id) is { Count: > 0 } fleet)
        {
            return await Fleet.FleetWait.RunAsync(cluster, id, fleet, io);
        }

        var (coordinator, job) = await cluster.FindJobAsync(id);
        var status = await JobWatch.FollowAsync(
            coordinator, cluster.Grains.GetGrain<IHostBudgetGrain>(job.HostKey), p.GetValue(_progress) ?? "none", TimeSpan.Zero, job.Target, io, null,
            Stopwatch.StartNew(), JobWatch.OnInterrupt.Detach);
        return status is null ? ExitCodes.Failure : JobWatch.Exit(status, io, $"job {job.JobId} was cancelled");
    }
}
