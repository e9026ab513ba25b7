namespace RestoreCluster.Hosting;

/// <summary>What a silo's <c>/healthz</c> says: active (200), or starting or draining (503).</summary>
public enum SiloHealthState
{
    Starting,
    Active,
    Draining,
}

/// <summary>
/// The health decision: a silo is ready for work only while the membership table has it active and it is not
/// stopping. Once SIGTERM arrives it drains (its worker leases no more units) and says so, though Orleans still
/// lists it as active until it leaves.
/// </summary>
public static class SiloHealth
{
    public static SiloHealthState Of(SiloStatus membership, bool stopping) => (membership, stopping) switch
    {
        (_, true) => SiloHealthState.Draining,
        (SiloStatus.Active, false) => SiloHealthState.Active,
        (SiloStatus.ShuttingDown or SiloStatus.Stopping or SiloStatus.Dead, false) => SiloHealthState.Draining,
        _ => SiloHealthState.Starting,
    };

    public static string Describe(SiloHealthState state) => state switch
    {
        SiloHealthState.Active => "active",
        SiloHealthState.Draining => "draining",
        _ => "starting",
    };
}
