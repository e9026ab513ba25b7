namespace RestoreCluster.Restore;

/// <summary>
/// The bounded exponential backoff of the restore's retries: after failed attempt <c>a</c> (from 1) the next
/// comes <c>Base · 2^a</c> later, at most <see cref="Max"/>, and attempt <see cref="MaxAttempts"/> is the last.
/// <see cref="Default"/> (6 attempts, 100 ms doubling, at most 5 s: waits of 200, 400, 800, 1600 and 3200 ms)
/// is the shape of <see cref="UnitSession"/>'s retry of a lost session and of the connect retry in
/// <see cref="TargetConnector"/> (docs/concurrency.md, "Knobs").
/// </summary>
internal sealed record RetryBackoff(int MaxAttempts, TimeSpan Base, TimeSpan Max)
{
    public static RetryBackoff Default { get; } = new(6, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));

    /// <summary>How long to wait after attempt <paramref name="attempt"/> (1-based) failed.</summary>
    public TimeSpan DelayAfter(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(Max.TotalMilliseconds, Base.TotalMilliseconds * Math.Pow(2, attempt)));
}
