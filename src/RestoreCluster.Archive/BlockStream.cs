namespace RestoreCluster.Archive;

/// <summary>
/// An entry's data as handed to callers: reading goes through the decompressor; disposing skips whatever
/// was not read, so a forward-only archive is left at the next block, then releases the input.
/// </summary>
internal sealed class BlockStream(Stream data, ChunkStream chunks, Action? release) : ForwardStream
{
    private bool _disposed;

    public override int Read(Span<byte> buffer) => data.Read(buffer);

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
