namespace RestoreCluster.Archive;

/// <summary>Where a format keeps entry data: blocks in one file, files in a directory, tar members.</summary>
internal interface IDataSource : IDisposable
{
    /// <summary>
    /// The plain data bytes of an entry (COPY text, or INSERT statements); <paramref name="counter"/>, when
    /// given, counts the archive bytes read for them before decompression.
    /// </summary>
    Stream OpenData(TocEntry entry, DataReadCounter? counter);

    /// <summary>The large objects of a BLOBS entry, in archive order.</summary>
    IEnumerable<LargeObjectData> ReadLargeObjects(TocEntry entry);

    /// <summary>Sets <see cref="TocEntry.DataLength"/> the way pg_restore's _PrepParallelRestore does.</summary>
    void ComputeDataLengths(IReadOnlyList<TocEntry> entries);
}
