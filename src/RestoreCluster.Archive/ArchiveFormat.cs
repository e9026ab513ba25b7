namespace RestoreCluster.Archive;

/// <summary>The archive formats pg_dump writes (the header's format byte, pg_backup.h ArchiveFormat).</summary>
public enum ArchiveFormat
{
    Custom = 1,
    Tar = 3,
    Directory = 5,
}
