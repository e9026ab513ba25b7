using System.Text;
using Xunit;

namespace RestoreCluster.Archive.Tests.Writer;

/// <summary>
/// Checks the test-only <see cref="SpecArchiveWriter"/> against independent tools: the real pg_restore 15
/// (archive versions ≤ 1.14), lz4/zstd/gzip/python zlib, and tar; plus the hand-built byte files.
/// </summary>
public sealed class SpecArchiveWriterTests : IDisposable
{
    private const string PgRestore = "/usr/bin/pg_restore";
    private readonly string _dir = Directory.CreateTempSubdirectory("specwriter-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string, string, bool> PgRestoreCases()
    {
        var data = new TheoryData<string, string, string, bool>();
        foreach (var v in new[] { "1.12", "1.13", "1.14" })
        {
            foreach (var c in new[] { SpecCompression.None, SpecCompression.Gzip })
            {
                data.Add(v, nameof(SpecFormat.Custom), c.ToString(), true);
                data.Add(v, nameof(SpecFormat.Custom), c.ToString(), false);
                data.Add(v, nameof(SpecFormat.Directory), c.ToString(), true);
            }

            data.Add(v, nameof(SpecFormat.Tar), nameof(SpecCompression.None), true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PgRestoreCases))]
    public void RealPgRestoreListsAndRestoresWriterArchives(string version, string formatName, string compressionName, bool setOffsets)
    {
        var format = Enum.Parse<SpecFormat>(formatName);
        var compression = Enum.Parse<SpecCompression>(compressionName);
        var archive = SpecArchives.Sample(SpecVersion.Parse(version), format, compression);
        var path = Path.Combine(_dir, format == SpecFormat.Directory ? "dir" : "archive.dump");
        new SpecArchiveWriter(new SpecWriterOptions { SetOffsets = setOffsets }).Write(archive, path);

        var list = PgRestoreOk("-l", path);
        var v = SpecVersion.Parse(version);
        Assert.Contains($";     Dump Version: 1.{v.Minor}-0\n", list);
        Assert.Contains($";     Format: {format.ToString().ToUpperInvariant()}\n", list);
        Assert.Contains($";     Compression: {archive.EffectiveCompressionLevel}\n", list);
        Assert.Contains($";     TOC Entries: {archive.Entries.Count}\n", list);
        Assert.Contains(";     dbname: sampledb\n", list);
        Assert.Contains("3350; 0 16387 TABLE DATA app items postgres\n", list);
        Assert.Contains("216; 1259 16387 TABLE app items postgres\n", list);
        Assert.Contains("3354; 0 0 BLOBS - BLOBS \n", list);
        Assert.Contains("3340; 2613 16402 BLOB - 16402 postgres\n", list);
        Assert.Contains("3342; 2613 4294967040 BLOB - 4294967040 postgres\n", list);

        var verbose = PgRestoreOk("-l", "-v", path);
        Assert.Contains(";\tdepends on: 216\n", verbose);

        AssertScript(PgRestoreOk("-f", "-", path), SpecArchives.CopyData(50));

        if (format != SpecFormat.Directory)
        {
            // also from a pipe (pg_restore reads the blocks forward)
            var fromStdin = ExternalTools.RunRaw(PgRestore, ["-f", "-"], File.ReadAllBytes(path));
            Assert.True(fromStdin.ExitCode == 0, fromStdin.StdErr);
            AssertScript(fromStdin.StdOutText, SpecArchives.CopyData(50));
        }
    }

    [Fact]
    public void RealPgRestoreAcceptsIntSize8()
    {
        var archive = SpecArchives.Sample(SpecVersion.V1_14, SpecFormat.Custom, SpecCompression.Gzip, intSize: 8);
        var path = Path.Combine(_dir, "int8.dump");
        new SpecArchiveWriter().Write(archive, path);
        Assert.Equal(8, File.ReadAllBytes(path)[8]);
        var r = ExternalTools.RunRaw(PgRestore, ["-l", path], []);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains(";     Integer: 8 bytes\n", r.StdOutText);
        // pg_restore (sizeof(int) = 4) says: "archive was made on a machine with larger integers, some operations might fail"
        Assert.Contains("larger integers", r.StdErr);
        r = ExternalTools.RunRaw(PgRestore, ["-f", "-", path], []);
        Assert.True(r.ExitCode == 0, r.StdErr);
        AssertScript(r.StdOutText, SpecArchives.CopyData(50));
    }

    [Theory]
    [InlineData("1.15")]
    [InlineData("1.16")]
    public void RealPgRestore15RejectsNewerVersions(string version)
    {
        var path = Path.Combine(_dir, "new.dump");
        new SpecArchiveWriter().Write(SpecArchives.Sample(SpecVersion.Parse(version), SpecFormat.Custom, SpecCompression.Gzip), path);
        var r = ExternalTools.RunRaw(PgRestore, ["-l", path], []);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"unsupported version ({version}) in file header", r.StdErr);
    }

