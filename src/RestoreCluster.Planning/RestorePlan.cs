using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>
/// pg_restore's parallel model for one archive, computed once per job (pg_backup_archiver.c
/// fix_dependencies, repoint_table_dependencies, identify_locking_dependencies and the split done by
/// restore_toc_entries_prefork): the serial prefork list, and one work unit per pending entry with its
/// dependency counts, reverse edges, lock dependencies and priority. Immutable; a
/// <see cref="RestoreSchedule"/> drives it.
/// </summary>
public sealed class RestorePlan
{
    private readonly Dictionary<int, int> _unitByDumpId;
    private readonly Dictionary<int, int[]> _tableDataUnitByTable;

    private RestorePlan(
        int[][] preforkSteps, int[][] groupUnits, PlanUnit[] units, Dictionary<int, int> unitByDumpId, Dictionary<int, int[]> tableDataUnitByTable,
        int[] initialDepCount, int[][] dependents, int[][] depEntries, int[][] lockEntries, int[] rank, int entryCount)
    {
        PreforkSteps = preforkSteps;
        Prefork = [.. preforkSteps.SelectMany(step => step)];
        GroupUnits = groupUnits;
        Units = units;
        _unitByDumpId = unitByDumpId;
        _tableDataUnitByTable = tableDataUnitByTable;
        InitialDepCount = initialDepCount;
        Dependents = dependents;
        DepEntries = depEntries;
        LockEntries = lockEntries;
        Rank = rank;
        EntryCount = entryCount;
        foreach (var u in units)
        {
            if (!u.IsSkipped)
            {
                TotalDataBytes += u.DataBytes;
            }
        }
    }

    /// <summary>
    /// Dump IDs restored serially, in restore order, on one connection before any parallel work: every
    /// MAIN-pass PRE_DATA entry, and MAIN-pass NONE-section entries met before the first DATA or
    /// POST_DATA entry. Entries with no selected parts are included (pg_restore "processes" them as no-ops).
    /// </summary>
    /// <remarks>With pre-data groups (<see cref="PreDataGroups"/>) the entries of the groups are units instead, and these
    /// are the serial steps' entries (<see cref="PreforkSteps"/>) one after another.</remarks>
    public IReadOnlyList<int> Prefork { get; }

    /// <summary>
    /// The prefork's serial steps, in order: a group of units (<see cref="PreDataGroupCount"/>) runs after each step but
    /// the last one (and after the last one too when there are as many groups as steps). One step without groups.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<int>> PreforkSteps { get; }

    /// <summary>How many pre-data groups the prefork holds (<see cref="PlanUnit.PreDataGroup"/>).</summary>
    public int PreDataGroupCount => GroupUnits.Length;

    // Group -> its unit indices, in restore order.
    internal int[][] GroupUnits { get; }

    /// <summary>The pending entries as work units, in restore order.</summary>
    public IReadOnlyList<PlanUnit> Units { get; }

    /// <summary>Sum of <see cref="PlanUnit.DataBytes"/> over units that are not skipped.</summary>
    public long TotalDataBytes { get; }

    // Unit index -> dependencies on other units not yet satisfied before parallel work starts.
    internal int[] InitialDepCount { get; }

    // Unit index -> unit indices to reduce when it completes (one per dependency edge; duplicates kept).
    internal int[][] Dependents { get; }

    // Unit index -> entry indices (positions in the TOC order) of its dependencies / lock dependencies.
    internal int[][] DepEntries { get; }

    internal int[][] LockEntries { get; }

    // Unit index -> position in the priority order (larger Priority first, then lower dump ID).
    internal int[] Rank { get; }

    internal int EntryCount { get; }

    /// <summary>The unit for a dump ID, or null when the entry is not a unit (prefork or unknown).</summary>
    public PlanUnit? GetUnit(int dumpId) => _unitByDumpId.TryGetValue(dumpId, out int u) ? Units[u] : null;

    internal int UnitIndexOf(int dumpId) => _unitByDumpId.TryGetValue(dumpId, out int u) ? u : -1;

    /// <summary>
    /// The TABLE DATA unit indices of a table (by the table's dump ID): one, or several when the archive has
    /// several data entries for the table (a proposed pg_dump feature: the table's rows in parts), or none.
    /// </summary>
    internal IReadOnlyList<int> TableDataUnitsOf(int tableDumpId) => _tableDataUnitByTable.TryGetValue(tableDumpId, out int[]? u) ? u : [];

