using System.Text.Encodings.Web;
using System.Text.Json;
using RestoreCluster.Archive;

namespace RestoreCluster.Cli;

/// <summary>
/// <c>restorecluster list --json</c>: the header and every TOC entry with all its fields, its
/// dependencies, its data size and whether pg_restore would list it. The schema is in docs/list-json.md.
/// </summary>
internal static class JsonTocWriter
{
    public const int SchemaVersion = 1;

    public static void Write(Stream output, PgArchive archive, IEnumerable<TocEntry> order, Func<TocEntry, bool> isSelected, string createdText)
    {
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using var w = new Utf8JsonWriter(output, options);
        var h = archive.Header;
        w.WriteStartObject();
        w.WriteNumber("schemaVersion", SchemaVersion);
        w.WriteStartObject("archive");
        w.WriteString("path", archive.DisplayName);
        w.WriteString("format", h.Format.ToString().ToLowerInvariant());
        w.WriteNumber("formatByte", h.FormatByte);
        w.WriteString("version", $"{h.Version.Major}.{h.Version.Minor}.{h.Version.Revision}");
        w.WriteNumber("intSize", h.IntSize);
        w.WriteNumber("offSize", h.OffSize);
        w.WriteString("compression", TocListWriter.AlgorithmName(h.Compression));
        if (h.CompressionLevel is { } level)
        {
            w.WriteNumber("compressionLevel", level);
        }
        else
        {
            w.WriteNull("compressionLevel");
        }

        var c = h.Created;
        w.WriteStartObject("created");
        w.WriteNumber("sec", c.Second);
        w.WriteNumber("min", c.Minute);
        w.WriteNumber("hour", c.Hour);
        w.WriteNumber("mday", c.Day);
        w.WriteNumber("mon", c.Month);
        w.WriteNumber("year", c.Year);
        w.WriteNumber("isdst", c.IsDst);
        w.WriteEndObject();
        w.WriteString("createdText", createdText);
        WriteText(w, "databaseName", h.DatabaseName, h.DatabaseNameBytes, archive.Encoding);
        WriteText(w, "serverVersion", h.ServerVersion, h.ServerVersionBytes, archive.Encoding);
        WriteText(w, "dumpVersion", h.DumpVersion, h.DumpVersionBytes, archive.Encoding);
        w.WriteString("encoding", archive.Encoding.Name);
        w.WriteBoolean("standardConformingStrings", archive.StandardConformingStrings);
        w.WriteBoolean("seekable", archive.IsSeekable);
        w.WriteNumber("tocEntries", archive.Entries.Count);
        w.WriteEndObject();

        w.WriteStartArray("entries");
        foreach (var e in order)
        {
            w.WriteStartObject();
            w.WriteNumber("index", e.Index);
            w.WriteNumber("dumpId", e.DumpId);
            w.WriteBoolean("hadDumper", e.HadDumper);
            w.WriteString("tableOid", e.TableOid);
            w.WriteString("oid", e.Oid);
            w.WriteString("tag", e.Tag);
            w.WriteString("desc", e.Desc);
            w.WriteNumber("section", (int)e.Section);
            w.WriteString("sectionName", SectionName(e.Section));
            WriteNullable(w, "defn", e.Defn);
            WriteNullable(w, "dropStmt", e.DropStmt);
            WriteNullable(w, "copyStmt", e.CopyStmt);
            WriteNullable(w, "namespace", e.Namespace);
            WriteNullable(w, "tablespace", e.Tablespace);
            WriteNullable(w, "tableAm", e.TableAm);
            w.WriteNumber("relKind", e.RelKind);
            WriteNullable(w, "owner", e.Owner);
            WriteNullable(w, "withOids", e.WithOids);
            w.WriteStartArray("dependencies");
            foreach (int d in e.Dependencies)
            {
                w.WriteNumberValue(d);
            }

            w.WriteEndArray();
            WriteNullable(w, "fileName", e.FileName);
            w.WriteString("dataOffsetState", e.OffsetState switch
            {
                DataOffsetState.PositionNotSet => "notSet",
                DataOffsetState.PositionSet => "set",
                DataOffsetState.NoData => "noData",
                _ => "notApplicable",
            });
            w.WriteNumber("dataOffset", e.DataOffset);
            w.WriteNumber("dataLength", e.DataLength);
            w.WriteBoolean("listed", isSelected(e));
            if (e.UndecodableFields.Count > 0)
            {
                w.WriteStartObject("raw");
                foreach (var f in e.UndecodableFields)
                {
                    w.WriteBase64String(JsonName(f), e.GetRaw(f));
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        output.WriteByte((byte)'\n');
        output.Flush();
    }

    public static string JsonName(TocField f) => f switch
    {
        TocField.TableOid => "tableOid",
        TocField.Oid => "oid",
        TocField.Tag => "tag",
        TocField.Desc => "desc",
        TocField.Defn => "defn",
        TocField.DropStmt => "dropStmt",
        TocField.CopyStmt => "copyStmt",
        TocField.Namespace => "namespace",
        TocField.Tablespace => "tablespace",
        TocField.TableAm => "tableAm",
        TocField.Owner => "owner",
        TocField.WithOids => "withOids",
        _ => "fileName",
    };

    private static string SectionName(ArchiveSection s) => s switch
    {
        ArchiveSection.None => "NONE",
        ArchiveSection.PreData => "PRE_DATA",
        ArchiveSection.Data => "DATA",
        _ => "POST_DATA",
    };

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    // Header strings that do not decode get their bytes as base64 beside the Latin-1 rendering.
    private static void WriteText(Utf8JsonWriter w, string name, string? text, byte[]? raw, ArchiveEncoding encoding)
    {
        WriteNullable(w, name, text);
        if (raw is not null && !encoding.TryDecode(raw, out _))
        {
            w.WriteBase64String(name + "Raw", raw);
        }
    }
}
