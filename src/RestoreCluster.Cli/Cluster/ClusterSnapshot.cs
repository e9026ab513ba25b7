using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli.Cluster;

/// <summary>What status shows, read from the grains at one moment: jobs, the hosts of their targets, the active silos.</summary>
internal sealed record ClusterSnapshot(
    IReadOnlyList<(JobEntry Entry, JobStatus Status, string Coordinator)> Jobs, IReadOnlyList<HostStatus> Hosts, IReadOnlyList<(string Address, WorkerInfo Worker)> Silos)
{
    /// <summary>Every job (or the one named), the budgets of their hosts and every active silo's worker.</summary>
    public static async Task<ClusterSnapshot> TakeAsync(IGrainFactory grains, RestoreCluster.Restore.ClusterDatabase database, string? jobId)
    {
        var entries = await RestoreCluster.Hosting.JobRegistry.ListAsync(database, jobId);
        var jobs = new List<(JobEntry, JobStatus, string)>();
        foreach (var entry in entries.Where(e => jobId is null || e.JobId == jobId))
        {
            var coordinator = grains.GetGrain<ICoordinatorGrain>(entry.JobId);
            jobs.Add((entry, await coordinator.Status(), await coordinator.Silo()));
        }

        var hosts = new List<HostStatus>();
        foreach (string host in jobs.Select(j => j.Item1.HostKey).Distinct(StringComparer.Ordinal))
        {
            hosts.Add(await grains.GetGrain<IHostBudgetGrain>(host).Status());
        }

        var silos = new List<(string, WorkerInfo)>();
        foreach (var member in await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true))
        {
            if (member.Status == SiloStatus.Active)
            {
                silos.Add((member.SiloAddress.Endpoint.ToString(), await grains.GetGrain<IWorkerGrain>(member.SiloName).Info()));
            }
        }

        return new ClusterSnapshot(jobs, hosts, silos.OrderBy(s => s.Item2.Silo, StringComparer.Ordinal).ToList());
    }
}
