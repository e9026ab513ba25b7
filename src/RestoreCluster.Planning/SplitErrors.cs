namespace RestoreCluster.Planning;

/// <summary>
/// The errors of a split table's chunks, counted as pg_restore counts its one COPY of the table (docs/restore.md,
/// "Split big TABLE DATA"): a COPY that fails in several chunks (a refusal every chunk meets) is one failure, so only
/// the first failed chunk of a table counts its errors; the others' errors and messages are left out. Pure.
/// </summary>
public sealed class SplitErrors
{
    private readonly HashSet<int> _failed = [];

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
