using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RestoreCluster.Restore;

/// <summary>The telemetry of the restore library: one ActivitySource and one Meter (wired to OpenTelemetry by the host).</summary>
public static class RestoreInstruments
{
    public const string Name = "RestoreCluster.Restore";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Units = Meter.CreateCounter<long>("restorecluster.units", "{unit}", "units restored");

    public static readonly Counter<long> Bytes = Meter.CreateCounter<long>("restorecluster.copy.bytes", "By", "table data bytes sent with COPY");

    public static readonly Counter<long> Rows = Meter.CreateCounter<long>("restorecluster.copy.rows", "{row}", "table data rows sent with COPY");

    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("restorecluster.unit.retries", "{retry}", "units run again after their session was lost");

    public static readonly Counter<long> ConnectRetries = Meter.CreateCounter<long>("restorecluster.connect.retries", "{retry}", "connects tried again after the target refused or was restarting");

    public static readonly Histogram<double> UnitDuration = Meter.CreateHistogram<double>("restorecluster.unit.duration", "s", "time to run one unit");
}
