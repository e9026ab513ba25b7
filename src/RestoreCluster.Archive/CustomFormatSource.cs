namespace RestoreCluster.Archive;

/// <summary>
/// Data blocks of a custom archive (pg_backup_custom.c). Layout after the TOC:
/// <code>
/// byte blockType (1 BLK_DATA, 3 BLK_BLOBS), int dumpId,
///   BLK_DATA : { int len, len bytes }* int 0
///   BLK_BLOBS: { int oid, { int len, len bytes }* int 0 }* int 0
/// </code>
/// A seekable file is read at the stored offsets, or at positions found by one forward scan when pg_dump
/// wrote to a pipe. A pipe is read forward once; blocks passed on the way are spooled to a temporary file.
/// </summary>
internal sealed class CustomFormatSource : IDataSource
{
    private const byte BlockData = 1;
    private const byte BlockBlobs = 3;

    private readonly string? _path;
    private readonly ArchiveInput? _pipe;
    private readonly ArchiveHeader _header;
    private readonly long _dataStart;
    private readonly object _lock = new();
    private Dictionary<int, long>? _scanned;
    private readonly Dictionary<int, (long Offset, long Length)> _spooled = [];
    private readonly Spool _spool = new();
    private bool _pipeEnded;
    private bool _pipeBusy;

    /// <summary>A seekable archive file.</summary>
    public CustomFormatSource(string path, ArchiveHeader header, long dataStart)
    {
        _path = path;
        _header = header;
        _dataStart = dataStart;
    }

    /// <summary>A forward-only input positioned just after the TOC.</summary>
    public CustomFormatSource(ArchiveInput pipe, ArchiveHeader header)
    {
        _pipe = pipe;
        _header = header;
        _dataStart = pipe.Position;
    }

    public Stream OpenData(TocEntry entry, DataReadCounter? counter)
    {
        if (entry.OffsetState == DataOffsetState.NoData)
        {
            return Stream.Null;
        }

        var (input, release) = OpenBlock(entry, BlockData);
        var chunks = new ChunkStream(input);
        // Counted between the chunks and the decompressor: the chunk bodies, as stored in the file.
        var data = Decompression.Open(CountingStream.Wrap(chunks, counter), _header.Compression, zlibFraming: true, Describe(entry, input.Name));
        return new BlockStream(data, chunks, release);
    }

    public IEnumerable<LargeObjectData> ReadLargeObjects(TocEntry entry)
    {
        if (entry.OffsetState == DataOffsetState.NoData)
        {
            yield break;
        }

        var (input, release) = OpenBlock(entry, BlockBlobs);
        bool complete = false;
        try
        {
            while (true)
            {
                input.Context = $"large objects of dump ID {entry.DumpId}";
                long at = input.Position;
                long oid = input.ReadInt();
                if (oid == 0)
                {
                    complete = true;
                    break;
                }

                // pg_dump writes the OID with WriteInt((int) oid): OIDs of 2^31 and above come out negative.
                if (oid < int.MinValue || oid > uint.MaxValue)
                {
                    throw new ArchiveException($"invalid large object OID {oid} in \"{input.Name}\" at byte {at} ({input.Context})");
                }

                uint loOid = unchecked((uint)(int)oid);
                input.Context = $"large object {loOid} of dump ID {entry.DumpId}";
                var chunks = new ChunkStream(input);
                var data = Decompression.Open(chunks, _header.Compression, zlibFraming: true, $"{Describe(entry, input.Name)}, large object {loOid}");
                using (var lo = new BlockStream(data, chunks, release: null))
                {
                    yield return new LargeObjectData(loOid, lo);
                }
            }
        }
        finally
        {
            // A caller that stops early must still leave a piped archive at the next block.
            if (!complete && _pipe is not null)
            {
                SkipRemainingLargeObjects(input);
            }

            release?.Invoke();
        }
    }

    // _PrepParallelRestore: each data item's length is the distance to the next item's stored offset; the
    // last one reaches the end of the file when the file can seek. Items without an offset get nothing.
    public void ComputeDataLengths(IReadOnlyList<TocEntry> entries)
    {
        TocEntry? prev = null;
        foreach (var te in entries)
        {
            if (te.OffsetState != DataOffsetState.PositionSet)
            {
                continue;
            }

            if (prev is not null && te.DataOffset > prev.DataOffset)
            {
                prev.DataLength = te.DataOffset - prev.DataOffset;
            }

            prev = te;
        }

        if (prev is not null && _path is not null)
        {
            long end = new FileInfo(_path).Length;
            if (end > prev.DataOffset)
            {
                prev.DataLength = end - prev.DataOffset;
            }
        }
    }

    public void Dispose() => _spool.Dispose();

    private static string Describe(TocEntry e, string file) => $"dump ID {e.DumpId}, {e.Desc} {e.Tag}, in \"{file}\"";

