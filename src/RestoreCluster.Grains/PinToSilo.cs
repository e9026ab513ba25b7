using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace RestoreCluster.Grains;

/// <summary>
/// Places a grain on the active silo whose <c>SiloOptions.SiloName</c> is the grain's key: each silo's worker
/// runs on that silo, never elsewhere (a worker of a dead silo is not recreated on another one; the units it
/// leased lapse and run again). A key naming no silo at all is placed on the calling silo. Orleans' role-based placement cannot do this (its role is the entry assembly's
/// name), so this is a director of our own, registered on every silo.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("RestoreCluster.PinToSiloStrategy")]
public sealed class PinToSiloStrategy : PlacementStrategy;

/// <summary>Marks a grain class as placed by <see cref="PinToSiloDirector"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class PinToSiloAttribute() : PlacementAttribute(new PinToSiloStrategy());

/// <summary>The director of <see cref="PinToSiloStrategy"/>: the active silo named as the grain's key.</summary>
public sealed class PinToSiloDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string name = target.GrainIdentity.Key.ToString()!;
        var named = membership.CurrentSnapshot.Members.Values.Where(m => m.Name == name).ToList();
        if (named.Count == 0)
        {
            // A key that names no silo of the cluster, dead or alive, is a worker of the calling silo's own (the
            // embedded silo's tests run several workers in one silo).
            return Task.FromResult(context.LocalSilo);
        }

        var compatible = context.GetCompatibleSilos(target);
        var silo = named.FirstOrDefault(m => m.Status == SiloStatus.Active && compatible.Contains(m.SiloAddress));
        return silo is null
            ? throw new OrleansException($"no active silo named \"{name}\" for its worker")
            : Task.FromResult(silo.SiloAddress);
    }
}