    /// <summary>
    /// Builds the plan from the TOC in restore order and the parts <see cref="EntrySelector"/> chose;
    /// <paramref name="keys"/> names the key constraints restored as an index build and an attach, the TABLE DATA
    /// entries <paramref name="split"/> cuts (<see cref="SplitTables"/>) become one unit per chunk and an end unit
    /// after them (<see cref="TableSplit.EndId"/>), and with
    /// <paramref name="analyze"/> (<c>--analyze</c>) one ANALYZE unit per table follows its data and keys (<see cref="AnalyzeUnits"/>).
    /// </summary>
    public static RestorePlan Build(
        IReadOnlyList<TocEntry> order, IReadOnlyDictionary<int, RestoreParts> parts, KeyPlan? keys = null, TableSplit? split = null, bool analyze = false,
        PreDataGroups? groups = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(parts);
        keys ??= KeyPlan.None;
        var chunks = SplitTables(order, parts, split ?? TableSplit.Off);
        var entries = new List<PlanEntry>(order.Count);
        foreach (var te in order)
        {
            var entry = new PlanEntry(
                te.DumpId, te.Desc, te.Section, te.Dependencies, te.DataLength, RestorePasses.Of(te),
                parts.GetValueOrDefault(te.DumpId, RestoreParts.None), te.Tag, keys.KeyOf(te.DumpId) is not null);
            if (!chunks.TryGetValue(te.DumpId, out int count))
            {
                entries.Add(entry);
                continue;
            }

            for (int index = 0; index < count; index++)
            {
                var chunk = new TableChunk(te.DumpId, index, count);
                entries.Add(entry with { DumpId = chunk.Id, Chunk = chunk });
            }

            // The end of the table's load: after every chunk, before its post-data (a TABLE DATA entry of the table, which
            // post-data is pointed at); it takes the rows back when a chunk failed, as pg_restore's one failed COPY loads none.
            entries.Add(entry with { DumpId = TableSplit.EndId(te.DumpId), Dependencies = [te.Dependencies[0], .. TableSplit.ChunkIds(te.DumpId, count)], DataLength = 0 });
        }

        return Build(analyze ? AnalyzeUnits.AddTo(entries, AnalyzeUnits.Targets(order, parts)) : entries, groups);
    }

    /// <summary>
    /// The TABLE DATA entries <paramref name="split"/> cuts into chunks, by dump ID, with their chunk counts. Only
    /// where a chunk can load its rows beside the others (docs/performance.md, "Split big TABLE DATA"): COPY data
    /// (not a --inserts dump's statements) whose data is restored, of the only data entry of its table (a table
    /// whose rows come in several entries already has its parts), with a data size above the threshold. The
    /// options that rule a split out altogether (-1, --disable-triggers, ...) make <paramref name="split"/> off.
    /// </summary>
    public static IReadOnlyDictionary<int, int> SplitTables(IReadOnlyList<TocEntry> order, IReadOnlyDictionary<int, RestoreParts> parts, TableSplit split)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(split);
        var chunks = new Dictionary<int, int>();
        if (!split.IsOn)
        {
            return chunks;
        }

        var dataEntries = order.Where(te => te.Desc == "TABLE DATA" && te.Dependencies.Count > 0).CountBy(te => te.Dependencies[0]).ToDictionary();
        foreach (var te in order)
        {
            if (te.Desc != "TABLE DATA" || te.Dependencies.Count == 0 || dataEntries[te.Dependencies[0]] > 1
                || !te.HadDumper || te.CopyStmt is not { Length: > 0 } || te.DumpId > TableSplit.MaxDumpId
                || (parts.GetValueOrDefault(te.DumpId, RestoreParts.None) & RestoreParts.Data) == 0)
            {
                continue;
            }

            int count = split.ChunksFor(te.DataLength);
            if (count > 1)
            {
                chunks[te.DumpId] = count;
            }
        }

