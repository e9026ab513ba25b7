namespace RestoreCluster.Archive;

/// <summary>
/// A decompressing stream whose failures become one-line <see cref="ArchiveException"/>s naming the entry,
/// and which insists that the compressed stream ends exactly where its data does.
/// </summary>
internal sealed class GuardedStream(
    Stream inner, Stream source, CompressionAlgorithm algorithm, bool zlibFraming, TailRecorder? trailer, string where) : ForwardStream
{
    private bool _ended;
    // Vectorized checksums (System.IO.Hashing): a big table's data is checked as fast as it is inflated.
    private readonly System.IO.Hashing.Adler32 _adler = new();
    private readonly System.IO.Hashing.Crc32 _crc = new();
    private long _produced;

    public override int Read(Span<byte> buffer)
    {
        if (_ended || buffer.Length == 0)
        {
            return 0;
        }

        int n;
        try
        {
            n = inner.Read(buffer);
        }
        catch (ArchiveException)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or InvalidOperationException
                                       or ArgumentException or NotSupportedException or ZstdSharp.ZstdException
                                       or IndexOutOfRangeException)
        {
            throw new ArchiveException($"corrupt {Name} data ({where}): {FirstLine(ex.Message)}", ex);
        }

        if (n == 0)
        {
            _ended = true;
            CheckSourceEnded();
            CheckTrailer();
            return 0;
        }

        if (trailer is not null)
        {
            if (zlibFraming)
            {
                _adler.Append(buffer[..n]);
            }
            else
            {
                _crc.Append(buffer[..n]);
            }

            _produced += n;
        }

        return n;
    }

    private string Name => algorithm switch
    {
        CompressionAlgorithm.Gzip => "gzip",
        CompressionAlgorithm.Lz4 => "lz4",
        CompressionAlgorithm.Zstd => "zstd",
        _ => "uncompressed",
    };

    // A compressed stream that stops before its end marker, or is followed by stray bytes, is corrupt.
    private void CheckSourceEnded()
    {
        Span<byte> probe = stackalloc byte[1];
        if (source.Read(probe) != 0)
        {
            throw new ArchiveException($"corrupt {Name} data ({where}): unexpected bytes after the end of the compressed stream");
        }
    }

    private void CheckTrailer()
    {
        if (trailer is null)
        {
            return;
        }

        bool ok;
        if (zlibFraming)
        {
            // RFC 1950: the stream ends with the Adler-32 of the data, most significant byte first.
            byte[] t = trailer.Tail(4);
            ok = trailer.Count >= 6 && (uint)(t[0] << 24 | t[1] << 16 | t[2] << 8 | t[3]) == _adler.GetCurrentHashAsUInt32();
        }
        else
        {
            // RFC 1952: CRC-32 then the data length modulo 2^32, least significant byte first.
            byte[] t = trailer.Tail(8);
            uint crc = (uint)(t[0] | t[1] << 8 | t[2] << 16 | t[3] << 24);
            uint size = (uint)(t[4] | t[5] << 8 | t[6] << 16 | t[7] << 24);
            ok = trailer.Count >= 18 && crc == _crc.GetCurrentHashAsUInt32() && size == (uint)_produced;
        }

        if (!ok)
        {
            throw new ArchiveException($"corrupt gzip data ({where}): the compressed stream ends before its trailer (truncated or damaged)");
        }
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOfAny(['\r', '\n']);
        return nl < 0 ? s : s[..nl];
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            source.Dispose();
        }

        base.Dispose(disposing);
    }
}
