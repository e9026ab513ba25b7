namespace RestoreCluster.Restore;

/// <summary>
/// Passes COPY text data through unchanged up to pg_dump's end-of-data line <c>\.</c>, which is not sent:
/// over protocol 3 the end of data is CopyDone, and the server's treatment of <c>\.</c> differs between
/// versions. A data row can never be exactly <c>\.</c> (a backslash in a value is written <c>\\</c>).
/// </summary>
internal sealed class CopyTerminatorFilter
{
    private int _state = 1; // 0 mid-line, 1 at a line start, 2 "\" at a line start, 3 "\." at a line start
    private bool _done;

    /// <summary>Rows passed on (lines before the end line).</summary>
    public long Rows { get; private set; }

    public void Write(ReadOnlySpan<byte> data, Stream output)
    {
        if (_done)
        {
            return;
        }

        int flushedUpTo = 0;
        int i = 0;
        while (i < data.Length)
        {
            if (_state == 0)
            {
                // Mid-line: skip to the next line end at once (a vectorized search, not a byte loop).
                int nl = data[i..].IndexOf((byte)'\n');
                if (nl < 0)
                {
                    break;
                }

                Rows++;
                i += nl + 1;
                _state = 1;
                continue;
            }

            byte b = data[i];
            switch (_state)
            {
                case 1 when b == (byte)'\\':
                    // Hold the backslash back until we know whether this is the terminator.
                    output.Write(data[flushedUpTo..i]);
                    flushedUpTo = i + 1;
                    _state = 2;
                    break;
                case 2 when b == (byte)'.':
                    flushedUpTo = i + 1;
                    _state = 3;
                    break;
                case 3 when b is (byte)'\n' or (byte)'\r':
                    _done = true;
                    return;
                case 2 or 3:
                    // Not the terminator after all: release what was held back.
                    output.Write(_state == 2 ? "\\"u8 : "\\."u8);
                    flushedUpTo = i;
                    if (b == (byte)'\n')
                    {
                        Rows++;
                    }

                    _state = b == (byte)'\n' ? 1 : 0;
                    break;
                default:
                    // At a line start: an empty line ends here, anything else starts a row.
                    if (b == (byte)'\n')
                    {
                        Rows++;
                    }

                    _state = b == (byte)'\n' ? 1 : 0;
                    break;
            }

            i++;
        }

        if (_state is not (2 or 3))
        {
            output.Write(data[flushedUpTo..]);
        }
    }
}
