using System.Text;

namespace RestoreCluster.Archive;

/// <summary>
/// Reads the table of contents that follows the header (pg_backup_archiver.c ReadToc), field by field
/// as each archive version stores it, then decodes the text in the archive's encoding.
/// </summary>
internal static class TocReader
{
    private const int FieldCount = 13;

    public static (List<TocEntry> Entries, ArchiveEncoding Encoding, bool StdStrings) Read(
        ArchiveInput input, ArchiveHeader header)
    {
        input.Context = "TOC entry count";
        long countStart = input.Position;
        int count = input.ReadInt32("TOC entry count");
        if (count < 0)
        {
            throw new ArchiveException($"invalid TOC entry count {count} in \"{input.Name}\" at byte {countStart}");
        }

        var entries = new List<TocEntry>(Math.Min(count, 100_000));
        var seen = new HashSet<int>();
        for (int i = 0; i < count; i++)
        {
            var entry = ReadEntry(input, header, i, count);
            if (!seen.Add(entry.DumpId))
            {
                throw new ArchiveException($"duplicate dump ID {entry.DumpId} in the TOC of \"{input.Name}\" (entry {i + 1} of {count})");
            }

            entries.Add(entry);
        }

        var (encoding, stdStrings) = Decode(entries, header, input.Name);
        return (entries, encoding, stdStrings);
    }

    private static TocEntry ReadEntry(ArchiveInput input, ArchiveHeader header, int index, int count)
    {
        var v = header.Version;
        var raw = new byte[]?[FieldCount];
        string where = $"TOC entry {index + 1} of {count}";

        input.Context = where + ", dump ID";
        long idStart = input.Position;
        int dumpId = input.ReadInt32("dump ID");
        if (dumpId <= 0)
        {
            throw new ArchiveException($"dump ID {dumpId} out of range (perhaps a corrupt TOC) in \"{input.Name}\" at byte {idStart} ({where})");
        }

        where = $"TOC entry {index + 1} of {count}, dump ID {dumpId}";
        input.Context = where + ", hadDumper";
        bool hadDumper = input.ReadInt32("hadDumper") != 0;
        raw[(int)TocField.TableOid] = Field(input, where, "tableoid");
        raw[(int)TocField.Oid] = Field(input, where, "oid");
        raw[(int)TocField.Tag] = Field(input, where, "tag");
        raw[(int)TocField.Desc] = Field(input, where, "desc");
        input.Context = where + ", section";
        long sectionStart = input.Position;
        int section = input.ReadInt32("section");
        if (section is < 1 or > 4)
        {
            throw new ArchiveException($"invalid section code {section} in \"{input.Name}\" at byte {sectionStart} ({where})");
        }

        raw[(int)TocField.Defn] = Field(input, where, "defn");
        raw[(int)TocField.DropStmt] = Field(input, where, "dropStmt");
        raw[(int)TocField.CopyStmt] = Field(input, where, "copyStmt");
        raw[(int)TocField.Namespace] = Field(input, where, "namespace");
        raw[(int)TocField.Tablespace] = Field(input, where, "tablespace");
        if (v >= ArchiveVersion.V1_14)
        {
            raw[(int)TocField.TableAm] = Field(input, where, "tableam");
        }

        int relkind = 0;
        if (v >= ArchiveVersion.V1_16)
        {
            input.Context = where + ", relkind";
            relkind = input.ReadInt32("relkind");
        }

        raw[(int)TocField.Owner] = Field(input, where, "owner");
        raw[(int)TocField.WithOids] = Field(input, where, "withOids");

        input.Context = where + ", dependencies";
        var deps = new List<int>();
        while (true)
        {
            long depStart = input.Position;
            byte[]? dep = input.ReadCString();
            if (dep is null)
            {
                break;
            }

            // pg_restore converts each with atoi(); a dependency must name a dump ID.
            if (!int.TryParse(Encoding.ASCII.GetString(dep), out int depId) || depId <= 0)
            {
                throw new ArchiveException($"invalid dependency \"{Printable(dep)}\" in \"{input.Name}\" at byte {depStart} ({where})");
            }

            deps.Add(depId);
        }

        var state = DataOffsetState.NotApplicable;
        long offset = 0;
        if (header.Format == ArchiveFormat.Custom)
        {
            input.Context = where + ", data offset";
            (state, offset) = input.ReadOffset();
        }
        else
        {
            raw[(int)TocField.FileName] = Field(input, where, "file name");
        }

        return new TocEntry(raw)
        {
            Index = index,
            DumpId = dumpId,
            HadDumper = hadDumper,
            Section = (ArchiveSection)section,
            RelKind = relkind,
            Dependencies = deps,
            OffsetState = state,
            DataOffset = state == DataOffsetState.PositionSet ? offset : 0,
        };
    }

