namespace RestoreCluster.Archive;

/// <summary>A read-only window of <c>length</c> bytes from the current position of another stream.</summary>
internal sealed class SubStream(Stream inner, long windowLength, bool ownsInner) : ForwardStream
{
    private long _done;

    private long Left => windowLength - _done;

    /// <summary>Set when the inner stream ended before the window did.</summary>
    public Func<long, Exception>? OnTruncated { get; init; }

    public override long Length => windowLength;

    public override long Position
    {
        get => _done;
        set => throw new NotSupportedException();
    }

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

    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsInner)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
