namespace RestoreCluster.Restore;

/// <summary>
/// The one backoff for transient faults (a lost session, a server restarting or full): attempts are
/// spaced 200 ms, 400 ms, 800 ms … apart, capped at 5 s, and given up after <see cref="MaxAttempts"/>.
/// </summary>
public static class TransientRetry
{
    public const int MaxAttempts = 6;

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait after failed attempt number <paramref name="attempt"/> (1-based).</summary>
    public static TimeSpan Delay(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 100 * Math.Pow(2, attempt)));
}
