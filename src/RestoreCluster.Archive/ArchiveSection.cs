namespace RestoreCluster.Archive;

/// <summary>The TOC section codes (teSection in pg_backup.h).</summary>
public enum ArchiveSection
{
    None = 1,
    PreData = 2,
    Data = 3,
    PostData = 4,
}
