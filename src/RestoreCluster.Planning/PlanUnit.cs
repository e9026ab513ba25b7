using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>One unit of parallel work: a TOC entry that pg_restore would put on its pending list.</summary>
public sealed class PlanUnit
{
    /// <summary>
    /// A unit whose priority (its table's data size) is at most this is small: the coordinator batches it with other
    /// small units in one transaction, and its table's keys run as written (<see cref="KeyPlan"/>).
    /// </summary>
    public const long SmallBytes = 256 << 10;

    internal PlanUnit(
        int id, int tocIndex, string desc, string tag, ArchiveSection section, RestorePass pass, RestoreParts parts,
        long priority, long dataBytes, int[] dependencies, int[] lockDependencies, bool runsAlone = false, TableChunk? chunk = null,
        int preDataGroup = -1)
    {
        PreDataGroup = preDataGroup;
        RunsAlone = runsAlone;
        Chunk = chunk;
        Id = id;
        TocIndex = tocIndex;
        Desc = desc;
        Tag = tag;
        Section = section;
        Pass = pass;
        Parts = parts;
        Priority = priority;
        DataBytes = dataBytes;
        Dependencies = dependencies;
        LockDependencies = lockDependencies;
    }

    /// <summary>The unit's ID: the entry's dump ID, or for a chunk of split table data its chunk ID (<see cref="TableSplit.ChunkId"/>).</summary>
    public int Id { get; }

    /// <summary>The entry's dump ID (a chunk's or a split table's end unit's TABLE DATA entry).</summary>
    public int DumpId => TableSplit.DumpIdOf(Id);

    /// <summary>
    /// Whether a unit ID names an item of the archive (an entry or a chunk of one), of which pg_restore -j -v
    /// prints lines: not --analyze's units, nor a split table's end unit.
    /// </summary>
    public static bool IsArchiveItem(int unitId) => !AnalyzeUnits.IsAnalyze(unitId) && TableSplit.EndOf(unitId) is null;

    /// <summary>Which chunk of its table's data the unit loads, when the table is split; null otherwise.</summary>
    public TableChunk? Chunk { get; }

    /// <summary>The entry's position in the restore order the plan was built from.</summary>
    public int TocIndex { get; }

    public string Desc { get; }

    public string Tag { get; }

    public ArchiveSection Section { get; }

    public RestorePass Pass { get; }

    public RestoreParts Parts { get; }

    /// <summary>No selected parts (reqs = 0): completes at once without a worker.</summary>
    public bool IsSkipped => !Parts.IsRestored();

    /// <summary>
    /// The scheduling priority: the entry's dataLength, raised (POST_DATA entries) to the largest
    /// dataLength of the TABLE DATA entries its dependencies were repointed to.
    /// </summary>
    public long Priority { get; }

    /// <summary>
    /// The entry's own data size estimate when it restores data (for progress); 0 otherwise. A chunk's is its share
    /// of the table's, so that the chunks of a table add up to it.
    /// </summary>
    public long DataBytes { get; }

    /// <summary>Dependencies after repointing, restricted to dump IDs present in the TOC (duplicates kept).</summary>
    public IReadOnlyList<int> Dependencies { get; }

    /// <summary>The TABLE / TABLE DATA entries this entry locks exclusively (POST_DATA, not INDEX).</summary>
    public IReadOnlyList<int> LockDependencies { get; }

    /// <summary>
    /// A key built as an index and then attached (<see cref="KeyPlan"/>): it holds a SHARE lock on its table and
    /// then asks for ACCESS EXCLUSIVE, so it runs in a transaction of its own (a batch holding other locks
    /// could deadlock with the index builds it waits for), and never beside another such key of its table.
    /// </summary>
    public bool RunsAlone { get; }

    /// <summary>
    /// The pre-data group the unit belongs to (<see cref="PreDataGroups"/>): a prefork entry run side by side with the
    /// others of its group, between two serial steps of the prefork; -1 for every other unit.
    /// </summary>
    public int PreDataGroup { get; }

    /// <summary>Whether the unit is a prefork entry of a pre-data group.</summary>
    public bool IsPreData => PreDataGroup >= 0;

    public override string ToString() => $"{Id} {Desc} {Tag}";
}
