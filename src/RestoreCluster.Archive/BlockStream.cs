namespace RestoreCluster.Archive;

/// <summary>
/// An entry's data as handed to callers: reading goes through the decompressor; disposing skips whatever
/// was not read, so a forward-only archive is left at the next block, then releases the input.
/// </summary>
internal sealed class BlockStream(Stream data, ChunkStream chunks, Action? release) : Stream
{
    private bool _disposed;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => data.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => data.Read(buffer);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            try
            {
                chunks.SkipToEnd();
            }
            finally
            {
                release?.Invoke();
            }
        }

        base.Dispose(disposing);
    }
}
