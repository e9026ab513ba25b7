namespace RestoreCluster.Archive;

/// <summary>Base for the small read-only, forward-only streams of this library.</summary>
internal abstract class ForwardStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public abstract override int Read(Span<byte> buffer);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Reads through an <see cref="ArchiveInput"/>, so its position stays true.</summary>
internal sealed class InputStream(ArchiveInput input) : ForwardStream
{
    public override int Read(Span<byte> buffer) => input.ReadAtMost(buffer);
}

/// <summary>Some bytes already read, then the rest of a stream.</summary>
internal sealed class PrefixStream(byte[] prefix, Stream rest) : ForwardStream
{
    private int _used;

    public override int Read(Span<byte> buffer)
    {
        if (_used < prefix.Length)
        {
            int n = Math.Min(buffer.Length, prefix.Length - _used);
            prefix.AsSpan(_used, n).CopyTo(buffer);
            _used += n;
            return n;
        }

        return rest.Read(buffer);
    }
}

/// <summary>Reads from a forward-only input and appends every byte read to a spool.</summary>
internal sealed class SpoolingStream(ArchiveInput input, Spool spool) : ForwardStream
{
    public override int Read(Span<byte> buffer)
    {
        int n = input.ReadAtMost(buffer);
        spool.Append(buffer[..n]);
        return n;
    }
}
