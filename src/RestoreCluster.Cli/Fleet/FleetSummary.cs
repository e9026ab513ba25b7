using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli.Fleet;

/// <summary>One target server's share of a fleet: table data done and in all (status counts running units by bytes read).</summary>
internal sealed record FleetHostBytes(string Host, long BytesDone, long BytesTotal);

/// <summary>
/// A fleet as status shows it: its jobs by state, the table data done per target server, and an ETA: the data left at
/// the rate the fleet has loaded so far (since it was submitted); null before any byte was loaded or once it ended.
/// </summary>
internal sealed record FleetSummary(string FleetId, IReadOnlyDictionary<JobState, int> JobsByState, IReadOnlyList<FleetHostBytes> Hosts, TimeSpan? Eta)
{
    /// <summary>The summaries of the fleets the jobs belong to, in the order they first appear.</summary>
    public static IReadOnlyList<FleetSummary> Of(IEnumerable<(JobEntry Entry, JobStatus Status)> jobs, DateTimeOffset now) =>
        jobs.Where(j => j.Entry.FleetId is not null)
            .GroupBy(j => j.Entry.FleetId!, StringComparer.Ordinal)
            .Select(fleet =>
            {
                var byState = fleet.GroupBy(j => j.Status.State).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
                var hosts = fleet.GroupBy(j => j.Entry.HostKey, StringComparer.Ordinal)
                    .Select(g => new FleetHostBytes(g.Key, g.Sum(j => Math.Min(j.Status.BytesDone, j.Status.BytesTotal)), g.Sum(j => j.Status.BytesTotal)))
                    .ToList();
                long done = hosts.Sum(h => h.BytesDone), total = hosts.Sum(h => h.BytesTotal);
                double seconds = (now - fleet.Min(j => j.Entry.Submitted)).TotalSeconds;
                bool running = fleet.Any(j => j.Status.State is JobState.Running or JobState.NotStarted);
                TimeSpan? eta = running && done > 0 && seconds > 0
                    ? TimeSpan.FromSeconds(Math.Ceiling((total - done) / (done / seconds)))
                    : null;
                return new FleetSummary(fleet.Key, byState, hosts, eta);
            })
            .ToList();
}
