using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RestoreCluster.Grains;

/// <summary>
/// The telemetry of the grains: one ActivitySource (the job span) and one Meter (host budgets). The spans and
/// instruments of the units themselves are the restore library's (RestoreCluster.Restore.RestoreInstruments).
/// </summary>
public static class GrainInstruments
{
    public const string Name = "RestoreCluster.Grains";

    /// <summary>The tag naming a target host (its budget grain's key) on the host instruments.</summary>
    public const string HostTag = "restorecluster.host";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> PermitWaits = Meter.CreateCounter<long>("restorecluster.permit.waits", "{wait}", "permit requests refused because the host budget was used up");

    public static readonly Histogram<double> PermitWaitTime = Meter.CreateHistogram<double>("restorecluster.permit.wait_time", "s", "time from a slot's first refused permit request to its grant (0 when granted at once)");

    public static readonly Histogram<double> ReadyToLease = Meter.CreateHistogram<double>(
        "restorecluster.unit.ready_to_lease", "s", "for a lease call that waited for work: from the change that made units ready to the lease it got");

    public static readonly UpDownCounter<long> InFlight = Meter.CreateUpDownCounter<long>("restorecluster.host.in_flight", "{permit}", "permits held against a target host: sessions that run units");

    /// <summary>
    /// Starts the span of a whole restore job; it becomes the parent of the unit spans through
    /// <c>JobSpec.TraceParent</c>. Null when nobody listens.
    /// </summary>
    public static Activity? StartJob(string jobId, string archive, int jobs, int hostBudget)
    {
        var activity = Source.StartActivity("restore job");
        activity?.SetTag("restorecluster.job_id", jobId);
        activity?.SetTag("restorecluster.archive", archive);
        activity?.SetTag("restorecluster.jobs", jobs);
        activity?.SetTag("restorecluster.host_budget", hostBudget);
        return activity;
    }

    internal static KeyValuePair<string, object?> Host(string host) => new(HostTag, host);
}
