using System.Globalization;

namespace RestoreCluster.Planning;

/// <summary>
/// <c>--host-memory</c>'s settings for a unit that builds an index (INDEX, and CONSTRAINT: a primary key or unique
/// constraint builds one), set with <c>SET LOCAL</c> first in the unit's transaction so that nothing outlives it
/// (docs/restore.md, "Session settings of units"). Pure: the rule is here, the unit only sends it.
/// <list type="bullet">
/// <item><c>maintenance_work_mem</c>: the host's memory shared out over its budget (SIZE / host budget), never below
/// the server's own setting (the budget is for going faster, not for starving a build the server would give more),
/// within PostgreSQL's limits (1 MB to 2147483647 kB).</item>
/// <item><c>max_parallel_maintenance_workers</c>: the budget's room when the unit was leased (host budget − the job's
/// units leased then, itself included), so a build that starts while fewer units run than the budget allows may use
/// the idle sessions' share as parallel workers. The memory stays the unit's share: PostgreSQL divides a build's
/// <c>maintenance_work_mem</c> among its workers, and gives fewer workers when each would get under 32 MB.</item>
/// </list>
/// </summary>
public sealed record MaintenanceSettings(long WorkMemKb, int ParallelWorkers)
{
    /// <summary>PostgreSQL's least <c>maintenance_work_mem</c>: 1 MB.</summary>
    public const long MinWorkMemKb = 1024;

    /// <summary>PostgreSQL's largest <c>maintenance_work_mem</c> (MAX_KILOBYTES on 64-bit servers).</summary>
    public const long MaxWorkMemKb = int.MaxValue;

    /// <summary>PostgreSQL's largest <c>max_parallel_maintenance_workers</c> (MAX_PARALLEL_WORKER_LIMIT).</summary>
    public const int MaxParallelWorkers = 1024;

    /// <summary>
    /// The settings of a unit of <paramref name="desc"/>, or null when it gets none (no <c>--host-memory</c>, or the
    /// unit builds no index). <paramref name="spareSessions"/>: the budget's room when it was leased.
    /// </summary>
    public static MaintenanceSettings? For(string desc, long hostMemoryBytes, int hostBudget, int spareSessions, long serverWorkMemKb)
    {
        if (hostMemoryBytes <= 0 || desc is not ("INDEX" or "CONSTRAINT"))
        {
            return null;
        }

        long share = hostMemoryBytes / 1024 / Math.Max(1, hostBudget);
        long kb = Math.Clamp(Math.Max(share, serverWorkMemKb), MinWorkMemKb, MaxWorkMemKb);
        return new MaintenanceSettings(kb, Math.Clamp(spareSessions, 0, MaxParallelWorkers));
    }

    /// <summary>The statements, for the start of the unit's transaction.</summary>
    public IReadOnlyList<string> Sql() =>
    [
        string.Create(CultureInfo.InvariantCulture, $"SET LOCAL maintenance_work_mem = '{WorkMemKb}kB'"),
        string.Create(CultureInfo.InvariantCulture, $"SET LOCAL max_parallel_maintenance_workers = {ParallelWorkers}"),
    ];
}
