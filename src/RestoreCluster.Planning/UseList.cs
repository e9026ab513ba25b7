using System.Globalization;
using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>
/// A <c>-L</c> list file applied as pg_restore's SortTocFromFile does: each line is cut at its first
/// <c>;</c>, blank lines are skipped, the leading number is a dump ID; the listed entries are wanted and
/// move to the end of the TOC in file order, the others stay in front (unwanted).
/// </summary>
public sealed class UseList
{
    private UseList(IReadOnlyList<TocEntry> order, IReadOnlySet<int> wanted, IReadOnlyList<string> warnings)
    {
        Order = order;
        WantedIds = wanted;
        Warnings = warnings;
    }

    /// <summary>The TOC after reordering: unlisted entries first, in archive order, then the listed ones.</summary>
    public IReadOnlyList<TocEntry> Order { get; }

    public IReadOnlySet<int> WantedIds { get; }

    /// <summary>pg_restore's "line ignored: ..." warnings, in file order.</summary>
    public IReadOnlyList<string> Warnings { get; }

    public static UseList Load(string path, PgArchive archive)
    {
        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PlanningException($"could not open TOC file \"{path}\": {ex.Message}", ex);
        }

        return Parse(content, path, archive);
    }

    public static UseList Parse(byte[] content, string path, PgArchive archive)
    {
        var wanted = new HashSet<int>();
        var listed = new List<TocEntry>();
        var warnings = new List<string>();
        int start = 0;
        while (start < content.Length)
        {
            int end = Array.IndexOf(content, (byte)'\n', start);
            int lineEnd = end < 0 ? content.Length : end;
            var line = content.AsSpan(start, lineEnd - start);
            start = lineEnd + 1;

            int semi = line.IndexOf((byte)';');
            var cut = semi < 0 ? line : line[..semi];
            if (IsBlank(cut))
            {
                continue;
            }

            // strtol: leading white space, an optional sign, digits; no digits means "line ignored".
            int p = 0;
            while (p < cut.Length && IsSpace(cut[p]))
            {
                p++;
            }

            int digitsStart = p;
            if (p < cut.Length && cut[p] is (byte)'+' or (byte)'-')
            {
                p++;
            }

            int numStart = p;
            while (p < cut.Length && cut[p] is >= (byte)'0' and <= (byte)'9')
            {
                p++;
            }

            // The warning quotes the line as cut at its ';' (pg_log strips the final newline).
            string text = System.Text.Encoding.Latin1.GetString(cut);
            if (p == numStart)
            {
                warnings.Add($"line ignored: {text}");
                continue;
            }

            bool parsed = long.TryParse(System.Text.Encoding.ASCII.GetString(cut[digitsStart..p]), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long id);
            if (!parsed || id <= 0 || id > archive.MaxDumpId || wanted.Contains((int)id))
            {
                warnings.Add($"line ignored: {text}");
                continue;
            }

            var te = archive.GetEntry((int)id)
                ?? throw new PlanningException($"could not find entry for ID {id} (listed in \"{path}\")");
            wanted.Add((int)id);
            listed.Add(te);
        }

        var order = archive.Entries.Where(e => !wanted.Contains(e.DumpId)).Concat(listed).ToList();
        return new UseList(order, wanted, warnings);
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or (byte)'\v';

    // strspn(line, " \t\r\n") == strlen(line)
    private static bool IsBlank(ReadOnlySpan<byte> s)
    {
        foreach (byte b in s)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }
}
