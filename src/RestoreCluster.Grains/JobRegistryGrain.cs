using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Grains;

/// <summary>The cluster's submitted jobs, newest last (status lists them); in memory, as long as its silo lives.</summary>
public sealed class JobRegistryGrain : Grain, IJobRegistryGrain
{
    private readonly List<JobEntry> _jobs = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Held for the life of the silo: an idle registry must not be collected with the list it holds.
        DelayDeactivation(TimeSpan.FromDays(3650));
        return Task.CompletedTask;
    }

    public Task Add(JobEntry job)
    {
        if (!_jobs.Any(j => j.JobId == job.JobId))
        {
            _jobs.Add(job);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<JobEntry>> Jobs() => Task.FromResult<IReadOnlyList<JobEntry>>(_jobs.ToList());
}
