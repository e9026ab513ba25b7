using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>
/// What the parallel planner needs to know about one TOC entry. <see cref="RestorePlan.Build(IReadOnlyList{TocEntry}, IReadOnlyDictionary{int, RestoreParts}, KeyPlan, TableSplit)"/>
/// derives these from an archive; they can also be written by hand (benchmarks, simulations).
/// </summary>
/// <param name="DumpId">The entry's dump ID.</param>
/// <param name="Desc">The entry's desc ("TABLE", "TABLE DATA", "INDEX", ...).</param>
/// <param name="Section">The entry's section as stored.</param>
/// <param name="Dependencies">The dump IDs the entry depends on, as stored.</param>
/// <param name="DataLength">pg_restore's data size estimate (0 when unknown).</param>
/// <param name="Pass">The restore pass (<see cref="RestorePasses.Of"/>).</param>
/// <param name="Parts">The parts a restore would run (<see cref="EntrySelector"/>); None means "skip".</param>
/// <param name="Tag">The entry's tag, for logging.</param>
/// <param name="IndexFirst">A key constraint restored as its index build and then an attach (<see cref="KeyPlan"/>).</param>
/// <param name="Chunk">For a chunk of split table data (<see cref="TableSplit"/>), which one; <see cref="DumpId"/> is
/// then its chunk ID and <see cref="DataLength"/> the whole table's.</param>
public sealed record PlanEntry(
    int DumpId,
    string Desc,
    ArchiveSection Section,
    IReadOnlyList<int> Dependencies,
    long DataLength,
    RestorePass Pass,
    RestoreParts Parts,
    string Tag = "",
    bool IndexFirst = false,
    TableChunk? Chunk = null);
