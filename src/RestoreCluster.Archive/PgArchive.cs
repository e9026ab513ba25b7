namespace RestoreCluster.Archive;

/// <summary>
/// A pg_dump archive opened for reading: header, TOC and access to every entry's data, for the custom,
/// directory and tar formats, from a file, a directory or a forward-only stream.
/// </summary>
public sealed class PgArchive : IDisposable
{
    private readonly IDataSource _data;
    private readonly Dictionary<int, TocEntry> _byId;

    private PgArchive(string name, ArchiveHeader header, List<TocEntry> entries, ArchiveEncoding encoding, bool stdStrings, IDataSource data, bool seekable)
    {
        DisplayName = name;
        Header = header;
        Entries = entries;
        Encoding = encoding;
        StandardConformingStrings = stdStrings;
        _data = data;
        IsSeekable = seekable;
        _byId = entries.ToDictionary(e => e.DumpId);
        MaxDumpId = entries.Count == 0 ? 0 : entries.Max(e => e.DumpId);
        data.ComputeDataLengths(entries);
    }

    /// <summary>The archive's path (or the name given for a stream), for messages.</summary>
    public string DisplayName { get; }

    public ArchiveHeader Header { get; }

    /// <summary>Every TOC entry, in archive order.</summary>
    public IReadOnlyList<TocEntry> Entries { get; }

    /// <summary>The encoding the dump was written in (from its ENCODING entry; SQL_ASCII without one).</summary>
    public ArchiveEncoding Encoding { get; }

    /// <summary>standard_conforming_strings as the STDSTRINGS entry gives it.</summary>
    public bool StandardConformingStrings { get; }

    /// <summary>False for a pipe: data is then read forward once (pg_restore refuses -j for it).</summary>
    public bool IsSeekable { get; }

    public int MaxDumpId { get; }

    public TocEntry? GetEntry(int dumpId) => _byId.GetValueOrDefault(dumpId);

    /// <summary>
    /// The plain bytes of an entry's data part, exactly as pg_dump wrote them before compression (for
    /// TABLE DATA, the COPY text including its trailing <c>\.</c> line). Dispose it before asking for the
    /// next entry of a forward-only archive. <paramref name="counter"/>, when given, counts the bytes read from
    /// the archive file or member for it, before decompression (progress in the unit of <see cref="TocEntry.DataLength"/>).
    /// </summary>
    public Stream OpenData(TocEntry entry, DataReadCounter? counter = null) => _data.OpenData(entry, counter);

    /// <summary>The large objects of a BLOBS entry, each with its bytes.</summary>
    public IEnumerable<LargeObjectData> ReadLargeObjects(TocEntry entry) => _data.ReadLargeObjects(entry);

    public void Dispose() => _data.Dispose();

    /// <summary>Opens an archive file or directory, detecting its format as pg_restore does.</summary>
    public static PgArchive Open(string path)
    {
        if (Directory.Exists(path))
        {
            return OpenDirectory(path);
        }

        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArchiveException($"could not open input file \"{path}\": {ex.Message}", ex);
        }