        return chunks;
    }

    /// <summary>
    /// Builds the plan from entry descriptions in restore order; <paramref name="groups"/> says which runs of prefork
    /// entries become units that run side by side between the prefork's serial steps.
    /// </summary>
    public static RestorePlan Build(IReadOnlyList<PlanEntry> order, PreDataGroups? groups = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        int n = order.Count;
        var indexOf = new Dictionary<int, int>(n);
        for (int i = 0; i < n; i++)
        {
            if (!indexOf.TryAdd(order[i].DumpId, i))
            {
                throw new PlanningException($"duplicate dump ID {order[i].DumpId} in the TOC");
            }
        }

        // buildTocEntryArrays: a TABLE DATA entry's first dependency is its table. pg_restore keeps one per table;
        // an archive with several data entries for one table keeps them all, so that what repoint_table_dependencies
        // points at the table's data waits for every part of it.
        var tableDataOf = new Dictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (order[i].Desc == "TABLE DATA" && order[i].Dependencies.Count > 0)
            {
                int table = order[i].Dependencies[0];
                if (!tableDataOf.TryGetValue(table, out var parts))
                {
                    tableDataOf[table] = parts = [];
                }

                parts.Add(i);
            }
        }

        // The chunks of a split TABLE DATA entry stand for it: what depends on the entry depends on all of them.
        var chunksOf = new Dictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (order[i].Chunk is { } chunk)
            {
                if (!chunksOf.TryGetValue(chunk.DumpId, out var list))
                {
                    chunksOf[chunk.DumpId] = list = [];
                }

                list.Add(i);
            }
        }

        // fix_dependencies + repoint_table_dependencies: dependencies as entry indices (missing IDs dropped);
        // POST_DATA dependencies on a table with data go to the TABLE DATA, inheriting its dataLength.
        var deps = new int[n][];
        var priority = new long[n];
        var scratch = new List<int>();
        for (int i = 0; i < n; i++)
        {
            var e = order[i];
            priority[i] = e.DataLength;
            scratch.Clear();
            foreach (int dep in e.Dependencies)
            {
                if (e.Section == ArchiveSection.PostData && tableDataOf.TryGetValue(dep, out var tdIndices))
                {
                    foreach (int tdIndex in tdIndices)
                    {
                        scratch.Add(tdIndex);
                        priority[i] = Math.Max(priority[i], order[tdIndex].DataLength);
                    }
                }
                else if (indexOf.TryGetValue(dep, out int targetIndex))
                {
                    scratch.Add(targetIndex);
                }
                else if (chunksOf.TryGetValue(dep, out var chunkIndices))
                {
                    scratch.AddRange(chunkIndices);
                }
            }

            deps[i] = [.. scratch];
        }

        // Keys built as an index and then attached hold their table's SHARE lock while they ask for ACCESS
        // EXCLUSIVE: two of one table side by side would deadlock, so each waits for the one before it.
        var lastKeyOfTable = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            if (!order[i].IndexFirst || order[i].Section != ArchiveSection.PostData)
            {
                continue;
            }

            foreach (int d in deps[i])
            {
                if (order[d].Desc is "TABLE" or "TABLE DATA")
                {
                    if (lastKeyOfTable.TryGetValue(d, out int before))
                    {
                        deps[i] = [.. deps[i], before];
                    }

                    lastKeyOfTable[d] = i;
                    break;
                }
            }
        }

        // restore_toc_entries_prefork: which entries the leader runs before forking.
        var isPrefork = new bool[n];
        var preforkEntries = new List<int>();
        bool skippedSome = false;
        for (int i = 0; i < n; i++)
        {
            var e = order[i];
            bool doNow = true;
            if (e.Section != ArchiveSection.PreData)
            {
                if (e.Section is ArchiveSection.Data or ArchiveSection.PostData)
                {
                    doNow = false;
                    skippedSome = true;
                }
                else if (skippedSome)
                {
                    doNow = false;
                }
            }

            if (e.Pass != RestorePass.Main)
            {
                doNow = false;
            }

            if (doNow)
            {
                isPrefork[i] = true;
                preforkEntries.Add(i);
            }
        }

        // Pre-data groups: their entries become units; the prefork's other entries are its serial steps around them.
        var found = (groups ?? PreDataGroups.Off).Find(order, preforkEntries);
        var groupOf = new int[n];
        Array.Fill(groupOf, -1);
        for (int g = 0; g < found.Count; g++)
        {
            foreach (int i in found[g])
            {
                groupOf[i] = g;
                isPrefork[i] = false;
            }
        }

        var steps = new List<List<int>> { new() };
        int lastGroup = -1;
        foreach (int i in preforkEntries)
        {
            if (groupOf[i] >= 0)
            {
                if (groupOf[i] != lastGroup)
                {
                    lastGroup = groupOf[i];
                    steps.Add([]);
                }

                continue;
            }

            steps[^1].Add(order[i].DumpId);
        }

        if (steps.Count > 1 && steps[^1].Count == 0)
        {
            // The prefork ends with a group: the parallel passes follow it.
            steps.RemoveAt(steps.Count - 1);
        }

        int preforkCount = steps.Sum(step => step.Count);

        // Units: every pending entry, in order.
        var unitOfEntry = new int[n];
        Array.Fill(unitOfEntry, -1);
        var unitEntries = new List<int>(n - preforkCount);
        for (int i = 0; i < n; i++)
        {
            if (!isPrefork[i])
            {
                unitOfEntry[i] = unitEntries.Count;
                unitEntries.Add(i);
            }
        }

        int unitCount = unitEntries.Count;
        var units = new PlanUnit[unitCount];
        var unitByDumpId = new Dictionary<int, int>(unitCount);
        var initialDepCount = new int[unitCount];
        var depEntries = new int[unitCount][];
        var lockEntries = new int[unitCount][];
        var dependentCounts = new int[unitCount];
        for (int u = 0; u < unitCount; u++)
        {
            int i = unitEntries[u];
            var e = order[i];
            foreach (int d in deps[i])
            {
                // Prefork entries have all completed before parallel work begins.
                if (!isPrefork[d])
                {
                    initialDepCount[u]++;
                    dependentCounts[unitOfEntry[d]]++;
                }
            }

            // identify_locking_dependencies: POST_DATA entries other than INDEX lock their tables. A key built
            // as an index first takes the SHARE lock of an INDEX (beside the table's other index builds), then
            // waits for ACCESS EXCLUSIVE in a transaction of its own (PlanUnit.RunsAlone, docs/concurrency.md).
            int[] locks = [];
            bool indexFirst = e.IndexFirst && e.Section == ArchiveSection.PostData;
            if (e.Section == ArchiveSection.PostData && e.Desc != "INDEX" && !indexFirst)
            {
                scratch.Clear();
                foreach (int d in deps[i])
                {
                    if (order[d].Desc is "TABLE" or "TABLE DATA")
                    {
                        scratch.Add(d);
                    }
                }

                locks = [.. scratch];
            }

            depEntries[u] = deps[i];
            lockEntries[u] = locks;
            long dataBytes = (e.Parts & RestoreParts.Data) != 0 ? ShareOf(e) : 0;
            units[u] = new PlanUnit(
                e.DumpId, i, e.Desc, e.Tag, e.Section, e.Pass, e.Parts, priority[i], dataBytes,
                ToDumpIds(order, deps[i]), ToDumpIds(order, locks), indexFirst, e.Chunk, groupOf[i]);
            unitByDumpId[e.DumpId] = u;
        }

        var dependents = new int[unitCount][];
        for (int u = 0; u < unitCount; u++)
        {
            dependents[u] = new int[dependentCounts[u]];
            dependentCounts[u] = 0;
        }

        for (int u = 0; u < unitCount; u++)
        {
            foreach (int d in depEntries[u])
            {
                int du = unitOfEntry[d];
                if (du >= 0)
                {
                    dependents[du][dependentCounts[du]++] = u;
                }
            }
        }

        var byPriority = new int[unitCount];
        for (int u = 0; u < unitCount; u++)
        {
            byPriority[u] = u;
        }

        Array.Sort(byPriority, (a, b) =>
        {
            int c = units[b].Priority.CompareTo(units[a].Priority);
            return c != 0 ? c : units[a].Id.CompareTo(units[b].Id);
        });
        var rank = new int[unitCount];
        for (int r = 0; r < unitCount; r++)
        {
            rank[byPriority[r]] = r;
        }

        var tableDataUnitByTable = new Dictionary<int, int[]>(tableDataOf.Count);
        foreach (var (table, tdIndices) in tableDataOf)
        {
            int[] tdUnits = [.. tdIndices.Select(i => unitOfEntry[i]).Where(u => u >= 0)];
            if (tdUnits.Length > 0)
            {
                tableDataUnitByTable[table] = tdUnits;
            }
        }

        var groupUnits = found.Select(g => g.Select(i => unitOfEntry[i]).ToArray()).ToArray();
        return new RestorePlan(
            [.. steps.Select(step => step.ToArray())], groupUnits, units, unitByDumpId, tableDataUnitByTable, initialDepCount, dependents, depEntries, lockEntries,
            rank, n);
    }

    // A chunk's part of its table's data size: the chunks of a table add up to it, so its bytes count once.
    private static long ShareOf(PlanEntry e) => e.Chunk is { } c
        ? e.DataLength / c.Count + (c.Index < e.DataLength % c.Count ? 1 : 0)
        : e.DataLength;

    private static int[] ToDumpIds(IReadOnlyList<PlanEntry> order, int[] indices)
    {
        var ids = new int[indices.Length];
        for (int k = 0; k < indices.Length; k++)
        {
            ids[k] = order[indices[k]].DumpId;
        }

        return ids;
    }
}
