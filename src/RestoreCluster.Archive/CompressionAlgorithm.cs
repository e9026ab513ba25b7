namespace RestoreCluster.Archive;

/// <summary>Compression of an archive's data (pg_compress_algorithm in src/common/compression.h).</summary>
public enum CompressionAlgorithm
{
    None = 0,
    Gzip = 1,
    Lz4 = 2,
    Zstd = 3,
}
