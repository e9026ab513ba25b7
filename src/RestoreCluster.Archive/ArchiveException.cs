namespace RestoreCluster.Archive;

/// <summary>
/// Any problem with the archive itself: not an archive, truncated, corrupt, unsupported.
/// The message is one line that names what failed and where (file, byte offset, TOC entry).
/// </summary>
public sealed class ArchiveException : Exception
{
    public ArchiveException(string message)
        : base(message)
    {
    }

    public ArchiveException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
