using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// What status shows, read from the grains at one moment: jobs, the hosts of their targets, the active silos. A grain
/// that does not answer within <see cref="CallLimit"/> (its silo hangs, or died and is not yet declared dead: an
/// external client's call to it gets no early failure) is shown as unreachable (null) instead of holding status up.
/// </summary>
internal sealed record ClusterSnapshot(
    IReadOnlyList<(JobEntry Entry, JobStatus? Status, string? Coordinator)> Jobs,
    IReadOnlyList<(string Host, HostStatus? Status)> Hosts,
    IReadOnlyList<(string Address, string Name, WorkerInfo? Worker)> Silos)
{
    /// <summary>How long status waits for one grain's answer.</summary>
    public static TimeSpan CallLimit { get; } = TimeSpan.FromSeconds(5);

    /// <summary>Every job (or the one named), the budgets of their hosts and every active silo's worker, asked all at once.</summary>
    public static async Task<ClusterSnapshot> TakeAsync(IGrainFactory grains, RestoreCluster.Restore.ClusterDatabase database, string? jobId)
    {
        var entries = (await RestoreCluster.Hosting.JobRegistry.ListAsync(database, jobId)).Where(e => jobId is null || e.JobId == jobId).ToList();
        var jobs = entries.Select(async entry =>
        {
            var coordinator = grains.GetGrain<ICoordinatorGrain>(entry.JobId);
            var status = await AnswerAsync(coordinator.Status);
            return (entry, status, status is null ? null : await AnswerAsync(coordinator.Silo));
        }).ToList();
        var hosts = entries.Select(e => e.HostKey).Distinct(StringComparer.Ordinal)
            .Select(async host => (host, await AnswerAsync(grains.GetGrain<IHostBudgetGrain>(host).Status))).ToList();
        var members = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        var silos = members.Where(m => m.Status == SiloStatus.Active)
            .Select(async m => (m.SiloAddress.Endpoint.ToString(), m.SiloName, await AnswerAsync(grains.GetGrain<IWorkerGrain>(m.SiloName).Info))).ToList();
        return new ClusterSnapshot(
            await Task.WhenAll(jobs), await Task.WhenAll(hosts), (await Task.WhenAll(silos)).OrderBy(s => s.SiloName, StringComparer.Ordinal).ToList());
    }

    // The grain's answer, or null when it gives none within CallLimit or its silo is gone.
    private static async Task<T?> AnswerAsync<T>(Func<Task<T>> call)
        where T : class
    {
        try
        {
            return await call().WaitAsync(CallLimit);
        }
        catch (Exception e) when (RestoreCluster.Grains.SlotRecovery.IsGrainUnreachable(e))
        {
            return null;
        }
    }
}
