using System.Globalization;
using System.Text;

namespace RestoreCluster.Archive.Tests.Writer;

/// <summary>Options for <see cref="SpecArchiveWriter"/>.</summary>
internal sealed record SpecWriterOptions
{
    /// <summary>Size of the custom-format chunks the (compressed or raw) stream is cut into.</summary>
    public int ChunkSize { get; init; } = 4096;

    /// <summary>
    /// Custom format: true = seek back and rewrite the TOC with flag 2 and absolute block positions
    /// (pg_dump writing to a file); false = leave flag 1 / 3 as when pg_dump writes to a pipe.
    /// </summary>
    public bool SetOffsets { get; init; } = true;

    /// <summary>Custom format without compression: one chunk per line, as pg_dump does for COPY rows.</summary>
    public bool UncompressedChunkPerLine { get; init; }
}

/// <summary>What the writer did: where each custom-format data block starts, and the tar member order.</summary>
internal sealed class SpecWriteResult
{
    public Dictionary<int, long> BlockPositions { get; } = [];
    public long TocStart { get; set; }
    public long TocEnd { get; set; }
    public List<string> Files { get; } = [];
}

/// <summary>
/// Test-only writer of pg_dump archives (custom, directory, tar) following
/// the archive layout of PostgreSQL's pg_backup_archiver.c (WriteHead/WriteToc) and pg_backup_custom.c for
/// versions 1.12–1.16 (docs/archive-versions.md). Compressed payloads come from the
/// command-line tools via <see cref="ExternalTools"/>.
/// </summary>
internal sealed class SpecArchiveWriter(SpecWriterOptions? options = null)
{
    private const byte FormatByteCustom = 1;
    private const byte FormatByteTar = 3; // also written by pg_dump into a directory archive's toc.dat
    private const byte BlkData = 1;
    private const byte BlkBlobs = 3;

    public SpecWriterOptions Options { get; } = options ?? new SpecWriterOptions();

    /// <summary>Writes the archive to <paramref name="path"/> (a file, or a directory for the directory format).</summary>
    public SpecWriteResult Write(SpecArchive archive, string path)
    {
        if (archive.Format == SpecFormat.Directory)
        {
            return WriteDirectory(archive, path);
        }

        using var fs = new FileStream(path, FileMode.Create, FileAccess.ReadWrite);
        return archive.Format == SpecFormat.Custom ? WriteCustom(archive, fs) : WriteTar(archive, fs);
    }

    /// <summary>Writes a custom or tar archive into a byte array.</summary>
    public byte[] ToBytes(SpecArchive archive)
    {
        using var ms = new MemoryStream();
        if (archive.Format == SpecFormat.Custom)
        {
            WriteCustom(archive, ms);
        }
        else if (archive.Format == SpecFormat.Tar)
        {
            WriteTar(archive, ms);
        }
        else
        {
            throw new ArgumentException("the directory format needs a directory path", nameof(archive));
        }

        return ms.ToArray();
    }

    // ---------------------------------------------------------------- custom

    public SpecWriteResult WriteCustom(SpecArchive archive, Stream output)
    {
        Validate(archive, SpecFormat.Custom);
        if (Options.SetOffsets && !output.CanSeek)
        {
            throw new ArgumentException("SetOffsets needs a seekable output", nameof(output));
        }

        var result = new SpecWriteResult();
        var counting = new CountingStream(output);
        var pw = new SpecPrimitiveWriter(counting, archive.IntSize, archive.OffSize);

        WriteHeader(pw, archive, FormatByteCustom);
        result.TocStart = counting.Position;
        WriteToc(pw, archive, e => pw.WriteOffset(OffsetFlagWithoutPosition(e), 0));
        result.TocEnd = counting.Position;

        foreach (var e in archive.Entries.Where(e => e.HasData))
        {
            result.BlockPositions[e.DumpId] = counting.Position;
            if (e.IsBlobs)
            {
                pw.WriteByte(BlkBlobs);
                pw.WriteInt(e.DumpId);
                foreach (var lo in e.LargeObjects!)
                {
                    pw.WriteInt(unchecked((int)lo.Oid)); // OIDs ≥ 2^31 become negative ints
                    WriteChunks(pw, archive.Compression, lo.Bytes);
                }

                pw.WriteInt(0);
            }
            else
            {
                pw.WriteByte(BlkData);
                pw.WriteInt(e.DumpId);
                WriteChunks(pw, archive.Compression, e.Data!);
            }
        }

        if (Options.SetOffsets)
        {
            var end = output.Position;
            output.Position = result.TocStart;
            var rewrite = new SpecPrimitiveWriter(output, archive.IntSize, archive.OffSize);
            WriteToc(rewrite, archive, e =>
            {
                if (result.BlockPositions.TryGetValue(e.DumpId, out var pos))
                {
                    rewrite.WriteOffset(SpecPrimitiveWriter.OffsetPosSet, pos);
                }
                else
                {
                    rewrite.WriteOffset(OffsetFlagWithoutPosition(e), 0);
                }
            });
            if (output.Position != result.TocEnd)
            {
                throw new InvalidOperationException("rewritten TOC changed size");
            }

            output.Position = end;
        }

        output.Flush();
        return result;
    }

