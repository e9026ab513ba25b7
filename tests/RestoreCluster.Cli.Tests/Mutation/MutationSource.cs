using RestoreCluster.Archive;

namespace RestoreCluster.Cli.Tests.Mutation;

/// <summary>One file of an archive that mutations target, with its bytes and the length of its header+TOC part.</summary>
internal sealed record MutationFile(string Name, byte[] Bytes, long TocRegion)
{
    public long Length => Bytes.Length;
}

/// <summary>
/// An archive to corrupt: a single file (custom, tar) or a directory whose toc.dat comes first in
/// <see cref="Files"/>. <see cref="ComparePgRestore"/> is false for archives the local pg_restore cannot read.
/// </summary>
internal sealed class MutationSource
{
    private MutationSource(string name, string path, bool isDirectory, bool comparePgRestore, IReadOnlyList<MutationFile> files)
    {
        Name = name;
        Path = path;
        IsDirectory = isDirectory;
        ComparePgRestore = comparePgRestore;
        Files = files;
    }

    public string Name { get; }

    public string Path { get; }

    public bool IsDirectory { get; }

    public bool ComparePgRestore { get; }

    public IReadOnlyList<MutationFile> Files { get; }

    /// <summary>
    /// A custom or tar file. <paramref name="tocRegionHint"/> gives the header+TOC length of a piped custom
    /// archive, which stores no data offsets (its seekable twin has the same TOC length).
    /// </summary>
    public static MutationSource ForFile(string name, string path, bool comparePgRestore, long? tocRegionHint = null)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long region = tocRegionHint ?? TocRegionOf(path, bytes);
        return new(name, path, isDirectory: false, comparePgRestore, [new MutationFile(System.IO.Path.GetFileName(path), bytes, region)]);
    }

    public static MutationSource ForDirectory(string name, string path, bool comparePgRestore)
    {
        var files = new List<MutationFile> { new("toc.dat", File.ReadAllBytes(System.IO.Path.Combine(path, "toc.dat")), long.MaxValue) };
        foreach (string file in Directory.GetFiles(path).Order(StringComparer.Ordinal))
        {
            string fileName = System.IO.Path.GetFileName(file);
            // An empty file has no byte to corrupt.
            if (fileName != "toc.dat" && new FileInfo(file).Length > 0)
            {
                // A data file's own header (gzip header, first COPY line) is its "TOC region".
                files.Add(new MutationFile(fileName, File.ReadAllBytes(file), 64));
            }
        }

        return new(name, path, isDirectory: true, comparePgRestore, files);
    }

    /// <summary>Where the data starts: the first stored data offset (custom) or the end of toc.dat (tar).</summary>
    public static long TocRegionOf(string path, byte[] bytes)
    {
        if (bytes.AsSpan().StartsWith("PGDMP"u8))
        {
            using var archive = PgArchive.Open(path);
            var offsets = archive.Entries.Where(e => e.OffsetState == DataOffsetState.PositionSet).Select(e => e.DataOffset).ToList();
            return offsets.Count > 0 ? offsets.Min() : bytes.Length;
        }

        // tar: toc.dat is the first member; its size is octal at byte 124 of the first header.
        long size = 0;
        foreach (byte b in bytes.AsSpan(124, 12))
        {
            if (b is >= (byte)'0' and <= (byte)'7')
            {
                size = (size << 3) + (b - '0');
            }
            else if (b != ' ')
            {
                break;
            }
        }

        return 512 + size;
    }

    /// <summary>Writes the archive with the mutation applied under <paramref name="root"/>; returns its path.</summary>
    public string Materialize(ArchiveMutation mutation, string root, int caseNumber)
    {
        if (!IsDirectory)
        {
            string file = System.IO.Path.Combine(root, $"case{caseNumber}-{Files[0].Name}");
            File.WriteAllBytes(file, mutation.Apply(Files[0].Bytes));
            return file;
        }

        string dir = System.IO.Path.Combine(root, $"case{caseNumber}-{Name}");
        Directory.CreateDirectory(dir);
        foreach (var f in Files)
        {
            File.WriteAllBytes(System.IO.Path.Combine(dir, f.Name), f.Name == mutation.File ? mutation.Apply(f.Bytes) : f.Bytes);
        }

        return dir;
    }

    public override string ToString() => Name;
}