        try
        {
            return fs.CanSeek ? OpenSeekableFile(fs, path) : OpenStreamCore(fs, path);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>Opens a custom or tar archive from a stream that may not seek (standard input, a pipe).</summary>
    public static PgArchive Open(Stream stream, string displayName) => OpenStreamCore(stream, displayName);

    private static PgArchive OpenSeekableFile(FileStream fs, string path)
    {
        var kind = Detect(fs, path, out _);
        fs.Seek(0, SeekOrigin.Begin);
        if (kind == ArchiveFormat.Custom)
        {
            var input = new ArchiveInput(fs, path);
            var header = HeaderReader.Read(input, ArchiveFormat.Custom);
            var (entries, enc, std) = TocReader.Read(input, header);
            long dataStart = input.Position;
            fs.Dispose();
            return new PgArchive(path, header, entries, enc, std, new CustomFormatSource(path, header, dataStart), seekable: true);
        }

        fs.Dispose();
        return OpenTar(new TarFormatSource(path), path, seekable: true);
    }

    private static PgArchive OpenStreamCore(Stream stream, string name)
    {
        var kind = Detect(stream, name, out byte[] prefix);
        var input = new ArchiveInput(new PrefixStream(prefix, stream), name);
        if (kind == ArchiveFormat.Custom)
        {
            var header = HeaderReader.Read(input, ArchiveFormat.Custom);
            var (entries, enc, std) = TocReader.Read(input, header);
            return new PgArchive(name, header, entries, enc, std, new CustomFormatSource(input, header), seekable: false);
        }

        return OpenTar(new TarFormatSource(input), name, seekable: false);
    }

    private static PgArchive OpenTar(TarFormatSource tar, string name, bool seekable)
    {
        try
        {
            using var toc = tar.OpenToc();
            var input = new ArchiveInput(toc, $"{name}: toc.dat");
            var header = HeaderReader.Read(input, ArchiveFormat.Tar);
            tar.Header = header;
            var (entries, enc, std) = TocReader.Read(input, header);
            return new PgArchive(name, header, entries, enc, std, tar, seekable);
        }
        catch
        {
            tar.Dispose();
            throw;
        }
    }

    private static PgArchive OpenDirectory(string dir)
    {
        // pg_restore accepts a toc.dat that a user compressed afterwards.
        string? tocPath = new[] { "toc.dat", "toc.dat.gz", "toc.dat.lz4", "toc.dat.zst" }
            .Select(n => Path.Combine(dir, n))
            .FirstOrDefault(File.Exists);
        if (tocPath is null)
        {
            throw new ArchiveException($"directory \"{dir}\" does not appear to be a valid archive (\"toc.dat\" does not exist)");
        }

        using var raw = new FileStream(tocPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var algorithm = Decompression.FromSuffix(tocPath) ?? CompressionAlgorithm.None;
        using var plain = Decompression.Open(raw, algorithm, zlibFraming: false, $"\"{tocPath}\"");
        var input = new ArchiveInput(plain, tocPath);
        var header = HeaderReader.Read(input, ArchiveFormat.Directory);
        var (entries, enc, std) = TocReader.Read(input, header);
        return new PgArchive(dir, header, entries, enc, std, new DirectoryFormatSource(dir, header), seekable: true);
    }

    // pg_backup_archiver.c _discoverArchiveFormat: "PGDMP" means custom; otherwise a 512-byte block that
    // is a valid tar header means tar; a plain-text dump is pointed at psql.
    private static ArchiveFormat Detect(Stream stream, string name, out byte[] prefix)
    {
        var block = new byte[TarMember.BlockSize];
        int n = 0;
        while (n < 5)
        {
            int r = stream.Read(block, n, 5 - n);
            if (r == 0)
            {
                break;
            }

            n += r;
        }

        if (n < 5)
        {
            prefix = block[..n];
            throw new ArchiveException(n == 0
                ? $"input file \"{name}\" is empty; it is not a pg_dump archive"
                : $"input file \"{name}\" is too short (read {n} bytes, expected at least 5) to be a pg_dump archive");
        }

        if (block.AsSpan(0, 5).SequenceEqual(HeaderReader.Magic))
        {
            prefix = block[..n];
            return ArchiveFormat.Custom;
        }

        while (n < block.Length)
        {
            int r = stream.Read(block, n, block.Length - n);
            if (r == 0)
            {
                break;
            }

            n += r;
        }

        prefix = block[..n];
        if (block.AsSpan(0, n).StartsWith("--\n-- PostgreSQL database dump\n--\n\n"u8)
            || block.AsSpan(0, n).StartsWith("--\n-- PostgreSQL database cluster dump\n--\n\n"u8))
        {
            throw new ArchiveException($"input file \"{name}\" appears to be a text format dump; please use psql");
        }

        if (n == block.Length && TarMember.LooksLikeTar(block))
        {
            return ArchiveFormat.Tar;
        }

        throw new ArchiveException($"input file \"{name}\" does not appear to be a valid archive (neither custom, directory nor tar format)");
    }
}