    private static byte OffsetFlagWithoutPosition(SpecEntry e) =>
        e.HadDumper ? SpecPrimitiveWriter.OffsetPosNotSet : SpecPrimitiveWriter.OffsetNoData;

    /// <summary>One stream (compressed as a whole) cut into chunks, then the int 0 terminator.</summary>
    private void WriteChunks(SpecPrimitiveWriter pw, SpecCompression compression, byte[] raw)
    {
        var payload = ExternalTools.Compress(compression, raw, gzipFile: false);
        foreach (var chunk in SplitChunks(payload, compression == SpecCompression.None && Options.UncompressedChunkPerLine))
        {
            pw.WriteInt(chunk.Length);
            pw.WriteBytes(chunk.Span);
        }

        pw.WriteInt(0);
    }

    private IEnumerable<ReadOnlyMemory<byte>> SplitChunks(byte[] payload, bool perLine)
    {
        var start = 0;
        while (start < payload.Length)
        {
            int len;
            if (perLine)
            {
                // one chunk per COPY row; pg_dump writes the "\\.\n\n\n" tail with one call
                var nl = Array.IndexOf(payload, (byte)'\n', start);
                var isTail = payload.AsSpan(start).StartsWith("\\.\n"u8);
                len = nl < 0 || isTail ? payload.Length - start : nl - start + 1;
            }
            else
            {
                len = Math.Min(Options.ChunkSize, payload.Length - start);
            }

            yield return payload.AsMemory(start, len);
            start += len;
        }
    }

    // ---------------------------------------------------------------- directory

    public SpecWriteResult WriteDirectory(SpecArchive archive, string directory)
    {
        Validate(archive, SpecFormat.Directory);
        Directory.CreateDirectory(directory);
        var result = new SpecWriteResult();

        using (var fs = new FileStream(Path.Combine(directory, "toc.dat"), FileMode.Create, FileAccess.Write))
        {
            var pw = new SpecPrimitiveWriter(fs, archive.IntSize, archive.OffSize);
            WriteHeader(pw, archive, FormatByteTar);
            WriteToc(pw, archive, e => pw.WriteStr(DirectoryExtraName(archive, e)));
        }

        result.Files.Add("toc.dat");
        var suffix = Suffix(archive.Compression);
        foreach (var e in archive.Entries.Where(e => e.HasData))
        {
            if (e.IsBlobs)
            {
                var index = new StringBuilder();
                foreach (var lo in e.LargeObjects!)
                {
                    var name = BlobFileName(lo.Oid);
                    index.Append(CultureInfo.InvariantCulture, $"{lo.Oid} {name}\n");
                    File.WriteAllBytes(Path.Combine(directory, name + suffix), ExternalTools.Compress(archive.Compression, lo.Bytes, gzipFile: true));
                    result.Files.Add(name + suffix);
                }

                var tocName = BlobsTocName(archive, e);
                File.WriteAllBytes(Path.Combine(directory, tocName), Encoding.ASCII.GetBytes(index.ToString()));
                result.Files.Add(tocName);
            }
            else
            {
                var name = DataFileName(e) + suffix;
                File.WriteAllBytes(Path.Combine(directory, name), ExternalTools.Compress(archive.Compression, e.Data!, gzipFile: true));
                result.Files.Add(name);
            }
        }

        return result;
    }

