using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// The budget key of a job's target server: its system identifier and port where the role may read them,
/// so one server reached by different names, addresses or a socket counts once; else the resolved name.
/// The one connection this takes holds a permit of the name's budget.
/// </summary>
public static class HostIdentity
{
    /// <param name="reportWarning">Where a retried connect is reported (the restore's warnings).</param>
    public static async Task<string> ResolveAsync(
        IGrainFactory grains, ConnectionTarget target, int budget, Action<string>? reportWarning = null, CancellationToken cancellation = default)
    {
        string byName = HostKey.For(target);
        var nameBudget = grains.GetGrain<IHostBudgetGrain>(byName);
        await nameBudget.SetBudget(budget);
        string owner = $"identify-{Guid.NewGuid():N}";
        Permit? permit;
        while ((permit = await nameBudget.Acquire(owner, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10))) is null)
        {
            cancellation.ThrowIfCancellationRequested();
        }

        try
        {
            return await Task.Run(() => ServerIdentity.Read(target, reportWarning), cancellation) ?? byName;
        }
        finally
        {
            await nameBudget.Release(permit.PermitId);
        }
    }
}
