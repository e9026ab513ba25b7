namespace RestoreCluster.Planning;

/// <summary>
/// Work waiting for a free worker slot: the job it is of, the job's priority, the target server it runs on and
/// whether that server has room in its budget now, the work left behind it (the longest remaining chain of the
/// job's units, or the job's remaining data), and how long it has waited.
/// </summary>
public readonly record struct FleetCandidate(string Job, int Priority, string Host, bool HostHasRoom, double RemainingWork, TimeSpan Waited);

/// <summary>
/// Which waiting work a free worker slot takes, over every job of a fleet (docs/concurrency.md, "Scheduling across
/// jobs"). A slot never takes work for a server at its budget (it would only wait there, while other servers have
/// room). Among the rest: work that has waited past <see cref="StarvationLimit"/> first, the longest-waiting of it,
/// so no job starves; then the higher priority; then the most work left behind it, which is longest-processing-time
/// first: the job whose remaining chain is longest is the one that decides the fleet's finish, so starting it early
/// shortens the makespan; ties to the longest wait, then the job id (deterministic).
/// </summary>
public static class FleetPolicy
{
    /// <summary>How long work may wait while other work is preferred before it is taken first.</summary>
    public static readonly TimeSpan StarvationLimit = TimeSpan.FromSeconds(30);

    /// <summary>The index of the candidate a free slot takes; -1 when none may run now (every one's server is at its budget).</summary>
    public static int Choose(IReadOnlyList<FleetCandidate> candidates)
    {
        int best = -1;
        for (int i = 0; i < candidates.Count; i++)
        {
            if (candidates[i].HostHasRoom && (best < 0 || Before(candidates[i], candidates[best])))
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>True when <paramref name="a"/> goes before <paramref name="b"/>.</summary>
    public static bool Before(FleetCandidate a, FleetCandidate b)
    {
        bool aStarved = a.Waited >= StarvationLimit, bStarved = b.Waited >= StarvationLimit;
        if (aStarved != bStarved)
        {
            return aStarved;
        }

        if (aStarved && a.Waited != b.Waited)
        {
            return a.Waited > b.Waited;
        }

        if (a.Priority != b.Priority)
        {
            return a.Priority > b.Priority;
        }

        if (a.RemainingWork != b.RemainingWork)
        {
            return a.RemainingWork > b.RemainingWork;
        }

        return a.Waited != b.Waited ? a.Waited > b.Waited : string.CompareOrdinal(a.Job, b.Job) < 0;
    }
}