    public static string Suffix(SpecCompression c) => c switch
    {
        SpecCompression.None => "",
        SpecCompression.Gzip => ".gz",
        SpecCompression.Lz4 => ".lz4",
        SpecCompression.Zstd => ".zst",
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    public static string DataFileName(SpecEntry e) => $"{e.DumpId}.dat";

    public static string BlobFileName(uint oid) => $"blob_{oid}.dat";

    /// <summary>blobs.toc up to 1.15, blobs_&lt;dumpId&gt;.toc from 1.16.</summary>
    public static string BlobsTocName(SpecArchive archive, SpecEntry e) =>
        archive.Version.AtLeast(1, 16) ? $"blobs_{e.DumpId}.toc" : "blobs.toc";

    /// <summary>The directory format's TOC extra string (file name without compression suffix, "" if no data).</summary>
    public static string DirectoryExtraName(SpecArchive archive, SpecEntry e) =>
        !e.HadDumper ? "" : e.IsBlobs ? BlobsTocName(archive, e) : DataFileName(e);

    /// <summary>The tar format's TOC extra string: &lt;dumpId&gt;.dat for every entry with hadDumper, BLOBS included.</summary>
    public static string TarExtraName(SpecEntry e) => e.HadDumper ? DataFileName(e) : "";

    // ---------------------------------------------------------------- tar

    public SpecWriteResult WriteTar(SpecArchive archive, Stream output)
    {
        Validate(archive, SpecFormat.Tar);
        var result = new SpecWriteResult();
        var tar = new UstarWriter(output, UnixTime(archive));

        using (var toc = new MemoryStream())
        {
            var pw = new SpecPrimitiveWriter(toc, archive.IntSize, archive.OffSize);
            WriteHeader(pw, archive, FormatByteTar);
            WriteToc(pw, archive, e => pw.WriteStr(TarExtraName(e)));
            tar.AddMember("toc.dat", toc.ToArray());
        }

        // Data in TOC order; a BLOBS entry's data is its blob members followed by its index.
        foreach (var e in archive.Entries.Where(e => e.HasData))
        {
            if (e.IsBlobs)
            {
                var index = new StringBuilder();
                foreach (var lo in e.LargeObjects!)
                {
                    var name = BlobFileName(lo.Oid);
                    index.Append(CultureInfo.InvariantCulture, $"{lo.Oid} {name}\n");
                    tar.AddMember(name, lo.Bytes);
                }

                tar.AddMember(BlobsTocName(archive, e), Encoding.ASCII.GetBytes(index.ToString()));
            }
            else
            {
                tar.AddMember(DataFileName(e), e.Data!);
            }
        }

        tar.AddMember("restore.sql", Encoding.UTF8.GetBytes(RestoreSql(archive)));
        tar.Finish();
        output.Flush();
        result.Files.AddRange(tar.MemberNames);
        return result;
    }

    private static long UnixTime(SpecArchive a)
    {
        try
        {
            var dt = new DateTime(1900 + a.TmYear, a.TmMon + 1, a.TmMday, a.TmHour, a.TmMin, a.TmSec, DateTimeKind.Utc);
            return new DateTimeOffset(dt).ToUnixTimeSeconds();
        }
        catch (ArgumentOutOfRangeException)
        {
            return 0;
        }
    }

    /// <summary>The human-only restore.sql member (pg_restore never reads it).</summary>
    private static string RestoreSql(SpecArchive archive)
    {
        var sb = new StringBuilder();
        sb.Append("--\n-- NOTE:\n--\n-- File paths need to be edited. Search for $$PATH$$ and\n")
          .Append("-- replace it with the path to the directory containing\n-- the extracted data files.\n--\n\n");
        foreach (var e in archive.Entries)
        {
            if (e.HasData && e.IsBlobs)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\i $$PATH$$/{e.DumpId}.dat\n\n");
            }
            else if (e.HasData && !string.IsNullOrEmpty(e.CopyStmt))
            {
                sb.Append(e.CopyStmt).Append("\\.\n");
                var fromFile = e.CopyStmt.Replace("FROM stdin;", $"FROM '$$PATH$$/{e.DumpId}.dat';", StringComparison.Ordinal);
                sb.Append(fromFile).Append('\n');
            }
            else if (!string.IsNullOrEmpty(e.Defn))
            {
                sb.Append(e.Defn).Append('\n');
            }
        }

        return sb.ToString();
    }

