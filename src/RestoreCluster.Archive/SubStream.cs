namespace RestoreCluster.Archive;

/// <summary>A read-only window of <c>length</c> bytes from the current position of another stream.</summary>
internal sealed class SubStream(Stream inner, long windowLength, bool ownsInner) : Stream
{
    private long _done;

    private long Left => windowLength - _done;

    /// <summary>Set when the inner stream ended before the window did.</summary>
    public Func<long, Exception>? OnTruncated { get; init; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => windowLength;

    public override long Position
    {
        get => _done;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (Left <= 0 || buffer.Length == 0)
        {
            return 0;
        }

        int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, Left)]);
        if (n == 0)
        {
            throw OnTruncated?.Invoke(Left) ?? new EndOfStreamException($"{Left} byte(s) missing at the end of a data region");
        }

        _done += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsInner)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
