namespace RestoreCluster.Archive;

/// <summary>
/// The concatenated chunks of one custom-format data stream (pg_backup_custom.c _ReadBuf/_PrintData):
/// <c>{ int len (&gt; 0), len bytes }*</c> ended by <c>int 0</c>. Reading stops exactly after the terminator.
/// </summary>
internal sealed class ChunkStream(ArchiveInput input) : ForwardStream
{
    private long _chunkLeft;

    public bool Finished { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0)
        {
            return 0;
        }

        while (_chunkLeft == 0)
        {
            if (Finished)
            {
                return 0;
            }

            long at = input.Position;
            long len = input.ReadInt();
            if (len == 0)
            {
                Finished = true;
                return 0;
            }

            if (len < 0)
            {
                throw new ArchiveException($"invalid data chunk length {len} in \"{input.Name}\" at byte {at} ({input.Context})");
            }

            _chunkLeft = len;
        }

        int want = (int)Math.Min(buffer.Length, _chunkLeft);
        int n = input.ReadAtMost(buffer[..want]);
        if (n == 0)
        {
            throw input.Truncated(_chunkLeft);
        }

        _chunkLeft -= n;
        return n;
    }

    /// <summary>Skips to the end of the stream, seeking over chunk bodies where the input allows.</summary>
    public void SkipToEnd()
    {
        while (!Finished)
        {
            if (_chunkLeft > 0)
            {
                input.Skip(_chunkLeft);
                _chunkLeft = 0;
            }

            long at = input.Position;
            long len = input.ReadInt();
            if (len == 0)
            {
                Finished = true;
            }
            else if (len < 0)
            {
                throw new ArchiveException($"invalid data chunk length {len} in \"{input.Name}\" at byte {at} ({input.Context})");
            }
            else
            {
                _chunkLeft = len;
            }
        }
    }
}
