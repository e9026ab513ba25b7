namespace RestoreCluster.Archive;

/// <summary>
/// One large object of a BLOBS entry: its OID and its bytes. <see cref="Data"/> is valid until the
/// enumeration moves on.
/// </summary>
public sealed record LargeObjectData(uint Oid, Stream Data);