    [Theory]
    [InlineData("1.14", "Custom", "None", "50 47 44 4d 50 01 0e 00 04 08 01 00 00 00 00 00")]
    [InlineData("1.14", "Custom", "Gzip", "50 47 44 4d 50 01 0e 00 04 08 01 01 01 00 00 00")]
    [InlineData("1.13", "Directory", "Gzip", "50 47 44 4d 50 01 0d 00 04 08 03 01 01 00 00 00")]
    [InlineData("1.14", "Tar", "None", "50 47 44 4d 50 01 0e 00 04 08 03 00 00 00 00 00")]
    [InlineData("1.15", "Custom", "Gzip", "50 47 44 4d 50 01 0f 00 04 08 01 01 00 19 00 00")]
    [InlineData("1.15", "Directory", "Lz4", "50 47 44 4d 50 01 0f 00 04 08 03 02 00 19 00 00")]
    [InlineData("1.16", "Custom", "Zstd", "50 47 44 4d 50 01 10 00 04 08 01 03 00 19 00 00")]
    [InlineData("1.16", "Custom", "None", "50 47 44 4d 50 01 10 00 04 08 01 00 00 19 00 00")]
    [InlineData("1.16", "Tar", "None", "50 47 44 4d 50 01 10 00 04 08 03 00 00 19 00 00")]
    public void HeaderBytesFollowTheFactSheet(string version, string formatName, string compressionName, string expectedHex)
    {
        var format = Enum.Parse<SpecFormat>(formatName);
        var compression = Enum.Parse<SpecCompression>(compressionName);
        var archive = SpecArchives.Sample(SpecVersion.Parse(version), format, compression);
        var path = Path.Combine(_dir, format == SpecFormat.Directory ? "dir" : "a.dump");
        new SpecArchiveWriter().Write(archive, path);
        var bytes = format switch
        {
            SpecFormat.Directory => File.ReadAllBytes(Path.Combine(path, "toc.dat")),
            SpecFormat.Tar => File.ReadAllBytes(path).AsSpan(512).ToArray(), // toc.dat is the first member
            _ => File.ReadAllBytes(path),
        };
        Assert.Equal(expectedHex, Hex(bytes.AsSpan(0, 16)));
    }