    private static byte[]? Field(ArchiveInput input, string where, string field)
    {
        input.Context = where + ", " + field;
        return input.ReadCString();
    }

    private static (ArchiveEncoding, bool) Decode(List<TocEntry> entries, ArchiveHeader header, string name)
    {
        // pg_backup_archiver.c processEncodingEntry/processStdStringsEntry: the special entries are
        // ASCII SQL whose quoted value names the encoding and the standard_conforming_strings setting.
        var encoding = ArchiveEncoding.SqlAscii;
        bool stdStrings = false;
        foreach (var e in entries)
        {
            string desc = Encoding.Latin1.GetString(e.GetRaw(TocField.Desc) ?? []);
            byte[]? defn = e.GetRaw(TocField.Defn);
            if (desc == "ENCODING")
            {
                string value = QuotedValue(defn)
                    ?? throw new ArchiveException($"invalid ENCODING item \"{Printable(defn)}\" in \"{name}\" (dump ID {e.DumpId})");
                encoding = ArchiveEncoding.ForName(value)
                    ?? throw new ArchiveException($"unrecognized encoding \"{value}\" in the ENCODING entry of \"{name}\" (dump ID {e.DumpId})");
            }
            else if (desc == "STDSTRINGS")
            {
                string value = QuotedValue(defn)
                    ?? throw new ArchiveException($"invalid STDSTRINGS item \"{Printable(defn)}\" in \"{name}\" (dump ID {e.DumpId})");
                stdStrings = value switch
                {
                    "on" => true,
                    "off" => false,
                    _ => throw new ArchiveException($"invalid STDSTRINGS item \"{Printable(defn)}\" in \"{name}\" (dump ID {e.DumpId})"),
                };
            }
        }

        if (header.DatabaseNameBytes is { } db)
        {
            encoding.TryDecode(db, out string dbName);
            header.DatabaseName = dbName;
        }

        if (header.ServerVersionBytes is { } server)
        {
            encoding.TryDecode(server, out string serverVersion);
            header.ServerVersion = serverVersion;
        }

        if (header.DumpVersionBytes is { } dump)
        {
            encoding.TryDecode(dump, out string dumpVersion);
            header.DumpVersion = dumpVersion;
        }

        foreach (var e in entries)
        {
            List<TocField>? bad = null;
            string? Text(TocField f)
            {
                byte[]? b = e.GetRaw(f);
                if (b is null)
                {
                    return null;
                }

                if (!encoding.TryDecode(b, out string s))
                {
                    (bad ??= []).Add(f);
                }

                return s;
            }

            e.TableOid = Text(TocField.TableOid) ?? "0";
            e.Oid = Text(TocField.Oid) ?? "0";
            e.Tag = Text(TocField.Tag) ?? "";
            e.Desc = Text(TocField.Desc) ?? "";
            e.Defn = Text(TocField.Defn);
            e.DropStmt = Text(TocField.DropStmt);
            e.CopyStmt = Text(TocField.CopyStmt);
            e.Namespace = Text(TocField.Namespace);
            e.Tablespace = Text(TocField.Tablespace);
            e.TableAm = Text(TocField.TableAm);
            e.Owner = Text(TocField.Owner);
            e.WithOids = Text(TocField.WithOids);
            string? file = Text(TocField.FileName);
            e.FileName = string.IsNullOrEmpty(file) ? null : file;
            e.UndecodableFields = (IReadOnlyList<TocField>?)bad ?? [];
        }

        return (encoding, stdStrings);
    }

    private static string? QuotedValue(byte[]? defn)
    {
        if (defn is null)
        {
            return null;
        }

        string s = Encoding.Latin1.GetString(defn);
        int a = s.IndexOf('\'', StringComparison.Ordinal);
        int b = a < 0 ? -1 : s.IndexOf('\'', a + 1);
        return b < 0 ? null : s[(a + 1)..b];
    }

    internal static string Printable(byte[]? bytes)
    {
        if (bytes is null)
        {
            return "(null)";
        }

        var sb = new StringBuilder();
        foreach (byte b in bytes.AsSpan(0, Math.Min(bytes.Length, 60)))
        {
            sb.Append(b is >= 0x20 and < 0x7f ? (char)b : '?');
        }

        return sb.ToString();
    }
}
