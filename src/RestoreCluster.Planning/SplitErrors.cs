namespace RestoreCluster.Planning;

/// <summary>
/// The errors of a split table's chunks, counted as pg_restore counts its one COPY of the table (docs/restore.md,
/// "Split big TABLE DATA"): a COPY that fails in several chunks (a refusal every chunk meets) is one failure, so only
/// the first failed chunk of a table counts its errors; the others' errors and messages are left out. And the split
/// tables whose rows the job's end must take back: a chunk that stopped the job (-e, a fatal error) in a table this
/// run created, whose end unit will not run. Pure.
/// </summary>
public sealed class SplitErrors
{
    private readonly HashSet<int> _failed = [];
    private readonly HashSet<int> _created = [];
    private readonly SortedSet<int> _stopped = [];

    /// <summary>The end units (<see cref="TableSplit.EndId"/>) of the tables whose rows the job's end takes back.</summary>
    public IReadOnlyList<int> TakenBackAtTheEnd => [.. _stopped];

    /// <summary>A unit was leased; <paramref name="tableCreated"/>: the lease's (this run created its table).</summary>
    public void Leased(int unitId, bool tableCreated)
    {
        if (tableCreated && TableSplit.ChunkOf(unitId) is { } chunk)
        {
            _created.Add(chunk.DumpId);
        }
    }

    /// <summary>A unit stopped the job (-e, a fatal error).</summary>
    public void Stopped(int unitId)
    {
        if (TableSplit.ChunkOf(unitId) is { } chunk && _created.Contains(chunk.DumpId))
        {
            _stopped.Add(TableSplit.EndId(chunk.DumpId));
        }
    }

    /// <summary>How many of the <paramref name="errors"/> unit <paramref name="unitId"/> reported count.</summary>
    public int Counted(int unitId, int errors)
    {
        if (errors == 0 || TableSplit.ChunkOf(unitId) is not { } chunk)
        {
            return errors;
        }

        return _failed.Add(chunk.DumpId) ? errors : 0;
    }
}
