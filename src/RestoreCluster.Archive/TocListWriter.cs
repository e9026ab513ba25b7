using System.Globalization;
using System.Text;

namespace RestoreCluster.Archive;

/// <summary>
/// Writes a TOC listing byte for byte as <c>pg_restore -l</c> does (pg_backup_archiver.c PrintTOCSummary):
/// the header block, then one line <c>"%d; %u %u %s %s %s %s\n"</c> (dumpId; tableoid oid desc namespace
/// tag owner) per selected entry. Names keep their stored bytes; newlines in them become spaces.
/// </summary>
public static class TocListWriter
{
    /// <param name="archive">The archive whose header is described.</param>
    /// <param name="order">The entries in listing order (archive order, or as a -l list reordered them).</param>
    /// <param name="isSelected">Whether an entry would be restored (printed unless <paramref name="verbose"/>).</param>
    /// <param name="createdText">The creation time as pg_restore prints it after "Archive created at ".</param>
    /// <param name="verbose">pg_restore -v: every entry, each followed by its dependencies.</param>
    public static void Write(
        Stream output, PgArchive archive, IEnumerable<TocEntry> order, Func<TocEntry, bool> isSelected, string createdText, bool verbose)
    {
        var h = archive.Header;
        var buf = new MemoryStream();
        void Text(string s) => buf.Write(Encoding.UTF8.GetBytes(s));
        void Raw(byte[] b) => buf.Write(b);

        Text($";\n; Archive created at {createdText}\n");
        Text(";     dbname: ");
        Raw(Sanitize(h.DatabaseNameBytes, hyphen: false));
        Text($"\n;     TOC Entries: {archive.Entries.Count.ToString(CultureInfo.InvariantCulture)}\n");
        // PostgreSQL 16 (archive 1.15) started printing the algorithm's name instead of the zlib level.
        Text(h.CompressionLevel is { } level
            ? $";     Compression: {level.ToString(CultureInfo.InvariantCulture)}\n"
            : $";     Compression: {AlgorithmName(h.Compression)}\n");
        Text($";     Dump Version: {h.Version}\n");
        Text($";     Format: {FormatName(h.Format)}\n");
        Text($";     Integer: {h.IntSize} bytes\n");
        Text($";     Offset: {h.OffSize} bytes\n");
        if (h.ServerVersionBytes is { } server)
        {
            Text(";     Dumped from database version: ");
            Raw(server);
            Text("\n");
        }

        if (h.DumpVersionBytes is { } dump)
        {
            Text(";     Dumped by pg_dump version: ");
            Raw(dump);
            Text("\n");
        }

        Text(";\n;\n; Selected TOC Entries:\n;\n");
        output.Write(buf.GetBuffer(), 0, (int)buf.Length);

        foreach (var te in order)
        {
            if (!verbose && !isSelected(te))
            {
                continue;
            }

            buf.SetLength(0);
            Text($"{te.DumpId.ToString(CultureInfo.InvariantCulture)}; {te.TableOidValue.ToString(CultureInfo.InvariantCulture)} {te.OidValue.ToString(CultureInfo.InvariantCulture)} ");
            Raw(te.GetRaw(TocField.Desc) ?? []);
            Text(" ");
            Raw(Sanitize(te.GetRaw(TocField.Namespace), hyphen: true));
            Text(" ");
            Raw(Sanitize(te.GetRaw(TocField.Tag), hyphen: false));
            Text(" ");
            Raw(Sanitize(te.GetRaw(TocField.Owner), hyphen: false));
            Text("\n");
            if (verbose && te.Dependencies.Count > 0)
            {
                Text(";\tdepends on:");
                foreach (int d in te.Dependencies)
                {
                    Text(" " + d.ToString(CultureInfo.InvariantCulture));
                }

                Text("\n");
            }

            output.Write(buf.GetBuffer(), 0, (int)buf.Length);
        }

        output.Flush();
    }

    public static string FormatName(ArchiveFormat format) => format switch
    {
        ArchiveFormat.Custom => "CUSTOM",
        ArchiveFormat.Directory => "DIRECTORY",
        ArchiveFormat.Tar => "TAR",
        _ => "UNKNOWN",
    };

    public static string AlgorithmName(CompressionAlgorithm algorithm) => algorithm switch
    {
        CompressionAlgorithm.None => "none",
        CompressionAlgorithm.Gzip => "gzip",
        CompressionAlgorithm.Lz4 => "lz4",
        _ => "zstd",
    };

    // sanitize_line: NULL or empty becomes "-" (namespace) or ""; CR and LF become spaces.
    private static byte[] Sanitize(byte[]? raw, bool hyphen)
    {
        if (raw is null || raw.Length == 0)
        {
            return hyphen ? "-"u8.ToArray() : [];
        }

        var copy = (byte[])raw.Clone();
        for (int i = 0; i < copy.Length; i++)
        {
            if (copy[i] is (byte)'\n' or (byte)'\r')
            {
                copy[i] = (byte)' ';
            }
        }

        return copy;
    }
}
