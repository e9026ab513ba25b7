namespace RestoreCluster.Planning;

/// <summary>
/// Split big TABLE DATA (issue 11; docs/performance.md, "Split big TABLE DATA"): a table whose data size estimate
/// (pg_restore's dataLength) is above <see cref="LargerThan"/> loads as K chunk units, K = min(<see cref="MaxChunks"/>,
/// ceil(size / LargerThan)). Each chunk reads the table's whole data stream and keeps the rows that start in its
/// blocks (the restore's CopyChunkFilter). What the plan decides here is also what the journal fingerprints, so a
/// --resume that would cut the tables differently is refused.
/// </summary>
/// <param name="LargerThan">The threshold in bytes; 0: no table is split.</param>
/// <param name="MaxChunks">The most chunks one table is cut into (min(-j, <see cref="ChunkCap"/>)); below 2: none.</param>
public sealed record TableSplit(long LargerThan, int MaxChunks)
{
    /// <summary>The most chunks of one table, whatever -j: every chunk decompresses the whole stream.</summary>
    public const int ChunkCap = 8;

    /// <summary>Blocks of the decompressed stream are at most this big (1 MB), and at most 1/16 of the threshold.</summary>
    public const int MaxBlockBytes = 1 << 20;

    /// <summary>Tables whose data entry has a larger dump ID are not split: their chunk IDs would not fit (<see cref="ChunkId"/>).</summary>
    public const int MaxDumpId = (1 << 24) - 1;

    // Chunk IDs: int.MinValue + dumpId * 64 + (count - 1) * 8 + index, for dump IDs 1 .. 2^24 - 1. They lie in
    // [int.MinValue + 64, -2^30), apart from every other journal ID: dump IDs (positive), the prefork batch (0), -c's
    // drops (minus a dump ID, above -2^24), the missed items (-1) and the final journal drop (int.MinValue).
    private const int CountShift = 3;
    private const int DumpIdShift = 6;

    /// <summary>No table split.</summary>
    public static TableSplit Off { get; } = new(0, 1);

    public bool IsOn => LargerThan > 0 && MaxChunks > 1;

    /// <summary>The block size of the chunk filter: 1 MB, or less for a small threshold (tests force a few kB), at least 64 bytes.</summary>
    public int BlockBytes => (int)Math.Clamp(LargerThan / 16, 64, MaxBlockBytes);

    /// <summary>How many chunks a table's data of <paramref name="dataLength"/> bytes becomes (1: not split).</summary>
    public int ChunksFor(long dataLength)
    {
        if (!IsOn || dataLength <= LargerThan)
        {
            return 1;
        }

        long chunks = (dataLength + LargerThan - 1) / LargerThan;
        return (int)Math.Min(Math.Min(MaxChunks, ChunkCap), chunks);
    }

    /// <summary>The unit (and journal) ID of chunk <paramref name="index"/> of <paramref name="count"/> of a TABLE DATA entry.</summary>
    public static int ChunkId(int dumpId, int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dumpId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dumpId, MaxDumpId);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, ChunkCap);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        return int.MinValue + (dumpId << DumpIdShift) + ((count - 1) << CountShift) + index;
    }

    /// <summary>The chunk a unit ID names, or null when it names no chunk.</summary>
    public static TableChunk? ChunkOf(int unitId)
    {
        if (unitId >= int.MinValue + (1 << 30))
        {
            return null;
        }

        int offset = unitId - int.MinValue;
        int dumpId = offset >> DumpIdShift;
        int count = ((offset >> CountShift) & 7) + 1;
        int index = offset & 7;
        return dumpId >= 1 && count >= 2 && index < count ? new TableChunk(dumpId, index, count) : null;
    }

    /// <summary>
    /// The unit (and journal) ID of the end of a split table's load: int.MinValue + dump ID × 64, the place of a
    /// "chunk 0 of 1", which no chunk takes. The unit runs after every chunk of the table has ended, and takes the
    /// table's rows back when a chunk failed (docs/restore.md, "Split big TABLE DATA").
    /// </summary>
    public static int EndId(int dumpId)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dumpId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dumpId, MaxDumpId);
        return int.MinValue + (dumpId << DumpIdShift);
    }

    /// <summary>How displays name the end unit, after the entry's label.</summary>
    public const string EndLabel = "(end of load)";

    /// <summary>The dump ID of the TABLE DATA entry whose end unit <paramref name="unitId"/> is (<see cref="EndId"/>), or null.</summary>
    public static int? EndOf(int unitId)
    {
        if (unitId >= int.MinValue + (1 << 30))
        {
            return null;
        }

        int offset = unitId - int.MinValue;
        int dumpId = offset >> DumpIdShift;
        return dumpId >= 1 && (offset & ((1 << DumpIdShift) - 1)) == 0 ? dumpId : null;
    }

    /// <summary>The entry a unit ID stands for: the dump ID of a chunk's (or the end unit's) TABLE DATA entry, else the ID itself.</summary>
    public static int DumpIdOf(int unitId) => ChunkOf(unitId)?.DumpId ?? EndOf(unitId) ?? unitId;

    /// <summary>The unit IDs of the chunks of the TABLE DATA entry <paramref name="dumpId"/> cut in <paramref name="count"/>.</summary>
    public static int[] ChunkIds(int dumpId, int count) => [.. Enumerable.Range(0, count).Select(i => ChunkId(dumpId, i, count))];

    /// <summary>
    /// The chunks of a plan, as the journal fingerprints them: <c>dumpId/K</c> per split table in dump ID order, and
    /// the block size; empty when nothing is split.
    /// </summary>
    public string Layout(IReadOnlyDictionary<int, int> chunksByDumpId)
    {
        ArgumentNullException.ThrowIfNull(chunksByDumpId);
        return chunksByDumpId.Count == 0
            ? ""
            : $"blocks {BlockBytes}: " + string.Join(' ', chunksByDumpId.OrderBy(p => p.Key).Select(p => $"{p.Key}/{p.Value}"));
    }
}

/// <summary>Chunk <paramref name="Index"/> (from 0) of <paramref name="Count"/> of the TABLE DATA entry <paramref name="DumpId"/>.</summary>
public readonly record struct TableChunk(int DumpId, int Index, int Count)
{
    public int Id => TableSplit.ChunkId(DumpId, Index, Count);

    /// <summary>How displays name it, after the entry's label: <c>(chunk 2/3)</c>.</summary>
    public override string ToString() => $"(chunk {Index + 1}/{Count})";
}
