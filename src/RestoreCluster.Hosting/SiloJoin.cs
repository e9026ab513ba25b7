using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;

namespace RestoreCluster.Hosting;

/// <summary>
/// When a silo has started, its worker joins the cluster's running jobs (submit joined the silos active then):
/// a silo added, or restarted, while jobs run takes their units too. Done in the background: a slow registry
/// never holds up the silo's start.
/// </summary>
internal sealed partial class SiloJoin(IGrainFactory grains, ClusterDatabase database, string siloName, ILogger<SiloJoin> logger) : IHostedService
{
    private Task? _joining;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _joining = Task.Run(JoinRunningJobsAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // A stopping silo tries no more.
        await _stop.CancelAsync().ConfigureAwait(false);
        await (_joining ?? Task.CompletedTask).ConfigureAwait(false);
    }

    private readonly CancellationTokenSource _stop = new();

    /// <summary>How long a starting silo keeps trying to join the running jobs.</summary>
    public static TimeSpan JoinPatience { get; } = TimeSpan.FromMinutes(3);

    private async Task JoinRunningJobsAsync()
    {
        // Right after every silo died, the dead ones are still Active in the membership until the new ones declare
        // them dead, and calls to grains whose directory or activation was theirs fail: try again for a while. A
        // job's coordinator asked here is taken up from storage (docs/cluster.md, "Jobs survive machines").
        var pause = TimeSpan.FromMilliseconds(500);
        var patience = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await JoinOnceAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or OperationCanceledException or Npgsql.NpgsqlException)
            {
                if (patience.Elapsed > JoinPatience || _stop.IsCancellationRequested)
                {
                    // The silo still takes the jobs submitted from now on.
                    Log.JoinFailed(logger, e, siloName);
                    return;
                }

                Log.JoinRetried(logger, siloName, e.GetType().Name, pause.TotalSeconds);
                await Task.Delay(pause, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                pause = RestoreCluster.Grains.SlotRecovery.NextPause(pause);
            }
        }
    }

    private async Task JoinOnceAsync()
    {
        var worker = grains.GetGrain<IWorkerGrain>(siloName);
        foreach (var job in await JobRegistry.ListAsync(database).ConfigureAwait(false))
        {
            var coordinator = grains.GetGrain<ICoordinatorGrain>(job.JobId);
            if ((await coordinator.Status().ConfigureAwait(false)).State == JobState.Running && await coordinator.Spec().ConfigureAwait(false) is { } spec)
            {
                await worker.Join(job.JobId, spec.Jobs).ConfigureAwait(false);
                Log.JoinedRunningJob(logger, siloName, job.JobId);
            }
        }
    }
}
