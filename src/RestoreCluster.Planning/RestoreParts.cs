namespace RestoreCluster.Planning;

/// <summary>Which parts of an entry a restore runs (REQ_SCHEMA, REQ_DATA, REQ_SPECIAL in pg_backup_archiver.h).</summary>
[Flags]
public enum RestoreParts
{
    None = 0,
    Schema = 1,
    Data = 2,
    Special = 4,
}