    public static TheoryData<string, string, int> PayloadCases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var v in new[] { "1.15", "1.16" })
        {
            foreach (var c in new[] { SpecCompression.Lz4, SpecCompression.Zstd, SpecCompression.Gzip, SpecCompression.None })
            {
                data.Add(v, c.ToString(), 4096);
                data.Add(v, c.ToString(), 7);
            }
        }

        data.Add("1.14", nameof(SpecCompression.Gzip), 7);
        return data;
    }

    [Theory]
    [MemberData(nameof(PayloadCases))]
    public void CustomPayloadsDecompressWithTheCommandLineTools(string version, string compressionName, int chunkSize)
    {
        var compression = Enum.Parse<SpecCompression>(compressionName);
        var archive = SpecArchives.Sample(SpecVersion.Parse(version), SpecFormat.Custom, compression, extraRows: 2000);
        using var ms = new MemoryStream();
        var result = new SpecArchiveWriter(new SpecWriterOptions { ChunkSize = chunkSize }).WriteCustom(archive, ms);
        var bytes = ms.ToArray();

        foreach (var e in archive.Entries.Where(e => e.HasData))
        {
            var block = new BlockReader(bytes, (int)result.BlockPositions[e.DumpId], archive.IntSize);
            Assert.Equal(e.IsBlobs ? 3 : 1, block.ReadByte());
            Assert.Equal(e.DumpId, block.ReadInt());
            var streams = new List<(uint Oid, byte[] Raw)>();
            if (e.IsBlobs)
            {
                int oid;
                while ((oid = block.ReadInt()) != 0)
                {
                    streams.Add((unchecked((uint)oid), block.ReadChunks(chunkSize)));
                }

                Assert.Equal(e.LargeObjects!.Select(lo => lo.Oid), streams.Select(s => s.Oid));
                for (var i = 0; i < streams.Count; i++)
                {
                    AssertPayload(compression, e.LargeObjects![i].Bytes, streams[i].Raw, gzipFile: false);
                }
            }
            else
            {
                AssertPayload(compression, e.Data!, block.ReadChunks(chunkSize), gzipFile: false);
            }
        }
    }

    [Theory]
    [InlineData("1.15", "Lz4")]
    [InlineData("1.15", "Zstd")]
    [InlineData("1.15", "Gzip")]
    [InlineData("1.16", "Lz4")]
    [InlineData("1.16", "Zstd")]
    [InlineData("1.16", "Gzip")]
    [InlineData("1.16", "None")]
    public void DirectoryFilesDecompressWithTheCommandLineTools(string version, string compressionName)
    {
        var compression = Enum.Parse<SpecCompression>(compressionName);
        var v = SpecVersion.Parse(version);
        var archive = SpecArchives.Sample(v, SpecFormat.Directory, compression, extraRows: 500);
        var dir = Path.Combine(_dir, "d");
        new SpecArchiveWriter().Write(archive, dir);
        var suffix = SpecArchiveWriter.Suffix(compression);

        var expectedFiles = new List<string> { "toc.dat", "3350.dat" + suffix };
        AssertPayload(compression, SpecArchives.CopyData(500), File.ReadAllBytes(Path.Combine(dir, "3350.dat" + suffix)), gzipFile: true);
        foreach (var blobs in archive.Entries.Where(e => e.IsBlobs))
        {
            var tocName = v.AtLeast(1, 16) ? $"blobs_{blobs.DumpId}.toc" : "blobs.toc";
            expectedFiles.Add(tocName);
            var expectedIndex = string.Concat(blobs.LargeObjects!.Select(lo => $"{lo.Oid} blob_{lo.Oid}.dat\n"));
            Assert.Equal(expectedIndex, File.ReadAllText(Path.Combine(dir, tocName)));
            foreach (var lo in blobs.LargeObjects!)
            {
                var name = $"blob_{lo.Oid}.dat{suffix}";
                expectedFiles.Add(name);
                AssertPayload(compression, lo.Bytes, File.ReadAllBytes(Path.Combine(dir, name)), gzipFile: true);
            }
        }

        Assert.Equal(expectedFiles.Order(StringComparer.Ordinal), Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        if (v.AtLeast(1, 16))
        {
            Assert.Contains("blobs_3354.toc", expectedFiles);
            Assert.Contains("blobs_3355.toc", expectedFiles);
        }
    }

    [Theory]
    [InlineData("1.14")]
    [InlineData("1.16")]
    public void TarOutputIsReadByTar(string version)
    {
        var v = SpecVersion.Parse(version);
        var archive = SpecArchives.Sample(v, SpecFormat.Tar, SpecCompression.None);
        var path = Path.Combine(_dir, "a.tar");
        new SpecArchiveWriter().Write(archive, path);

        string[] expected = v.AtLeast(1, 16)
            ? ["toc.dat", "3350.dat", "blob_16402.dat", "blob_16403.dat", "blobs_3354.toc", "blob_4294967040.dat", "blobs_3355.toc", "restore.sql"]
            : ["toc.dat", "3350.dat", "blob_16402.dat", "blob_16403.dat", "blob_4294967040.dat", "blobs.toc", "restore.sql"];
        var listing = Encoding.ASCII.GetString(ExternalTools.Run("/usr/bin/tar", ["-tf", path], []));
        Assert.Equal(expected, listing.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var verbose = Encoding.ASCII.GetString(ExternalTools.Run("/usr/bin/tar", ["-tvf", path], []));
        Assert.All(verbose.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.StartsWith("-rw------- postgres/postgres", l));

        Assert.Equal(SpecArchives.CopyData(50), ExternalTools.Run("/usr/bin/tar", ["-xOf", path, "3350.dat"], []));
        Assert.Equal(SpecArchives.HighBytes, ExternalTools.Run("/usr/bin/tar", ["-xOf", path, "blob_4294967040.dat"], []));
        Assert.Empty(ExternalTools.Run("/usr/bin/tar", ["-xOf", path, "blob_16403.dat"], []));

        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0, bytes.Length % 512);
        Assert.All(bytes[^1024..], b => Assert.Equal(0, b));
        Assert.Equal("ustar\0" + "00", Encoding.ASCII.GetString(bytes, 257, 8));
    }

    [Fact]
    public void PipeStyleOutputToANonSeekableStreamMatchesTheBufferedBytes()
    {
        var archive = SpecArchives.Sample(SpecVersion.V1_16, SpecFormat.Custom, SpecCompression.Zstd);
        var writer = new SpecArchiveWriter(new SpecWriterOptions { SetOffsets = false });
        using var ms = new MemoryStream();
        using (var pipe = new WriteOnlyStream(ms))
        {
            writer.WriteCustom(archive, pipe);
        }

        Assert.Equal(writer.ToBytes(archive), ms.ToArray());
        Assert.Throws<ArgumentException>(() => new SpecArchiveWriter().WriteCustom(archive, new WriteOnlyStream(new MemoryStream())));
    }

    [Fact]
    public void OffsetsSetAndNotSetDifferOnlyInTheOffsetFields()
    {
        var archive = SpecArchives.Sample(SpecVersion.V1_14, SpecFormat.Custom, SpecCompression.Gzip);
        using var ms = new MemoryStream();
        var result = new SpecArchiveWriter().WriteCustom(archive, ms);
        var set = ms.ToArray();
        var notSet = new SpecArchiveWriter(new SpecWriterOptions { SetOffsets = false }).ToBytes(archive);
        Assert.Equal(set.Length, notSet.Length);
        var diffs = Enumerable.Range(0, set.Length).Where(i => set[i] != notSet[i]).ToList();
        Assert.All(diffs, i => Assert.InRange(i, result.TocStart, result.TocEnd - 1));
        foreach (var (id, pos) in result.BlockPositions)
        {
            // the flag-2 offset names the block type byte, followed by the dumpId
            var expected = new byte[9];
            expected[0] = 2;
            BitConverter.GetBytes((ulong)pos).CopyTo(expected, 1);
            Assert.True(IndexOf(set, expected) > 0, $"offset for {id}");
            Assert.Equal(IndexOf(set, expected), IndexOf(notSet, [1, 0, 0, 0, 0, 0, 0, 0, 0], IndexOf(set, expected)));
            Assert.Equal(id, new BlockReader(set, (int)pos + 1, 4).ReadInt());
        }
    }

    [Theory]
    [InlineData(HandBuilt.Hexdump114, true)]
    [InlineData(HandBuilt.Blobs114Pipe, false)]
    [InlineData(HandBuilt.Table116Pipe, false)]
    public void WriterReproducesTheHandBuiltFilesByteForByte(string name, bool setOffsets)
    {
        var writer = new SpecArchiveWriter(new SpecWriterOptions { SetOffsets = setOffsets, UncompressedChunkPerLine = true });
        Assert.Equal(Hex(HandBuilt.Load(name)), Hex(writer.ToBytes(HandBuilt.Model(name))));
    }

    [Fact]
    public void HandBuiltZlibStoredStreamIsAValidZlibStream()
    {
        var bytes = HandBuilt.Load(HandBuilt.ZlibStored115Pipe);
        var block = new BlockReader(bytes, 0xfa, 4);
        Assert.Equal(1, block.ReadByte());
        Assert.Equal(3350, block.ReadInt());
        var zlib = block.ReadChunks(7);
        Assert.Equal("1\talpha\tplain\n\\.\n\n\n"u8.ToArray(), ExternalTools.Decompress(SpecCompression.Gzip, zlib, gzipFile: false));
        Assert.Equal(bytes.Length, block.Position);
    }

    [Fact]
    public void RealPgRestoreAcceptsTheHandBuilt114Files()
    {
        var hexdump = HandBuilt.Materialize(HandBuilt.Hexdump114, _dir);
        var list = PgRestoreOk("-l", hexdump);
        Assert.Contains(";     dbname: fmtdb\n;     TOC Entries: 2\n;     Compression: 0\n;     Dump Version: 1.14-0\n", list);
        Assert.Contains("3350; 0 16387 TABLE DATA public t1 postgres\n", list);
        Assert.Contains("COPY public.t1 (id, name, note) FROM stdin;\n1\talpha\tplain\n2\tbe\\tta\tline1\\nline2\n\\.\n", PgRestoreOk("-f", "-", hexdump));

        var blobs = HandBuilt.Materialize(HandBuilt.Blobs114Pipe, _dir);
        Assert.Contains("3354; 0 0 BLOBS - BLOBS \n", PgRestoreOk("-l", blobs));
        var r = ExternalTools.RunRaw(PgRestore, ["-f", "-"], File.ReadAllBytes(blobs));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("SELECT pg_catalog.lo_open('16402', 131072);", r.StdOutText);
        Assert.Contains("68656c6c6f206c61726765206f626a656374');", r.StdOutText);

        var v116 = ExternalTools.RunRaw(PgRestore, ["-l", HandBuilt.Materialize(HandBuilt.Table116Pipe, _dir)], []);
        Assert.Contains("unsupported version (1.16) in file header", v116.StdErr);
    }

    [Fact]
    public void WriterRejectsCombinationsTheFormatDoesNotAllow()
    {
        var w = new SpecArchiveWriter();
        Assert.Throws<ArgumentException>(() => w.ToBytes(SpecArchives.Sample(SpecVersion.V1_14, SpecFormat.Custom, SpecCompression.Lz4)));
        Assert.Throws<ArgumentException>(() => w.ToBytes(SpecArchives.Sample(SpecVersion.V1_16, SpecFormat.Tar, SpecCompression.Gzip)));
    }

    // ------------------------------------------------------------------ helpers

    private static string PgRestoreOk(params string[] args)
    {
        var r = ExternalTools.RunRaw(PgRestore, args, []);
        Assert.True(r.ExitCode == 0, $"pg_restore {string.Join(' ', args)}: {r.StdErr}");
        Assert.DoesNotContain("warning", r.StdErr, StringComparison.OrdinalIgnoreCase);
        return r.StdOutText;
    }

    private static void AssertScript(string script, byte[] copyData)
    {
        var copy = "COPY app.items (id, name, note) FROM stdin;\n" + Encoding.UTF8.GetString(copyData);
        Assert.Contains(copy.TrimEnd('\n') + "\n", script);
        Assert.Contains("3\tgrüße 日本語\t\\N\n", script);
        Assert.Contains("SELECT pg_catalog.lo_open('16402', 131072);", script);
        Assert.Contains("68656c6c6f206c61726765206f626a656374');", script);
        Assert.Contains("SELECT pg_catalog.lo_open('4294967040', 131072);", script);
        Assert.Contains("SELECT pg_catalog.lo_open('16403', 131072);", script);
        Assert.Contains("SELECT pg_catalog.setval('app.items_id_seq', 4, true);", script);
        Assert.Contains("CREATE INDEX items_name_idx ON app.items USING btree (name);", script);
    }

    private static void AssertPayload(SpecCompression compression, byte[] raw, byte[] stored, bool gzipFile)
    {
        if (compression == SpecCompression.None)
        {
            Assert.Equal(raw, stored);
            return;
        }

        byte[] magic = compression switch
        {
            SpecCompression.Gzip when gzipFile => [0x1f, 0x8b],
            SpecCompression.Gzip => [0x78, 0x9c],
            SpecCompression.Lz4 => [0x04, 0x22, 0x4d, 0x18],
            _ => [0x28, 0xb5, 0x2f, 0xfd],
        };
        Assert.Equal(Hex(magic), Hex(stored.AsSpan(0, magic.Length)));
        Assert.Equal(raw, ExternalTools.Decompress(compression, stored, gzipFile));
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => string.Join(' ', bytes.ToArray().Select(b => b.ToString("x2")));

    private static int IndexOf(byte[] haystack, byte[] needle, int start = 0)
    {
        for (var i = start; i <= haystack.Length - needle.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A minimal reader of custom-format data blocks (§5), independent of the writer.</summary>
    private sealed class BlockReader(byte[] bytes, int position, int intSize)
    {
        public int Position { get; private set; } = position;

        public int ReadByte() => bytes[Position++];

        public int ReadInt()
        {
            var negative = bytes[Position++] != 0;
            long v = 0;
            for (var i = 0; i < intSize; i++)
            {
                v |= (long)bytes[Position++] << (8 * i);
            }

            return (int)(negative ? -v : v);
        }

        /// <summary>Concatenates chunks up to the int 0 terminator; each must be 1..maxChunk bytes.</summary>
        public byte[] ReadChunks(int maxChunk)
        {
            var result = new List<byte>();
            int len;
            while ((len = ReadInt()) != 0)
            {
                Assert.InRange(len, 1, maxChunk);
                result.AddRange(bytes.AsSpan(Position, len).ToArray());
                Position += len;
            }

            return [.. result];
        }
    }

    private sealed class WriteOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
