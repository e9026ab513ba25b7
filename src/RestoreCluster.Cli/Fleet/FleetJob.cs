using RestoreCluster.Archive;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli.Fleet;

/// <summary>
/// One restore of a manifest made ready to submit: its archive open, its entries in order, restore's options as
/// restore would read them, its target resolved (with the submitter's password, which stays here), how wide it
/// runs and the key of its target server's budget.
/// </summary>
internal sealed record FleetJob(
    ManifestRestore Restore, PgArchive Archive, IReadOnlyList<TocEntry> Order, RestoreOptions Options, ConnectionTarget Target, int Jobs, HostBudgetChoice OwnBudget,
    bool Resume, string HostKey)
{
    /// <summary>The table data this restore loads: the archive's data sizes, as status counts them.</summary>
    public long DataBytes => Order.Sum(e => e.DataLength);

    /// <summary>The line submit prints for it: the archive as the manifest names it, where it goes (no password).</summary>
    public string Describe() => $"{Restore.Archive} -> {Target}";
}

/// <summary>
/// A target server of a fleet: the manifest's name for it, its budget key, its budget (an adaptive one's maximum when
/// <see cref="Adaptive"/>), its globals file, its jobs.
/// </summary>
internal sealed record FleetServer(string Name, string HostKey, int Budget, string? Globals, IReadOnlyList<FleetJob> Jobs, Grains.Abstractions.AdaptiveBudgetSpec? Adaptive = null)
{
    /// <summary>The budget as the plan shows it: <c>3</c>, or <c>auto:4, protect 50 ms</c>.</summary>
    public string BudgetText => Adaptive?.ToString() ?? Budget.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The fleet's servers: the jobs grouped by budget key (one server reached under two names counts once). A server
    /// listed in <c>hosts</c> has its budget and globals; an unlisted one the largest budget its restores ask for
    /// (<c>--host-budget</c>, else <c>-j</c>), adaptive when that restore's is.
    /// </summary>
    public static IReadOnlyList<FleetServer> Of(IReadOnlyList<FleetJob> jobs) =>
        jobs.GroupBy(j => j.HostKey, StringComparer.Ordinal)
            .Select(g =>
            {
                var listed = g.Select(j => j.Restore.Host).FirstOrDefault(h => h is not null);
                string name = listed?.Key ?? g.First().Target.HostLabel;
                var own = g.Select(j => j.OwnBudget).MaxBy(b => b.HostBudget)!;
                return listed is not null
                    ? new FleetServer(name, g.Key, listed.Budget, listed.Globals, g.ToList(), listed.Adaptive)
                    : new FleetServer(name, g.Key, own.HostBudget, null, g.ToList(), own.Adaptive);
            })
            .ToList();
}
