namespace RestoreCluster.Restore;

/// <summary>
/// The rows of one chunk of a table's COPY data, for loading one table on several sessions (issue 11, "split
/// big TABLE DATA"; docs/performance.md, "Split big TABLE DATA: how a chunk finds its rows"). Every chunk reads
/// the whole data stream and keeps the rows that start in its blocks: the stream (up to pg_dump's <c>\.</c> end
/// line, which is never passed on) is cut into blocks of <see cref="BlockBytes"/> decompressed bytes, block b
/// belongs to chunk <c>b % count</c>, and a row belongs to the block its first byte lies in. The assignment
/// depends only on the decompressed bytes, so any process on any machine, of any version, cuts the same chunks,
/// and a resumed restore can skip the chunks its journal holds; every row is in exactly one chunk, and the chunks
/// are about equal whatever the table's size. Rows end at an unescaped newline (a newline inside a value is
/// written <c>\n</c> by COPY's text format), so a line is a row.
/// </summary>
internal sealed class CopyChunkFilter
{
    /// <summary>Decompressed bytes per block: large enough that each COPY gets long runs, small enough to balance.</summary>
    public const int BlockBytes = 1 << 20;

    private readonly CopyTerminatorFilter _terminator = new();
    private readonly RowRouter _router;

    public CopyChunkFilter(int index, int count, int blockBytes = BlockBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockBytes);
        _router = new RowRouter(index, count, blockBytes);
    }

    /// <summary>Rows of this chunk passed on.</summary>
    public long Rows => _router.Rows;

    /// <summary>Bytes of this chunk's rows passed on.</summary>
    public long Bytes => _router.Bytes;

    /// <summary>Rows of the whole stream seen so far (this chunk's and the others').</summary>
    public long AllRows => _terminator.Rows;

    /// <summary>Passes on the rows of this chunk in <paramref name="data"/> (the next bytes of the stream) to <paramref name="output"/>.</summary>
    public void Write(ReadOnlySpan<byte> data, Stream output)
    {
        _router.Output = output;
        _terminator.Write(data, _router);
    }

    // Receives the stream without its end line and keeps the rows that start in this chunk's blocks.
    private sealed class RowRouter(int chunkIndex, int chunkCount, int blockBytes) : Stream
    {
        private long _offset;
        private bool _atRowStart = true;
        private bool _owned;

        public Stream Output { get; set; } = Null;

        public long Rows { get; private set; }

        public long Bytes { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _offset; set => throw new NotSupportedException(); }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                if (_atRowStart)
                {
                    _owned = _offset / blockBytes % chunkCount == chunkIndex;
                    _atRowStart = false;
                }

                int newline = buffer.IndexOf((byte)'\n');
                int length = newline < 0 ? buffer.Length : newline + 1;
                if (_owned)
                {
                    Output.Write(buffer[..length]);
                    Bytes += length;
                    if (newline >= 0)
                    {
                        Rows++;
                    }
                }

                _offset += length;
                _atRowStart = newline >= 0;
                buffer = buffer[length..];
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
