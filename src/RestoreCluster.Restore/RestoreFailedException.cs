namespace RestoreCluster.Restore;

/// <summary>A restore that had to stop: a fatal error, or the first error under -e/-1.</summary>
public sealed class RestoreFailedException : Exception
{
    public RestoreFailedException(string message)
        : base(message)
    {
    }

    public RestoreFailedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
