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
}
