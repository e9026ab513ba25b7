namespace RestoreCluster.Archive;

/// <summary>
/// One table-of-contents entry, every field as stored (pg_backup_archiver.c ReadToc). Text fields are
/// decoded in the archive's encoding; <see cref="GetRaw"/> gives the stored bytes.
/// </summary>
public sealed class TocEntry
{
    private readonly byte[]?[] _raw;

    internal TocEntry(byte[]?[] raw)
    {
        _raw = raw;
    }

    /// <summary>Position of the entry in the TOC (0-based).</summary>
    public int Index { get; internal init; }

    public int DumpId { get; internal init; }

    public bool HadDumper { get; internal init; }

    public string TableOid { get; internal set; } = "0";

    public string Oid { get; internal set; } = "0";

    public string Tag { get; internal set; } = "";

    public string Desc { get; internal set; } = "";

    public ArchiveSection Section { get; internal init; }

    public string? Defn { get; internal set; }

    public string? DropStmt { get; internal set; }

    public string? CopyStmt { get; internal set; }

    public string? Namespace { get; internal set; }

    public string? Tablespace { get; internal set; }

    public string? TableAm { get; internal set; }

    /// <summary>The relkind character code (1.16+, TABLE entries); 0 otherwise.</summary>
    public int RelKind { get; internal init; }

    public string? Owner { get; internal set; }

    public string? WithOids { get; internal set; }

    public IReadOnlyList<int> Dependencies { get; internal init; } = [];

    /// <summary>Directory and tar: the data file name as stored (null when stored empty or NULL).</summary>
    public string? FileName { get; internal set; }

    /// <summary>Custom format: the state of the data offset.</summary>
    public DataOffsetState OffsetState { get; internal init; }

    /// <summary>Custom format: the data block's position when <see cref="OffsetState"/> is PositionSet.</summary>
    public long DataOffset { get; internal init; }

    /// <summary>
    /// The data size as pg_restore estimates it to order parallel work (custom: distance to the next data
    /// block; directory: the data file's size, times 1024 for BLOBS); 0 where pg_restore has no estimate.
    /// </summary>
    public long DataLength { get; internal set; }

    /// <summary>Fields whose bytes do not decode losslessly in the archive's encoding.</summary>
    public IReadOnlyList<TocField> UndecodableFields { get; internal set; } = [];

    /// <summary>The stored bytes of a text field (null for NULL).</summary>
    public byte[]? GetRaw(TocField field) => _raw[(int)field];

    /// <summary>The stored tableoid as the unsigned number pg_restore prints.</summary>
    public uint TableOidValue => ParseOid(TableOid);

    public uint OidValue => ParseOid(Oid);

    public override string ToString() => $"{DumpId}; {Desc} {Namespace ?? "-"} {Tag}";

    // pg_restore reads OIDs with sscanf("%u"), which accepts leading space and stops at the first non-digit.
    private static uint ParseOid(string s)
    {
        ulong v = 0;
        int i = 0;
        while (i < s.Length && char.IsWhiteSpace(s[i]))
        {
            i++;
        }

        while (i < s.Length && s[i] is >= '0' and <= '9')
        {
            v = Math.Min(v * 10 + (ulong)(s[i] - '0'), uint.MaxValue);
            i++;
        }

        return (uint)v;
    }
}

/// <summary>The text fields of a TOC entry, in storage order.</summary>
public enum TocField
{
    TableOid,
    Oid,
    Tag,
    Desc,
    Defn,
    DropStmt,
    CopyStmt,
    Namespace,
    Tablespace,
    TableAm,
    Owner,
    WithOids,
    FileName,
}
