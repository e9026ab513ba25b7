namespace RestoreCluster.Archive;

/// <summary>Passes reads through and remembers the last eight bytes, where zlib and gzip keep their trailers.</summary>
internal sealed class TailRecorder(Stream inner) : ForwardStream
{
    private readonly byte[] _tail = new byte[8];

    public long Count { get; private set; }

    /// <summary>The last <paramref name="n"/> bytes read (n ≤ 8), oldest first.</summary>
    public byte[] Tail(int n)
    {
        var result = new byte[n];
        for (int i = 0; i < n; i++)
        {
            long pos = Count - n + i;
            result[i] = pos < 0 ? (byte)0 : _tail[pos % 8];
        }

        return result;
    }

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        for (int i = Math.Max(0, n - 8); i < n; i++)
        {
            _tail[(Count + i) % 8] = buffer[i];
        }

        Count += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
