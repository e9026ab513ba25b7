using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>
/// Pre-data in parallel (issue 11; docs/concurrency.md, "The ordering", item 1): pg_restore's leader runs all of
/// pre-data on one connection; the plan keeps that serial order except for groups, runs of consecutive prefork entries
/// that can run side by side on any slot. A group is a maximal run, in restore order, of prefork entries that
/// <list type="bullet">
/// <item>are plain tables or sequences (<c>TABLE</c>, <c>SEQUENCE</c>: a CREATE and its ALTER OWNER and the like),
/// restored;</item>
/// <item>depend on no TABLE entry at all: an inheritance child or a partition locks its parent in its CREATE, and two
/// sessions each holding one parent in an open batch and waiting for the other's would deadlock;</item>
/// <item>depend only on prefork entries before the run, or on entries not in the TOC: nothing of the run waits for
/// another entry of it, or for anything after it;</item>
/// </list>
/// with at least <see cref="MinEntries"/> entries (a small run is not worth the barrier after it). The first prefork
/// entry is never in a group: the first serial step starts the restore (the journal, -C, -c's drops).
/// </summary>
/// <param name="MinEntries">The fewest entries of a group; 0: no groups (all of pre-data serial, as pg_restore).</param>
public sealed record PreDataGroups(int MinEntries)
{
    /// <summary>All of pre-data on one session, as pg_restore.</summary>
    public static PreDataGroups Off { get; } = new(0);

    public bool IsOn => MinEntries > 0;

    /// <summary>
    /// Groups for a job whose units run on <paramref name="slots"/> sessions at once (min(-j, host budget)): runs of at
    /// least 2 × slots entries, so that each slot gets two or more; none below 2 slots.
    /// </summary>
    public static PreDataGroups ForSlots(int slots) => slots < 2 ? Off : new(2 * slots);

    /// <summary>
    /// The groups among <paramref name="prefork"/> (entry indices into <paramref name="order"/>, in restore order): each
    /// a list of entry indices, in restore order.
    /// </summary>
    public IReadOnlyList<int[]> Find(IReadOnlyList<PlanEntry> order, IReadOnlyList<int> prefork)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(prefork);
        var groups = new List<int[]>();
        if (!IsOn)
        {
            return groups;
        }

        var position = new Dictionary<int, int>(order.Count);
        for (int i = 0; i < order.Count; i++)
        {
            position.TryAdd(order[i].DumpId, i);
        }

        var isPrefork = new HashSet<int>(prefork);
        var run = new List<int>();
        void Close()
        {
            if (run.Count >= MinEntries)
            {
                groups.Add([.. run]);
            }

            run.Clear();
        }

        // The first prefork entry stays serial: the restore's start goes with it.
        for (int k = 1; k < prefork.Count; k++)
        {
            int i = prefork[k];
            if (!Fits(order, position, isPrefork, i, run.Count > 0 ? run[0] : i))
            {
                Close();
                continue;
            }

            run.Add(i);
        }

        Close();
        return groups;
    }

    // A plain table or sequence, restored, whose dependencies are no tables and are prefork entries before the run that
    // it would join.
    private static bool Fits(IReadOnlyList<PlanEntry> order, Dictionary<int, int> position, HashSet<int> isPrefork, int i, int runStart)
    {
        var e = order[i];
        if (e.Desc is not ("TABLE" or "SEQUENCE") || e.Section != ArchiveSection.PreData || !e.Parts.IsRestored() || e.Chunk is not null)
        {
            return false;
        }

        foreach (int dep in e.Dependencies)
        {
            if (position.TryGetValue(dep, out int d) && (d >= runStart || !isPrefork.Contains(d) || order[d].Desc == "TABLE"))
            {
                return false;
            }
        }

        return true;
    }
}
