namespace RestoreCluster.Planning;

/// <summary>
/// The pace of running COPYs under a protecting budget (<c>--protect MS</c>; docs/concurrency.md): the share of the time
/// a COPY may send data, from <see cref="Slowest"/> to 1. The budget's halving and pausing act only between units, and
/// a table's COPY is one unit of seconds or minutes; so each probe answer moves the pace at once. MS bounds the probe's
/// p95, that is the share of its answers over MS (at most 5%), and the pacer steers that share: an answer over MS halves
/// the pace, one under it multiplies the pace by <see cref="Rise"/>, chosen so that the pace settles, whatever the
/// server, where <see cref="SlowShare"/> of the answers are over MS (half of what a p95 allows, for a margin: the probe
/// is a sample, and the server's other sessions are not the probe). A server quicker than that brings the COPY to full
/// speed; a busier one keeps it at its slowest. With
/// the probe's 100 ms period, a COPY halves its pace at once, and takes about 4 s of quick answers to double it again.
/// Thread-safe: the probe observes on its own thread while grain calls read the pace.
/// </summary>
public sealed class CopyPacer
{
    /// <summary>The slowest pace: a COPY always moves, so the restore finishes.</summary>
    public const double Slowest = 0.05;

    /// <summary>The share of probe answers over the limit at which the pace holds still.</summary>
    public const double SlowShare = 0.025;

    /// <summary>
    /// What one answer under the limit multiplies the pace by: the pace holds still on average when
    /// (1 − <see cref="SlowShare"/>) · ln Rise = <see cref="SlowShare"/> · ln 2.
    /// </summary>
    public static readonly double Rise = Math.Pow(2, SlowShare / (1 - SlowShare));

    private readonly double _limitMs;
    private readonly Lock _lock = new();
    private double _pace = 1;

    public CopyPacer(double limitMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limitMs);
        _limitMs = limitMs;
    }

    /// <summary>The share of the time a running COPY may send, from <see cref="Slowest"/> to 1.</summary>
    public double Pace
    {
        get
        {
            lock (_lock)
            {
                return _pace;
            }
        }
    }

    /// <summary>
    /// When an answer still awaited counts as one more over the limit, after <paramref name="counted"/> such counts: once it
    /// has taken longer than the limit it is over, whatever it will take, and it counts again for each further
    /// <paramref name="period"/> it is awaited (as many as a probe answering each period would have given). So a server
    /// that does not answer slows the pace as one that answers slowly does, instead of leaving it where it was.
    /// </summary>
    public TimeSpan OverdueAt(int counted, TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(counted);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        return TimeSpan.FromMilliseconds(_limitMs) + period * counted;
    }

    /// <summary>One probe answer's latency: over the limit halves the pace, else it rises by <see cref="Rise"/>.</summary>
    public void Observe(double latencyMs) => Step(over: latencyMs > _limitMs);

    /// <summary>An answer still awaited at its <see cref="OverdueAt"/>: it counts as one over the limit.</summary>
    public void Overdue() => Step(over: true);

    private void Step(bool over)
    {
        lock (_lock)
        {
            _pace = over ? Math.Max(Slowest, _pace / 2) : Math.Min(1, _pace * Rise);
        }
    }
}

/// <summary>
/// The rest a paced writer owes: at pace p, each stretch of work (reading, decompressing, sending) of length t is
/// followed by t × (1 − p) / p of rest, so it works a share p of the time. Rest is taken once
/// <see cref="ShortestRest"/> is owed (a shorter sleep costs more than it saves), and at most
/// <see cref="LongestRest"/> at a time (a faster pace takes effect soon). Not thread-safe: one writer.
/// </summary>
public sealed class PaceDebt
{
    public static readonly TimeSpan ShortestRest = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan LongestRest = TimeSpan.FromMilliseconds(200);

    private TimeSpan _owed;

    /// <summary>Adds a stretch of work done at <paramref name="pace"/>; returns the rest to take now (zero: none yet).</summary>
    public TimeSpan Worked(TimeSpan work, double pace)
    {
        if (pace >= 1)
        {
            // Full speed: nothing is owed, not even from slower stretches before.
            _owed = TimeSpan.Zero;
            return TimeSpan.Zero;
        }

        double p = Math.Max(pace, CopyPacer.Slowest);
        _owed += work * ((1 - p) / p);
        if (_owed < ShortestRest)
        {
            return TimeSpan.Zero;
        }

        var rest = _owed < LongestRest ? _owed : LongestRest;
        _owed -= rest;
        return rest;
    }

    /// <summary>Forgets what is owed (a new COPY starts).</summary>
    public void Clear() => _owed = TimeSpan.Zero;
}

/// <summary>
/// The rest a slot owes after a batch under a protecting budget, before its next: the pace bounds the share of the time
/// a slot works, and a COPY keeps to it by resting between its blocks (<see cref="PaceDebt"/>), but other statements (an
/// index build, a key's validation) cannot be slowed. So the batch's work owes work × (1 − pace) / pace of rest at the
/// pace when it ended, less what its COPYs already rested: a COPY kept to its pace owes about nothing more, an index
/// build that took 2 s while the server suffered rests up to <see cref="Longest"/> before the slot's next unit. This
/// spreads what cannot be slowed over a longer time, so that fewer of the server's transactions meet it. Rests under
/// <see cref="PaceDebt.ShortestRest"/> are not taken.
/// </summary>
public static class BatchRest
{
    /// <summary>The longest rest after one batch: the restore goes on even while the server stays slow.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromSeconds(10);

    /// <summary>The rest owed after a batch that took <paramref name="took"/>, of which its COPYs rested <paramref name="rested"/>.</summary>
    public static TimeSpan After(TimeSpan took, TimeSpan rested, double pace)
    {
        if (pace >= 1 || took <= rested)
        {
            return TimeSpan.Zero;
        }

        double p = Math.Max(pace, CopyPacer.Slowest);
        var owed = (took - rested) * ((1 - p) / p) - rested;
        if (owed < PaceDebt.ShortestRest)
        {
            return TimeSpan.Zero;
        }

        return owed < Longest ? owed : Longest;
    }
}
