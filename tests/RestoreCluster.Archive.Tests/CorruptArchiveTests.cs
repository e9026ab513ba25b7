using RestoreCluster.Archive.Tests.Writer;
using Xunit;

namespace RestoreCluster.Archive.Tests;

/// <summary>
/// Regressions found by the CLI's mutation test: a corrupt archive must end in an
/// <see cref="ArchiveException"/> that names the file and the place, never in another exception.
/// </summary>
public sealed class CorruptArchiveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("corrupt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DataOffsetPastTheEndOfTheFileIsAnArchiveError()
    {
        var archive = SpecArchives.Sample(SpecVersion.V1_14, SpecFormat.Custom, SpecCompression.Gzip);
        string path = Path.Combine(_dir, "cut.dump");
        var result = new SpecArchiveWriter(new SpecWriterOptions()).Write(archive, path);
        var (lastId, lastPos) = result.BlockPositions.MaxBy(kv => kv.Value);
        using (var fs = new FileStream(path, FileMode.Open))
        {
            fs.SetLength(lastPos);
        }

        using var pg = PgArchive.Open(path);
        var entry = pg.GetEntry(lastId)!;
        var e = Assert.Throws<ArchiveException>(() =>
        {
            if (entry.Desc == "BLOBS")
            {
                _ = pg.ReadLargeObjects(entry).ToList();
            }
            else
            {
                pg.OpenData(entry).Dispose();
            }
        });
        Assert.Contains($"data offset {lastPos} of dump ID {lastId}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"({lastPos} bytes)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TocStringsEndAtTheirFirstNulAsInPgRestore()
    {
        // pg_restore's ReadStr gives C strings: "SET cli\0...'UTF8';" is just "SET cli", an invalid ENCODING item.
        var broken = SpecArchives.Sample(SpecVersion.V1_14, SpecFormat.Custom, SpecCompression.None);
        broken.Entries.Single(e => e.Desc == "ENCODING").Defn = "SET cli\0\0\0\0encoding = 'UTF8';\n";
        string brokenPath = Path.Combine(_dir, "nul-encoding.dump");
        new SpecArchiveWriter(new SpecWriterOptions()).Write(broken, brokenPath);

        var e = Assert.Throws<ArchiveException>(() => PgArchive.Open(brokenPath).Dispose());
        Assert.StartsWith("invalid ENCODING item \"SET cli\"", e.Message, StringComparison.Ordinal);

        // A NUL after the value only cuts the text short.
        var tail = SpecArchives.Sample(SpecVersion.V1_14, SpecFormat.Custom, SpecCompression.None);
        tail.Entries.Single(e => e.Desc == "ENCODING").Defn = "SET client_encoding = 'UTF8';\0junk";
        tail.Entries.Single(e => e.Desc == "TABLE").Tag = "t1\0junk";
        string tailPath = Path.Combine(_dir, "nul-tail.dump");
        new SpecArchiveWriter(new SpecWriterOptions()).Write(tail, tailPath);

        using var pg = PgArchive.Open(tailPath);
        Assert.Equal("SET client_encoding = 'UTF8';", pg.Entries.Single(x => x.Desc == "ENCODING").Defn);
        Assert.Contains(pg.Entries, x => x.Desc == "TABLE" && x.Tag == "t1");
    }

    [Fact]
    public void LargeObjectIndexLinesSplitOnlyAtCBlanks()
    {
        // The newline of "<oid> blob_<oid>.dat\n" damaged into 0xA0: pg_restore's sscanf keeps 0xA0 in the
        // name (it is no C blank), so the file is not found; trimming it as Unicode white space is wrong.
        var archive = SpecArchives.Sample(SpecVersion.V1_14, SpecFormat.Directory, SpecCompression.None);
        string dir = Path.Combine(_dir, "lo.dir");
        new SpecArchiveWriter(new SpecWriterOptions()).Write(archive, dir);
        string index = Path.Combine(dir, "blobs.toc");
        byte[] bytes = File.ReadAllBytes(index);
        Assert.Equal((byte)'\n', bytes[^1]);
        bytes[^1] = 0xA0;
        File.WriteAllBytes(index, bytes);

        using var pg = PgArchive.Open(dir);
        var blobs = pg.Entries.Single(e => e.Desc == "BLOBS");
        var e = Assert.Throws<ArchiveException>(() => pg.ReadLargeObjects(blobs).ToList());
        Assert.Contains("could not open data file", e.Message, StringComparison.Ordinal);

        // Blanks are C's: tabs and extra spaces separate, and text after the name is ignored.
        File.WriteAllBytes(index, "\t16402\t  blob_16402.dat   ignored\n"u8.ToArray());
        var objects = pg.ReadLargeObjects(blobs).Select(lo => lo.Oid).ToList();
        Assert.Equal([16402u], objects);
    }
}
