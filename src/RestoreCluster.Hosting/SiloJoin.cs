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

    public Task StopAsync(CancellationToken cancellationToken) => _joining ?? Task.CompletedTask;

    private async Task JoinRunningJobsAsync()
    {
        try
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
        catch (Exception e) when (e is OrleansException or TimeoutException or Npgsql.NpgsqlException)
        {
            // The silo still takes the jobs submitted from now on.
            Log.JoinFailed(logger, e, siloName);
        }
    }
}
