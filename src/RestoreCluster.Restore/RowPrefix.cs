namespace RestoreCluster.Restore;

/// <summary>
/// The first rows of COPY text data: at least <c>limit</c> bytes, cut at the end of the row that crosses it. In
/// COPY's text format a row ends at a newline byte; newlines inside values are written as <c>\n</c>, so a raw
/// newline byte is always a row's end. A cut prefix ends with pg_dump's end-of-data line, as the whole data does.
/// </summary>
public static class RowPrefix
{
    /// <summary>Writes the prefix of <paramref name="data"/> to <paramref name="write"/>; returns the bytes written.</summary>
    public static long Copy(Stream data, long limit, SpanAction write)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var buffer = new byte[1 << 16];
        long written = 0;
        int n;
        while ((n = data.Read(buffer, 0, buffer.Length)) > 0)
        {
            var chunk = buffer.AsSpan(0, n);
            if (written + n >= limit)
            {
                // The row that crosses the limit ends at the first newline at or after it.
                int from = (int)Math.Max(0, limit - 1 - written);
                int end = chunk[from..].IndexOf((byte)'\n');
                if (end >= 0)
                {
                    write(chunk[..(from + end + 1)]);
                    write(EndOfData);
                    return written + from + end + 1;
                }
            }

            write(chunk);
            written += n;
        }

        return written;
    }

    private static ReadOnlySpan<byte> EndOfData => "\\.\n\n"u8;

    /// <summary>Where the bytes go (a COPY stream, a script).</summary>
    public delegate void SpanAction(ReadOnlySpan<byte> bytes);
}
