namespace RestoreCluster.Planning;

/// <summary>
/// Which parts of an entry a restore runs (REQ_SCHEMA, REQ_DATA, REQ_SPECIAL and, from PostgreSQL 18, REQ_STATS in
/// pg_backup_archiver.h).
/// </summary>
[Flags]
public enum RestoreParts
{
    None = 0,
    Schema = 1,
    Data = 2,
    Special = 4,

    /// <summary>The statistics of a STATISTICS DATA entry (PostgreSQL 18), printed under "Statistics for Name:".</summary>
    Stats = 8,
}

/// <summary>Tests on <see cref="RestoreParts"/>.</summary>
public static class RestorePartsExtensions
{
    /// <summary>Whether anything of the entry is restored: its schema, data or statistics (the REQ_* mask pg_restore 18 tests).</summary>
    public static bool IsRestored(this RestoreParts parts) => (parts & (RestoreParts.Schema | RestoreParts.Data | RestoreParts.Stats)) != 0;
}
