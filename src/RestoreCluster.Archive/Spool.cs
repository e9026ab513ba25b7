namespace RestoreCluster.Archive;

/// <summary>
/// A temporary file holding data that a forward-only input (a pipe) passed before anyone asked for it,
/// so that entries can still be served in any order without keeping them in memory.
/// </summary>
internal sealed class Spool : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"restorecluster-spool-{Guid.NewGuid():N}.tmp");
    private FileStream? _writer;

    public long Length => _writer?.Length ?? 0;

    /// <summary>Appends <paramref name="count"/> bytes read from <paramref name="input"/>; returns their offset.</summary>
    public long Append(ArchiveInput input, long count)
    {
        _writer ??= new FileStream(_path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite, 1 << 16, FileOptions.DeleteOnClose);
        long start = _writer.Length;
        _writer.Seek(0, SeekOrigin.End);
        var buf = new byte[(int)Math.Min(Math.Max(count, 1), 1 << 16)];
        while (count > 0)
        {
            int n = (int)Math.Min(count, buf.Length);
            input.ReadExactly(buf.AsSpan(0, n));
            _writer.Write(buf, 0, n);
            count -= n;
        }

        return start;
    }

    /// <summary>Appends raw bytes; returns their offset.</summary>
    public long Append(ReadOnlySpan<byte> bytes)
    {
        _writer ??= new FileStream(_path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite, 1 << 16, FileOptions.DeleteOnClose);
        long start = _writer.Length;
        _writer.Seek(0, SeekOrigin.End);
        _writer.Write(bytes);
        return start;
    }

    /// <summary>A read-only view of a spooled region.</summary>
    public Stream OpenRegion(long offset, long length)
    {
        if (_writer is null)
        {
            throw new InvalidOperationException("nothing was spooled");
        }

        _writer.Flush();
        var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        fs.Seek(offset, SeekOrigin.Begin);
        return new SubStream(fs, length, ownsInner: true);
    }

    public void Dispose() => _writer?.Dispose();
}
