using System.CommandLine;
using System.Text;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// <c>restorecluster cancel --cluster CONNSTR JOB</c>: the job hands out no more units; the running ones are
/// stopped and rolled back (the journal in the target keeps what was done, for <c>restore --resume</c>).
/// </summary>
internal sealed class CancelCommand
{
    private readonly Option<string?> _cluster = ClusterOption.Create();
    private readonly Argument<string> _job = new("job") { Description = "the job id submit printed" };

    public CancelCommand()
    {
        Command = new Command("cancel", "stop a job: no more units are handed out, running units roll back") { _cluster, _job };
    }

    public Command Command { get; }

    public int Run(ParseResult p, CliOutput io) => RunAsync(p, io).GetAwaiter().GetResult();

    private async Task<int> RunAsync(ParseResult p, CliOutput io)
    {
        var database = ClusterOption.Resolve(p, _cluster);
        await using var cluster = await ClusterClient.ConnectAsync(database, ClusterTlsOptions.Resolve(p));
        var (coordinator, job) = await cluster.FindJobAsync(p.GetValue(_job)!);
        var before = await coordinator.Status();
        if (before.State is JobState.Running or JobState.NotStarted)
        {
            await coordinator.Cancel();
        }

        var after = await coordinator.Status();
        using var stdout = new StreamWriter(io.OpenStdout(), new UTF8Encoding(false));
        stdout.WriteLine($"job {job.JobId}: {StatusCommand.StateName(after.State)}");
        return ExitCodes.Success;
    }
}
