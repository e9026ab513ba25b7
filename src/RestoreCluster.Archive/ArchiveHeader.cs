namespace RestoreCluster.Archive;

/// <summary>
/// The archive header (pg_backup_archiver.c ReadHead). The creation time is the dumping machine's local
/// <c>struct tm</c> without a zone, exactly as stored.
/// </summary>
public sealed class ArchiveHeader
{
    public required ArchiveVersion Version { get; init; }

    public required int IntSize { get; init; }

    public required int OffSize { get; init; }

    /// <summary>The archive's real format (a directory archive stores format byte 3 in toc.dat).</summary>
    public required ArchiveFormat Format { get; init; }

    /// <summary>The format byte as stored.</summary>
    public required byte FormatByte { get; init; }

    public required CompressionAlgorithm Compression { get; init; }

    /// <summary>The zlib level stored by archives up to 1.14 (0 none, -1 default, 1..9); null from 1.15 on.</summary>
    public int? CompressionLevel { get; init; }

    public required ArchiveCreationTime Created { get; init; }

    /// <summary>Raw bytes of the database name, in the dump's encoding (null when stored as NULL).</summary>
    public byte[]? DatabaseNameBytes { get; init; }

    public byte[]? ServerVersionBytes { get; init; }

    public byte[]? DumpVersionBytes { get; init; }

    public string? DatabaseName { get; internal set; }

    public string? ServerVersion { get; internal set; }

    public string? DumpVersion { get; internal set; }

    /// <summary>Where the TOC starts within the header file (custom file or toc.dat).</summary>
    public long TocStart { get; init; }
}

/// <summary>The stored <c>struct tm</c> fields of the archive's creation time.</summary>
public sealed record ArchiveCreationTime(int Second, int Minute, int Hour, int Day, int Month, int Year, int IsDst)
{
    /// <summary>The calendar year (tm_year + 1900).</summary>
    public int CalendarYear => Year + 1900;
}
