namespace RestoreCluster.Archive;

/// <summary>The custom format's data offset flag (K_OFFSET_* in pg_backup_archiver.h).</summary>
public enum DataOffsetState
{
    /// <summary>Not a custom archive, or the field was not read.</summary>
    NotApplicable = 0,

    /// <summary>The entry has data but its position was not recorded (pg_dump wrote to a pipe).</summary>
    PositionNotSet = 1,

    /// <summary>The entry's data block starts at <see cref="TocEntry.DataOffset"/>.</summary>
    PositionSet = 2,

    /// <summary>The entry has no data block.</summary>
    NoData = 3,
}
