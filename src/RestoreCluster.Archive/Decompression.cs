using System.IO.Compression;
using K4os.Compression.LZ4.Streams;
using ZstdSharp;

namespace RestoreCluster.Archive;

/// <summary>Turns a compressed data stream into the plain bytes pg_dump wrote (compress_*.c).</summary>
internal static class Decompression
{
    /// <summary>
    /// Wraps <paramref name="compressed"/>. <paramref name="zlibFraming"/> selects the custom format's zlib
    /// stream (RFC 1950) over the gzip file framing (RFC 1952) that directory archives use.
    /// </summary>
    public static Stream Open(Stream compressed, CompressionAlgorithm algorithm, bool zlibFraming, string where)
    {
        if (algorithm == CompressionAlgorithm.None)
        {
            return compressed;
        }

        // .NET's zlib and gzip readers end quietly when the input stops before the stream's end, so the
        // trailer (Adler-32, or CRC-32 and length) is checked by hand once the data has been read.
        var recorder = algorithm == CompressionAlgorithm.Gzip ? new TailRecorder(compressed) : null;
        compressed = recorder ?? compressed;
        Stream inner = algorithm switch
        {
            CompressionAlgorithm.Gzip when zlibFraming => new ZLibStream(compressed, CompressionMode.Decompress),
            CompressionAlgorithm.Gzip => new GZipStream(compressed, CompressionMode.Decompress),
            CompressionAlgorithm.Lz4 => LZ4Stream.Decode(compressed),
            CompressionAlgorithm.Zstd => new DecompressionStream(compressed),
            _ => throw new ArchiveException($"unsupported compression {algorithm} ({where})"),
        };
        return new GuardedStream(inner, compressed, algorithm, zlibFraming, recorder, where);
    }

    /// <summary>The compression a directory archive's file name implies, if any.</summary>
    public static CompressionAlgorithm? FromSuffix(string fileName) =>
        fileName.EndsWith(".gz", StringComparison.Ordinal) ? CompressionAlgorithm.Gzip
        : fileName.EndsWith(".lz4", StringComparison.Ordinal) ? CompressionAlgorithm.Lz4
        : fileName.EndsWith(".zst", StringComparison.Ordinal) ? CompressionAlgorithm.Zstd
        : null;
}
