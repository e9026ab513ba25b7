using Xunit;

namespace RestoreCluster.Archive.Tests.Writer;

/// <summary>
/// Writes archives with the spec writer for every version 1.12–1.16 × format × allowed compression, with
/// custom-format offsets set and not set, and reads them back with <see cref="PgArchive"/> from a file /
/// directory and from a non-seekable stream: every header field, every TOC field, every data byte and
/// every large object must come back as written. Also reads the hand-built byte files.
/// </summary>
public sealed class ReaderRoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("roundtrip-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>(version, format, compression, offsets set, access: "path" or "pipe").</summary>
    public static TheoryData<string, string, string, bool, string> Cases()
    {
        var data = new TheoryData<string, string, string, bool, string>();
        foreach (var v in SpecVersion.All)
        {
            var compressions = v.AtLeast(1, 15)
                ? new[] { SpecCompression.None, SpecCompression.Gzip, SpecCompression.Lz4, SpecCompression.Zstd }
                : new[] { SpecCompression.None, SpecCompression.Gzip };
            var version = $"{v.Major}.{v.Minor}";
            foreach (var c in compressions)
            {
                foreach (var offsets in new[] { true, false })
                {
                    data.Add(version, nameof(SpecFormat.Custom), c.ToString(), offsets, "path");
                    data.Add(version, nameof(SpecFormat.Custom), c.ToString(), offsets, "pipe");
                }

                data.Add(version, nameof(SpecFormat.Directory), c.ToString(), true, "path");
            }

            data.Add(version, nameof(SpecFormat.Tar), nameof(SpecCompression.None), true, "path");
            data.Add(version, nameof(SpecFormat.Tar), nameof(SpecCompression.None), true, "pipe");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReaderReturnsEverythingTheWriterWrote(string version, string formatName, string compressionName, bool setOffsets, string access)
    {
        var format = Enum.Parse<SpecFormat>(formatName);
        var compression = Enum.Parse<SpecCompression>(compressionName);
        var archive = SpecArchives.Sample(SpecVersion.Parse(version), format, compression);
        // tiny chunks when offsets are not set, to cross chunk boundaries everywhere
        var options = new SpecWriterOptions { SetOffsets = setOffsets, ChunkSize = setOffsets ? 4096 : 7 };
        RoundTrip(archive, options, access);
    }

    [Theory]
    [InlineData("1.14", "Custom", "Gzip", "path")]
    [InlineData("1.16", "Custom", "Zstd", "pipe")]
    [InlineData("1.16", "Directory", "Lz4", "path")]
    [InlineData("1.15", "Tar", "None", "pipe")]
    public void ReaderHandlesIntSize8(string version, string formatName, string compressionName, string access)
    {
        var archive = SpecArchives.Sample(
            SpecVersion.Parse(version), Enum.Parse<SpecFormat>(formatName), Enum.Parse<SpecCompression>(compressionName), intSize: 8);
        RoundTrip(archive, new SpecWriterOptions(), access);
    }

    [Theory]
    [InlineData("1.14", "None")]
    [InlineData("1.16", "Gzip")]
    public void ReaderHandlesPgDumpStyleOneChunkPerRow(string version, string compressionName)
    {
        var archive = SpecArchives.Sample(SpecVersion.Parse(version), SpecFormat.Custom, Enum.Parse<SpecCompression>(compressionName), extraRows: 3000);
        RoundTrip(archive, new SpecWriterOptions { UncompressedChunkPerLine = true, SetOffsets = false }, "pipe");
        RoundTrip(archive, new SpecWriterOptions { UncompressedChunkPerLine = true }, "path");
    }

    [Theory]
    [InlineData(HandBuilt.Hexdump114, "path")]
    [InlineData(HandBuilt.Hexdump114, "pipe")]
    [InlineData(HandBuilt.Blobs114Pipe, "path")]
    [InlineData(HandBuilt.Blobs114Pipe, "pipe")]
    [InlineData(HandBuilt.Table116Pipe, "path")]
    [InlineData(HandBuilt.Table116Pipe, "pipe")]
    [InlineData(HandBuilt.ZlibStored115Pipe, "path")]
    [InlineData(HandBuilt.ZlibStored115Pipe, "pipe")]
    public void ReaderReadsTheHandBuiltFiles(string name, string access)
    {
        var path = HandBuilt.Materialize(name, _dir);
        var model = HandBuilt.Model(name);
        using var pg = access == "pipe"
            ? PgArchive.Open(new TrickleStream(File.ReadAllBytes(path)), name)
            : PgArchive.Open(path);
        AssertHeader(model, pg.Header);
        Assert.Equal(model.Entries.Count, pg.Entries.Count);
        for (var i = 0; i < model.Entries.Count; i++)
        {
            AssertEntry(model, model.Entries[i], pg.Entries[i], i, blockPosition: name == HandBuilt.Hexdump114 && i == 1 ? 0x1c8 : null);
            AssertData(pg, model.Entries[i], pg.Entries[i]);
        }

        if (name == HandBuilt.Hexdump114)
        {
            Assert.Equal(DataOffsetState.NoData, pg.Entries[0].OffsetState);
            Assert.Equal(DataOffsetState.PositionSet, pg.Entries[1].OffsetState);
            Assert.Equal(0x1c8, pg.Entries[1].DataOffset);
        }
        else
        {
            Assert.All(pg.Entries, e => Assert.Equal(e.HadDumper ? DataOffsetState.PositionNotSet : DataOffsetState.NoData, e.OffsetState));
        }
    }

    // ------------------------------------------------------------------ helpers

    private void RoundTrip(SpecArchive archive, SpecWriterOptions options, string access)
    {
        var writer = new SpecArchiveWriter(options);
        var path = Path.Combine(_dir, $"a{Guid.NewGuid():N}" + (archive.Format == SpecFormat.Directory ? "" : ".dump"));
        var result = writer.Write(archive, path);

        using var pg = access == "pipe"
            ? PgArchive.Open(new TrickleStream(File.ReadAllBytes(path)), "pipe:" + path)
            : PgArchive.Open(path);

        AssertHeader(archive, pg.Header);
        Assert.Equal(access == "path", pg.IsSeekable);
        Assert.Equal(archive.Entries.Count, pg.Entries.Count);
        for (var i = 0; i < archive.Entries.Count; i++)
        {
            var expected = archive.Entries[i];
            var actual = pg.Entries[i];
            long? position = archive.Format == SpecFormat.Custom && options.SetOffsets && result.BlockPositions.TryGetValue(expected.DumpId, out var p) ? p : null;
            AssertEntry(archive, expected, actual, i, position);
            Assert.Same(actual, pg.GetEntry(expected.DumpId));
        }

        // data in TOC order (forward-only archives need that)
        for (var i = 0; i < archive.Entries.Count; i++)
        {
            AssertData(pg, archive.Entries[i], pg.Entries[i]);
        }
    }

    private static void AssertHeader(SpecArchive a, ArchiveHeader h)
    {
        Assert.Equal(new ArchiveVersion(a.Version.Major, a.Version.Minor, a.Version.Revision), h.Version);
        Assert.Equal(a.IntSize, h.IntSize);
        Assert.Equal(a.OffSize, h.OffSize);
        Assert.Equal(a.Format switch
        {
            SpecFormat.Custom => ArchiveFormat.Custom,
            SpecFormat.Directory => ArchiveFormat.Directory,
            _ => ArchiveFormat.Tar,
        }, h.Format);
        Assert.Equal(a.Format == SpecFormat.Custom ? 1 : 3, h.FormatByte);
        var expectedCompression = a.Format == SpecFormat.Tar ? SpecCompression.None : a.Compression;
        Assert.Equal((CompressionAlgorithm)(int)expectedCompression, h.Compression);
        Assert.Equal(a.Version.AtLeast(1, 15) ? null : a.EffectiveCompressionLevel, h.CompressionLevel);
        Assert.Equal(new ArchiveCreationTime(a.TmSec, a.TmMin, a.TmHour, a.TmMday, a.TmMon, a.TmYear, a.TmIsDst), h.Created);
        Assert.Equal(a.DatabaseName, h.DatabaseName);
        Assert.Equal(a.ServerVersion, h.ServerVersion);
        Assert.Equal(a.DumpVersion, h.DumpVersion);
    }

    private static void AssertEntry(SpecArchive a, SpecEntry e, TocEntry t, int index, long? blockPosition)
    {
        var where = $"entry {index} ({e})";
        Assert.True(e.DumpId == t.DumpId, where);
        Assert.Equal(index, t.Index);
        Assert.True(e.HadDumper == t.HadDumper, where);
        Assert.Equal(e.TableOid, t.TableOid);
        Assert.Equal(e.Oid, t.Oid);
        Assert.Equal(e.Tag, t.Tag);
        Assert.Equal(e.Desc, t.Desc);
        Assert.Equal((ArchiveSection)(int)e.Section, t.Section);
        Assert.Equal(e.Defn, t.Defn);
        Assert.Equal(e.DropStmt, t.DropStmt);
        Assert.Equal(e.CopyStmt, t.CopyStmt);
        Assert.Equal(e.Namespace, t.Namespace);
        Assert.Equal(e.Tablespace, t.Tablespace);
        Assert.Equal(a.Version.AtLeast(1, 14) ? e.TableAm : null, t.TableAm);
        Assert.Equal(a.Version.AtLeast(1, 16) ? e.RelKind : 0, t.RelKind);
        Assert.Equal(e.Owner, t.Owner);
        Assert.Equal(e.WithOids, t.WithOids);
        Assert.Equal(e.Dependencies, t.Dependencies);

        // NULL and "" stay distinct in the raw bytes too
        Assert.Equal(e.Defn is null, t.GetRaw(TocField.Defn) is null);
        Assert.Equal(e.DropStmt is null, t.GetRaw(TocField.DropStmt) is null);
        Assert.Equal(e.Tablespace is null, t.GetRaw(TocField.Tablespace) is null);

        switch (a.Format)
        {
            case SpecFormat.Custom:
                Assert.Null(t.FileName);
                if (blockPosition is { } pos)
                {
                    Assert.Equal(DataOffsetState.PositionSet, t.OffsetState);
                    Assert.Equal(pos, t.DataOffset);
                }
                else
                {
                    Assert.Equal(e.HadDumper ? DataOffsetState.PositionNotSet : DataOffsetState.NoData, t.OffsetState);
                }

                break;
            case SpecFormat.Directory:
                Assert.Equal(NullIfEmpty(SpecArchiveWriter.DirectoryExtraName(a, e)), t.FileName);
                break;
            default:
                Assert.Equal(NullIfEmpty(SpecArchiveWriter.TarExtraName(e)), t.FileName);
                break;
        }
    }

    private static void AssertData(PgArchive pg, SpecEntry e, TocEntry t)
    {
        if (!e.HasData)
        {
            return;
        }

        if (e.IsBlobs)
        {
            var read = new List<(uint Oid, byte[] Bytes)>();
            foreach (var lo in pg.ReadLargeObjects(t))
            {
                read.Add((lo.Oid, ReadAll(lo.Data)));
            }

            Assert.Equal(e.LargeObjects!.Select(lo => lo.Oid), read.Select(r => r.Oid));
            for (var i = 0; i < read.Count; i++)
            {
                Assert.Equal(e.LargeObjects![i].Bytes, read[i].Bytes);
            }
        }
        else
        {
            using var s = pg.OpenData(t);
            Assert.Equal(e.Data, ReadAll(s));
        }
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static byte[] ReadAll(Stream s)
    {
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>A non-seekable stream that returns short reads of varying size, like a pipe.</summary>
    private sealed class TrickleStream(byte[] bytes) : Stream
    {
        private int _pos;
        private int _turn;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var max = (++_turn % 5) switch { 0 => 1, 1 => 3, 2 => 511, 3 => 4096, _ => 65536 };
            var n = Math.Min(Math.Min(count, max), bytes.Length - _pos);
            Array.Copy(bytes, _pos, buffer, offset, n);
            _pos += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
