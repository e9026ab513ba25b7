using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RestoreCluster.Grains;

/// <summary>The telemetry of the grains: one ActivitySource and one Meter.</summary>
public static class GrainInstruments
{
    public const string Name = "RestoreCluster.Grains";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> PermitWaits = Meter.CreateCounter<long>("restorecluster.permit.waits", "{wait}", "permit requests refused because the host budget was used up");

    public static readonly UpDownCounter<long> InFlight = Meter.CreateUpDownCounter<long>("restorecluster.host.in_flight", "{unit}", "units running against a target host");
}
