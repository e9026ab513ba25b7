using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>One table or materialized view that <c>--analyze</c> analyzes in a unit of its own.</summary>
/// <param name="UnitId">The ANALYZE unit's ID (<see cref="AnalyzeUnits.IdOf"/>): its journal row and its lease.</param>
/// <param name="Relation">The TABLE or MATERIALIZED VIEW entry.</param>
public sealed record AnalyzeTarget(int UnitId, TocEntry Relation);

/// <summary>
/// <c>--analyze</c>'s units (docs/restore.md, "Ready to serve"): one ANALYZE per table and materialized view the
/// restore creates or loads, as soon as its data and everything that builds on its rows (its indexes and constraints;
/// for a materialized view, its REFRESH) are in. Each is a planned unit like an entry: it waits for a permit of the
/// host budget, is leased, journaled and reported. Its ID is the relation's dump ID plus <see cref="IdBase"/>, so it
/// never meets an entry's (dump IDs), a -c drop's (negated) or a serial batch's (0, -1). Pure.
/// </summary>
public static class AnalyzeUnits
{
    /// <summary>Added to a relation's dump ID to make its ANALYZE unit's ID. Dump IDs of an archive stay far below it.</summary>
    public const int IdBase = 1 << 30;

    /// <summary>The desc of the planned entries (and of their progress labels).</summary>
    public const string Desc = "ANALYZE";

    public static int IdOf(int relationDumpId) => IdBase + relationDumpId;

    /// <summary>Whether a unit ID is an ANALYZE unit's.</summary>
    public static bool IsAnalyze(int unitId) => unitId > IdBase;

    /// <summary>The dump ID of the relation an ANALYZE unit analyzes.</summary>
    public static int RelationOf(int unitId) => unitId - IdBase;

    /// <summary>
    /// The relations <c>--analyze</c> analyzes in units, in restore order: every TABLE and MATERIALIZED VIEW whose
    /// definition or data the restore runs. Partitioned tables are listed too (their dump entry is a TABLE); the unit
    /// itself leaves out what is not a plain table or materialized view when it runs, as vacuumdb does.
    /// </summary>
    public static IReadOnlyList<AnalyzeTarget> Targets(IReadOnlyList<TocEntry> order, IReadOnlyDictionary<int, RestoreParts> parts)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(parts);
        var loaded = new HashSet<int>();
        foreach (var te in order)
        {
            if (te.Desc is "TABLE DATA" or "MATERIALIZED VIEW DATA" && te.Dependencies.Count > 0 && parts.GetValueOrDefault(te.DumpId).IsRestored())
            {
                loaded.Add(te.Dependencies[0]);
            }
        }

        var targets = new List<AnalyzeTarget>();
        foreach (var te in order)
        {
            if (te.Desc is "TABLE" or "MATERIALIZED VIEW" && (parts.GetValueOrDefault(te.DumpId).IsRestored() || loaded.Contains(te.DumpId)))
            {
                if (te.DumpId >= IdBase)
                {
                    throw new PlanningException($"dump ID {te.DumpId} of {te.Desc} {te.Tag} is too large for --analyze's units");
                }

                targets.Add(new AnalyzeTarget(IdOf(te.DumpId), te));
            }
        }

        return targets;
    }

    /// <summary>
    /// The plan's entries with one ANALYZE entry after them per target. Each depends on its relation (the planner
    /// points that at the relation's TABLE DATA entries, all of them, as for any post-data entry) and on every INDEX,
    /// CONSTRAINT and MATERIALIZED VIEW DATA entry of it: ANALYZE samples the rows once they are all in, and its lock
    /// (SHARE UPDATE EXCLUSIVE) would wait for those builds anyway. It also depends on every FK CONSTRAINT of the
    /// relation and every one that references it (through the referenced key's entry): their locks and ANALYZE's
    /// wait on each other on the server (docs/concurrency.md). As a post-data entry that is no INDEX it locks its
    /// table data. Its pass is the latest of what it waits for (a
    /// materialized view's REFRESH runs in the post-ACL pass), so it runs in the pass where it becomes ready.
    /// </summary>
    public static PlanEntry[] AddTo(IReadOnlyList<PlanEntry> entries, IReadOnlyList<AnalyzeTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(targets);
        var builders = new Dictionary<int, List<PlanEntry>>();
        void Add(int table, PlanEntry e)
        {
            if (!builders.TryGetValue(table, out var list))
            {
                builders[table] = list = [];
            }

            list.Add(e);
        }

        // A key's (or index's) dependencies: its table. A foreign key depends on its table and on the referenced key.
        var keyDependencies = entries.Where(e => e.Desc is "INDEX" or "CONSTRAINT").ToDictionary(e => e.DumpId, e => e.Dependencies);
        foreach (var e in entries)
        {
            if (e.Desc is "INDEX" or "CONSTRAINT" or "MATERIALIZED VIEW DATA")
            {
                foreach (int dep in e.Dependencies)
                {
                    Add(dep, e);
                }
            }
            else if (e.Desc == "FK CONSTRAINT")
            {
                // Its ADD takes SHARE ROW EXCLUSIVE on its table and on the referenced one, its VALIDATE SHARE UPDATE
                // EXCLUSIVE on its table: an ANALYZE of either beside it would wait on the server, holding a slot.
                foreach (int dep in e.Dependencies)
                {
                    Add(dep, e);
                    foreach (int table in keyDependencies.GetValueOrDefault(dep) ?? [])
                    {
                        Add(table, e);
                    }
                }
            }
        }

        var result = new List<PlanEntry>(entries.Count + targets.Count);
        result.AddRange(entries);
        foreach (var target in targets)
        {
            var relation = target.Relation;
            var on = builders.GetValueOrDefault(relation.DumpId) ?? [];
            var pass = on.Count == 0 ? RestorePass.Main : on.Max(b => b.Pass);
            string name = string.IsNullOrEmpty(relation.Namespace) ? relation.Tag : $"{relation.Namespace}.{relation.Tag}";
            result.Add(new PlanEntry(
                target.UnitId, Desc, ArchiveSection.PostData, [relation.DumpId, .. on.Select(b => b.DumpId).Distinct()], 0, pass,
                RestoreParts.Schema, name));
        }

        return [.. result];
    }
}
