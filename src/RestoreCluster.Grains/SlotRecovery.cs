using Orleans.Runtime;

namespace RestoreCluster.Grains;

/// <summary>
/// A worker slot's view of a failed grain call: whether the grain's silo is gone (the call may be made again, and
/// then activates the grain on a live silo), and how long to wait before the next try.
/// </summary>
public static class SlotRecovery
{
    /// <summary>The longest pause between tries.</summary>
    public static TimeSpan MaxPause { get; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// True for the failures of a call whose target silo died or is being declared dead: the silo is unavailable,
    /// the message was rejected (the activation is gone), or no answer came in time.
    /// </summary>
    public static bool IsGrainUnreachable(Exception e) => e switch
    {
        SiloUnavailableException or OrleansMessageRejectionException or TimeoutException => true,
        Orleans.Runtime.Messaging.ConnectionFailedException => true,
        AggregateException { InnerExceptions.Count: 1 } a => IsGrainUnreachable(a.InnerExceptions[0]),
        _ => false,
    };

    /// <summary>Twice the pause, at most <see cref="MaxPause"/>.</summary>
    public static TimeSpan NextPause(TimeSpan pause) => pause * 2 < MaxPause ? pause * 2 : MaxPause;
}
