using System.Text;

namespace RestoreCluster.Archive;

/// <summary>
/// Data files of a directory archive (pg_backup_directory.c): <c>&lt;dumpId&gt;.dat</c> holding the plain
/// data stream, compressed per file (<c>.gz</c>, <c>.lz4</c>, <c>.zst</c>); large objects listed in
/// <c>blobs.toc</c> (≤ 1.15) or <c>blobs_&lt;dumpId&gt;.toc</c> (1.16) as lines <c>"&lt;oid&gt; blob_&lt;oid&gt;.dat\n"</c>.
/// </summary>
internal sealed class DirectoryFormatSource(string directory, ArchiveHeader header) : IDataSource
{
    private static readonly string[] Suffixes = [".gz", ".lz4", ".zst"];

    public Stream OpenData(TocEntry entry, DataReadCounter? counter)
    {
        if (entry.FileName is null)
        {
            return Stream.Null;
        }

        return OpenFile(entry.FileName, $"dump ID {entry.DumpId}, {entry.Desc} {entry.Tag}", counter);
    }

    public IEnumerable<LargeObjectData> ReadLargeObjects(TocEntry entry)
    {
        if (entry.FileName is null)
        {
            yield break;
        }

        string where = $"dump ID {entry.DumpId}, {entry.Desc} {entry.Tag}";
        List<(uint Oid, string File)> list;
        using (var toc = OpenFile(entry.FileName, where))
        {
            list = ParseIndex(toc, Path.Combine(directory, entry.FileName));
        }

        foreach (var (oid, file) in list)
        {
            using var data = OpenFile(file, $"{where}, large object {oid}");
            yield return new LargeObjectData(oid, data);
        }
    }

    // _PrepParallelRestore: the size of the data file (or its compressed variant), times 1024 for BLOBS,
    // whose index file is much smaller than the objects it lists.
    public void ComputeDataLengths(IReadOnlyList<TocEntry> entries)
    {
        foreach (var te in entries)
        {
            if (te.FileName is null || !te.HadDumper)
            {
                continue;
            }

            string path = Path.Combine(directory, te.FileName);
            long size = 0;
            if (File.Exists(path))
            {
                size = new FileInfo(path).Length;
            }
            else if (header.Compression != CompressionAlgorithm.None)
            {
                string suffix = header.Compression switch
                {
                    CompressionAlgorithm.Gzip => ".gz",
                    CompressionAlgorithm.Lz4 => ".lz4",
                    _ => ".zst",
                };
                if (File.Exists(path + suffix))
                {
                    size = new FileInfo(path + suffix).Length;
                }
            }

            te.DataLength = te.Desc == "BLOBS" ? size * 1024 : size;
        }
    }

    public void Dispose()
    {
    }

    /// <summary>
    /// Opens a data file the way pg_restore finds it: a name that ends in a compression suffix says its
    /// algorithm; otherwise the plain name, then <c>.gz</c>, <c>.lz4</c> and <c>.zst</c> are tried in turn.
    /// </summary>
    private Stream OpenFile(string name, string where, DataReadCounter? counter = null)
    {
        if (name.Contains('/', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ArchiveException($"invalid data file name \"{name}\" in the TOC of \"{directory}\" ({where})");
        }

        string path = Path.Combine(directory, name);
        CompressionAlgorithm algorithm;
        if (Decompression.FromSuffix(name) is { } fromName)
        {
            algorithm = fromName;
        }
        else if (File.Exists(path))
        {
            algorithm = CompressionAlgorithm.None;
        }
        else
        {
            algorithm = CompressionAlgorithm.None;
            foreach (string suffix in Suffixes)
            {
                if (File.Exists(path + suffix))
                {
                    path += suffix;
                    algorithm = Decompression.FromSuffix(suffix)!.Value;
                    break;
                }
            }
        }

        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArchiveException($"could not open data file \"{path}\" ({where}): {ex.Message}", ex);
        }

        // Counted below the decompressor: the file's own (compressed) bytes.
        return Decompression.Open(CountingStream.Wrap(fs, counter), algorithm, zlibFraming: false, $"{where}, file \"{path}\"");
    }

    // pg_backup_directory.c _LoadLOs: cfgets() reads lines of at most 1023 bytes, each parsed with
    // sscanf(line, "%u %1024s\n"): blanks as C's isspace() knows them (not Unicode's: 0xA0 is part of a
    // name), a decimal OID, then a name that runs to the next blank. The bytes after the name are ignored.
    private static List<(uint, string)> ParseIndex(Stream toc, string path)
    {
        const int LineLimit = 1023;
        var list = new List<(uint, string)>();
        using var ms = new MemoryStream();
        toc.CopyTo(ms);
        var bytes = ms.GetBuffer().AsSpan(0, (int)ms.Length);
        int lineNo = 0;
        while (!bytes.IsEmpty)
        {
            int nl = bytes[..Math.Min(bytes.Length, LineLimit)].IndexOf((byte)'\n');
            int take = nl >= 0 ? nl + 1 : Math.Min(bytes.Length, LineLimit);
            var line = bytes[..take];
            bytes = bytes[take..];
            lineNo++;

            // sscanf sees a C string: a NUL ends the line.
            int nul = line.IndexOf((byte)0);
            if (nul >= 0)
            {
                line = line[..nul];
            }

            if (!TryParseIndexLine(line, out uint oid, out string? file))
            {
                string shown = Encoding.Latin1.GetString(line).TrimEnd('\n');
                throw new ArchiveException($"invalid line {lineNo} in large object TOC file \"{path}\": \"{shown}\"");
            }

            list.Add((oid, file));
        }

        return list;
    }

    private static bool TryParseIndexLine(ReadOnlySpan<byte> line, out uint oid, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? file)
    {
        static bool IsCSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

        oid = 0;
        file = null;
        int p = 0;
        while (p < line.Length && IsCSpace(line[p]))
        {
            p++;
        }

        int digits = p;
        ulong value = 0;
        while (p < line.Length && line[p] is >= (byte)'0' and <= (byte)'9')
        {
            value = value * 10 + (ulong)(line[p] - '0');
            if (value > uint.MaxValue)
            {
                return false;
            }

            p++;
        }

        if (p == digits)
        {
            return false;
        }

        while (p < line.Length && IsCSpace(line[p]))
        {
            p++;
        }

        int nameStart = p;
        while (p < line.Length && !IsCSpace(line[p]))
        {
            p++;
        }

        if (p == nameStart)
        {
            return false;
        }

        oid = (uint)value;
        file = Encoding.Latin1.GetString(line[nameStart..p]);
        return true;
    }
}
