namespace RestoreCluster.Archive;

/// <summary>
/// How many bytes of an entry's data have been read from the archive so far, counted before decompression
/// (the unit pg_restore's data sizes are in). One thread reads the data and adds; any thread may look.
/// </summary>
public sealed class DataReadCounter
{
    private long _bytes;

    /// <summary>Archive bytes read since the last <see cref="Reset"/>.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Starts counting again from 0 (a unit begins, or is retried on a new session).</summary>
    public void Reset() => Volatile.Write(ref _bytes, 0);

    // A single writer: a plain add published with a volatile write is enough, no interlocked operation per read.
    internal void Add(int count) => Volatile.Write(ref _bytes, _bytes + count);
}

/// <summary>Counts the bytes read through it into a <see cref="DataReadCounter"/>; disposing disposes the inner stream.</summary>
internal sealed class CountingStream(Stream inner, DataReadCounter counter) : ForwardStream
{
    public static Stream Wrap(Stream inner, DataReadCounter? counter) => counter is null ? inner : new CountingStream(inner, counter);

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        counter.Add(n);
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