    /// <summary>Returns an input positioned after the block header of the entry's block.</summary>
    private (ArchiveInput Input, Action? Release) OpenBlock(TocEntry entry, byte expectedType)
    {
        ArchiveInput input;
        Action? release = null;
        if (_path is not null)
        {
            long pos = entry.OffsetState == DataOffsetState.PositionSet ? entry.DataOffset : FindByScan(entry);
            var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            long fileLength = fs.Length;
            if (pos >= fileLength)
            {
                fs.Dispose();
                throw new ArchiveException(
                    $"data offset {pos} of dump ID {entry.DumpId} ({entry.Desc} {entry.Tag}) is past the end of \"{_path}\" ({fileLength} bytes)");
            }

            fs.Seek(pos, SeekOrigin.Begin);
            input = new ArchiveInput(fs, _path, pos) { IntSize = _header.IntSize, OffSize = _header.OffSize };
            release = fs.Dispose;
        }
        else
        {
            (input, release) = OpenFromPipe(entry);
        }

        try
        {
            input.Context = $"data block of dump ID {entry.DumpId}";
            long at = input.Position;
            byte type = input.ReadByte();
            int id = input.ReadInt32("block dump ID");
            if (id != entry.DumpId)
            {
                throw new ArchiveException(
                    $"found unexpected block ID ({id}) when reading data -- expected {entry.DumpId} ({entry.Desc} {entry.Tag}), in \"{input.Name}\" at byte {at}");
            }

            if (type != expectedType)
            {
                throw new ArchiveException(
                    $"unexpected data block type {type} for dump ID {entry.DumpId} ({entry.Desc} {entry.Tag}) in \"{input.Name}\" at byte {at}");
            }

            return (input, release);
        }
        catch
        {
            release?.Invoke();
            throw;
        }
    }

    // A seekable file written through a pipe has no offsets: one scan from the end of the TOC finds
    // every block (pg_restore does the same walk in _PrintTocData/_skipData).
    private long FindByScan(TocEntry entry)
    {
        lock (_lock)
        {
            if (_scanned is null)
            {
                var map = new Dictionary<int, long>();
                using var fs = new FileStream(_path!, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                fs.Seek(_dataStart, SeekOrigin.Begin);
                var input = new ArchiveInput(fs, _path!, _dataStart) { IntSize = _header.IntSize, OffSize = _header.OffSize };
                while (TryReadBlockHeader(input, out long at, out byte type, out int id))
                {
                    map.TryAdd(id, at);
                    SkipBlockBody(input, type, id);
                }

                _scanned = map;
            }

            return _scanned.TryGetValue(entry.DumpId, out long pos)
                ? pos
                : throw new ArchiveException($"could not find the data block of dump ID {entry.DumpId} ({entry.Desc} {entry.Tag}) in \"{_path}\"");
        }
    }

    private (ArchiveInput, Action?) OpenFromPipe(TocEntry entry)
    {
        lock (_lock)
        {
            if (_spooled.TryGetValue(entry.DumpId, out var region))
            {
                var stream = _spool.OpenRegion(region.Offset, region.Length);
                var spooled = new ArchiveInput(stream, _pipe!.Name + " (spooled)") { IntSize = _header.IntSize, OffSize = _header.OffSize };
                return (spooled, stream.Dispose);
            }

            if (_pipeBusy)
            {
                throw new InvalidOperationException("the previous data stream of a piped archive is still open");
            }

            var pipe = _pipe!;
            while (!_pipeEnded)
            {
                if (!TryReadBlockHeader(pipe, out long at, out byte type, out int id))
                {
                    _pipeEnded = true;
                    break;
                }

                if (id == entry.DumpId)
                {
                    // Hand out the live pipe; the block header is replayed from a small prefix.
                    _pipeBusy = true;
                    var replay = new ArchiveInput(new PrefixStream(BlockHeaderBytes(type, id), new InputStream(pipe)), pipe.Name, at)
                    {
                        IntSize = _header.IntSize,
                        OffSize = _header.OffSize,
                    };
                    return (replay, () => { lock (_lock) { _pipeBusy = false; } });
                }

                // Not wanted yet: keep the whole block, header included, for a later request.
                long start = _spool.Append(BlockHeaderBytes(type, id));
                var copier = new ArchiveInput(new SpoolingStream(pipe, _spool), pipe.Name, pipe.Position)
                {
                    IntSize = _header.IntSize,
                    OffSize = _header.OffSize,
                };
                SkipBlockBody(copier, type, id);
                _spooled.TryAdd(id, (start, _spool.Length - start));
            }

            throw new ArchiveException(
                $"could not find block ID {entry.DumpId} ({entry.Desc} {entry.Tag}) in \"{pipe.Name}\": the archive ended first");
        }
    }

    private byte[] BlockHeaderBytes(byte type, int id)
    {
        var b = new byte[1 + 1 + _header.IntSize];
        b[0] = type;
        uint mag = (uint)id;
        for (int i = 0; i < _header.IntSize && i < 4; i++)
        {
            b[2 + i] = (byte)(mag >> (8 * i));
        }

        return b;
    }

    /// <summary>Reads a block header; false at a clean end of file (pg_restore's normal end of data).</summary>
    private static bool TryReadBlockHeader(ArchiveInput input, out long at, out byte type, out int id)
    {
        at = input.Position;
        Span<byte> first = stackalloc byte[1];
        if (input.ReadAtMost(first) == 0)
        {
            type = 0;
            id = 0;
            return false;
        }

        type = first[0];
        input.Context = $"data block header at byte {at}";
        id = input.ReadInt32("block dump ID");
        if (type is not (BlockData or BlockBlobs))
        {
            throw new ArchiveException($"unrecognized data block type {type} in \"{input.Name}\" at byte {at}");
        }

        return true;
    }

    private static void SkipRemainingLargeObjects(ArchiveInput input)
    {
        while (input.ReadInt() != 0)
        {
            new ChunkStream(input).SkipToEnd();
        }
    }

    private static void SkipBlockBody(ArchiveInput input, byte type, int id)
    {
        input.Context = $"data block of dump ID {id}";
        if (type == BlockData)
        {
            new ChunkStream(input).SkipToEnd();
            return;
        }

        SkipRemainingLargeObjects(input);
    }
}
