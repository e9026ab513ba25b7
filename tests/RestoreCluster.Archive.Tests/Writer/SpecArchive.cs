namespace RestoreCluster.Archive.Tests.Writer;

/// <summary>Archive layout to write (the header's format byte is derived from it; see archive-format.md §3).</summary>
internal enum SpecFormat
{
    Custom,
    Directory,
    Tar,
}

/// <summary>Compression algorithm (the 1.15+ header byte values).</summary>
internal enum SpecCompression
{
    None = 0,
    Gzip = 1,
    Lz4 = 2,
    Zstd = 3,
}

/// <summary>TOC section int (archive-format.md §4, field 7).</summary>
internal enum SpecSection
{
    None = 1,
    PreData = 2,
    Data = 3,
    PostData = 4,
}

/// <summary>An archive version vmaj.vmin.vrev.</summary>
internal readonly record struct SpecVersion(byte Major, byte Minor, byte Revision)
{
    public static readonly SpecVersion V1_12 = new(1, 12, 0);
    public static readonly SpecVersion V1_13 = new(1, 13, 0);
    public static readonly SpecVersion V1_14 = new(1, 14, 0);
    public static readonly SpecVersion V1_15 = new(1, 15, 0);
    public static readonly SpecVersion V1_16 = new(1, 16, 0);

    public static readonly IReadOnlyList<SpecVersion> All = [V1_12, V1_13, V1_14, V1_15, V1_16];

    public int Value => (Major << 16) | (Minor << 8) | Revision;

    public bool AtLeast(int major, int minor) => Value >= ((major << 16) | (minor << 8));

    public static SpecVersion Parse(string text)
    {
        var parts = text.Split('.');
        return new SpecVersion(byte.Parse(parts[0]), byte.Parse(parts[1]), parts.Length > 2 ? byte.Parse(parts[2]) : (byte)0);
    }

    public override string ToString() => $"{Major}.{Minor}.{Revision}";
}

/// <summary>One large object of a BLOBS entry: its OID (unsigned; ≥ 2^31 is written as a negative int) and raw bytes.</summary>
internal sealed record SpecLargeObject(uint Oid, byte[] Bytes);

/// <summary>
/// One TOC entry. Every string property may be null, which is written as length −1 (NULL) and is distinct
/// from "" (length 0). <see cref="Data"/> is the raw, uncompressed data stream of a data entry
/// (e.g. COPY text); <see cref="LargeObjects"/> is the content of a BLOBS entry.
/// </summary>
internal sealed class SpecEntry
{
    public int DumpId { get; set; }
    public bool HadDumper { get; set; }
    public string? TableOid { get; set; } = "0";
    public string? Oid { get; set; } = "0";
    public string? Tag { get; set; }
    public string? Desc { get; set; }
    public SpecSection Section { get; set; } = SpecSection.PreData;
    public string? Defn { get; set; }
    public string? DropStmt { get; set; }
    public string? CopyStmt { get; set; }
    public string? Namespace { get; set; }
    public string? Tablespace { get; set; }
    public string? TableAm { get; set; }

    /// <summary>ASCII code of the relkind character (written only for 1.16+).</summary>
    public int RelKind { get; set; }

    public string? Owner { get; set; }
    public string? WithOids { get; set; } = "false";
    public List<int> Dependencies { get; set; } = [];
    public byte[]? Data { get; set; }
    public List<SpecLargeObject>? LargeObjects { get; set; }

    public bool IsBlobs => LargeObjects is not null;

    /// <summary>True when the entry gets a data block / data file.</summary>
    public bool HasData => HadDumper && (Data is not null || LargeObjects is not null);

    public override string ToString() => $"{DumpId} {Desc} {Namespace} {Tag}";
}

/// <summary>The whole archive: header fields and the TOC entries in TOC order.</summary>
internal sealed class SpecArchive
{
    public SpecVersion Version { get; set; } = SpecVersion.V1_14;
    public SpecFormat Format { get; set; } = SpecFormat.Custom;
    public SpecCompression Compression { get; set; } = SpecCompression.None;

    /// <summary>
    /// The header's compression int for archives ≤ 1.14 (the zlib level). Null means: 0 for none,
    /// −1 (Z_DEFAULT_COMPRESSION) for gzip. Not written for 1.15+ (only the algorithm byte).
    /// </summary>
    public int? CompressionLevel { get; set; }

    public int IntSize { get; set; } = 4;
    public int OffSize { get; set; } = 8;

    // struct tm fields as pg_dump stores them (local time, no zone).
    public int TmSec { get; set; } = 25;
    public int TmMin { get; set; } = 3;
    public int TmHour { get; set; } = 20;
    public int TmMday { get; set; } = 23;
    public int TmMon { get; set; } = 10;
    public int TmYear { get; set; } = 126;
    public int TmIsDst { get; set; }

    public string? DatabaseName { get; set; } = "sampledb";
    public string? ServerVersion { get; set; } = "15.18 (Debian 15.18-0+deb12u1)";
    public string? DumpVersion { get; set; } = "15.18 (Debian 15.18-0+deb12u1)";

    public List<SpecEntry> Entries { get; } = [];

    /// <summary>The compression int (≤1.14) this archive's header holds.</summary>
    public int EffectiveCompressionLevel =>
        Format == SpecFormat.Tar ? 0 : CompressionLevel ?? (Compression == SpecCompression.None ? 0 : -1);

    public SpecEntry? GetEntry(int dumpId) => Entries.Find(e => e.DumpId == dumpId);
}
