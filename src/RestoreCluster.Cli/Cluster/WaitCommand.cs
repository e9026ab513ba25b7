using System.CommandLine;
using System.Diagnostics;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// <c>restorecluster wait --cluster CONNSTR JOB</c>: blocks until the job ends, printing its messages as <c>restore</c>
/// does, and exits as <c>restore</c> would (0; 1 with "errors ignored on restore: N"; 1 with the failure).
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
        var (coordinator, job) = await cluster.FindJobAsync(p.GetValue(_job)!);
        var status = await JobWatch.FollowAsync(
            coordinator, cluster.Grains.GetGrain<IHostBudgetGrain>(job.HostKey), p.GetValue(_progress) ?? "none", TimeSpan.Zero, job.Target, io, null,
            Stopwatch.StartNew(), JobWatch.OnInterrupt.Detach);
        return status is null ? ExitCodes.Failure : JobWatch.Exit(status, io, $"job {job.JobId} was cancelled");
    }
}