    // ---------------------------------------------------------------- header and TOC

    private static void Validate(SpecArchive a, SpecFormat expected)
    {
        if (a.Format != expected)
        {
            throw new ArgumentException($"archive format is {a.Format}, not {expected}");
        }

        if (!a.Version.AtLeast(1, 10) || a.Version.Major != 1)
        {
            throw new ArgumentException($"the spec writer supports archive versions 1.10 and later, not {a.Version}");
        }

        if (a.Format == SpecFormat.Tar && a.Compression != SpecCompression.None)
        {
            throw new ArgumentException("the tar format is never compressed");
        }

        if (a.Compression is SpecCompression.Lz4 or SpecCompression.Zstd && !a.Version.AtLeast(1, 15))
        {
            throw new ArgumentException($"{a.Compression} needs archive version 1.15 or later");
        }

        foreach (var e in a.Entries)
        {
            if (!e.HadDumper && (e.Data is not null || e.LargeObjects is not null))
            {
                throw new ArgumentException($"entry {e} has data but hadDumper is false");
            }

            if (e.Data is not null && e.LargeObjects is not null)
            {
                throw new ArgumentException($"entry {e} has both data and large objects");
            }
        }
    }

    private static void WriteHeader(SpecPrimitiveWriter pw, SpecArchive a, byte formatByte)
    {
        pw.WriteBytes("PGDMP"u8);
        pw.WriteByte(a.Version.Major);
        pw.WriteByte(a.Version.Minor);
        pw.WriteByte(a.Version.Revision);
        pw.WriteByte((byte)a.IntSize);
        pw.WriteByte((byte)a.OffSize);
        pw.WriteByte(formatByte);
        if (a.Version.AtLeast(1, 15))
        {
            pw.WriteByte(a.Format == SpecFormat.Tar ? (byte)0 : (byte)a.Compression);
        }
        else
        {
            pw.WriteInt(a.EffectiveCompressionLevel);
        }

        pw.WriteInt(a.TmSec);
        pw.WriteInt(a.TmMin);
        pw.WriteInt(a.TmHour);
        pw.WriteInt(a.TmMday);
        pw.WriteInt(a.TmMon);
        pw.WriteInt(a.TmYear);
        pw.WriteInt(a.TmIsDst);
        pw.WriteStr(a.DatabaseName);
        pw.WriteStr(a.ServerVersion);
        pw.WriteStr(a.DumpVersion);
    }

    private static void WriteToc(SpecPrimitiveWriter pw, SpecArchive a, Action<SpecEntry> writeExtra)
    {
        var v = a.Version;
        pw.WriteInt(a.Entries.Count);
        foreach (var e in a.Entries)
        {
            pw.WriteInt(e.DumpId);
            pw.WriteInt(e.HadDumper ? 1 : 0);
            pw.WriteStr(e.TableOid); // ≥ 1.8
            pw.WriteStr(e.Oid);
            pw.WriteStr(e.Tag);
            pw.WriteStr(e.Desc);
            pw.WriteInt((int)e.Section); // ≥ 1.11
            pw.WriteStr(e.Defn);
            pw.WriteStr(e.DropStmt);
            pw.WriteStr(e.CopyStmt); // ≥ 1.3
            pw.WriteStr(e.Namespace); // ≥ 1.6
            pw.WriteStr(e.Tablespace); // ≥ 1.10
            if (v.AtLeast(1, 14))
            {
                pw.WriteStr(e.TableAm);
            }

            if (v.AtLeast(1, 16))
            {
                pw.WriteInt(e.RelKind);
            }

            pw.WriteStr(e.Owner);
            pw.WriteStr(e.WithOids); // ≥ 1.9
            foreach (var d in e.Dependencies) // ≥ 1.5
            {
                pw.WriteStr(d.ToString(CultureInfo.InvariantCulture));
            }

            pw.WriteStr(null);
            writeExtra(e);
        }
    }

    /// <summary>Forwards writes and counts bytes, so block positions are known on non-seekable outputs.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private readonly long _start = inner.CanSeek ? inner.Position : 0;
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _start + _written;
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            _written += count;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            _written += buffer.Length;
        }

        public override void WriteByte(byte value)
        {
            inner.WriteByte(value);
            _written++;
        }
    }
}
