using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using RestoreCluster.Planning;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// An adaptive budget's probe: a session of its own on the target server (application name <c>restorecluster</c>,
/// so it counts among our sessions) that runs its query every <see cref="Period"/> and keeps the latencies until the
/// budget grain takes them, and gives each to the COPYs' pacer at once. An answer still awaited is not left out: the
/// pacer hears of it as over its limit at the first period's tick after it has taken longer, and again each period
/// (<see cref="CopyPacer.OverdueAt"/>); a window's latencies include how long a query slower than the period has
/// waited so far. So a server that stops answering slows the restore at once. A probe that fails counts as
/// one that took <see cref="FailedMs"/>; a lost session is opened again at the next probe. It runs off the grain's
/// scheduler; its query is cancelled when it stops.
/// </summary>
internal sealed class BudgetProbe : IAsyncDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    /// <summary>What a failed probe counts as: far over any sensible limit.</summary>
    public const double FailedMs = 60_000;

    private readonly ConcurrentQueue<double> _latencies = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly CopyPacer? _pacer;
    private readonly Task? _watch;
    // The query in flight: when it was sent (a Stopwatch timestamp; 0 when none is), and how many times the pacer
    // heard of it as over its limit while it was awaited.
    private readonly Lock _inFlight = new();
    private long _askedAt;
    private int _overdueCounted;

    /// <param name="pacer">Given each answer's latency as it comes (a failed probe's as <see cref="FailedMs"/>).</param>
    public BudgetProbe(IReadOnlyDictionary<string, string> target, string sql, Action<string> reportFailure, CopyPacer? pacer = null)
    {
        _pacer = pacer;
        _loop = Task.Run(() => LoopAsync(ConnectionTarget.FromValues(target), sql, reportFailure, _stop.Token));
        _watch = pacer is null ? null : Task.Run(() => WatchAsync(pacer, _stop.Token));
    }

    private void Measured(double ms, bool toPacer)
    {
        _latencies.Enqueue(ms);
        if (toPacer)
        {
            _pacer?.Observe(ms);
        }
    }

    /// <summary>
    /// The latencies (ms) measured since the last call, and, for a query in flight longer than <see cref="Period"/>,
    /// how long it has waited so far: a server that does not answer for a whole window is judged by that wait, not
    /// left unjudged for want of an answer.
    /// </summary>
    public List<double> Drain()
    {
        var taken = new List<double>();
        while (_latencies.TryDequeue(out double ms))
        {
            taken.Add(ms);
        }

        lock (_inFlight)
        {
            if (_askedAt != 0 && Stopwatch.GetElapsedTime(_askedAt) is { } waited && waited > Period)
            {
                taken.Add(waited.TotalMilliseconds);
            }
        }

        return taken;
    }

    private async Task LoopAsync(ConnectionTarget target, string sql, Action<string> reportFailure, CancellationToken stop)
    {
        NpgsqlConnection? conn = null;
        bool reported = false;
        using var timer = new PeriodicTimer(Period);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    // A new session's start is not timed: only the query is the server's latency.
                    conn ??= MaintenanceSession.Open(target, null, null);
                    await using var cmd = new NpgsqlCommand(sql, conn);
                    Asked();
                    var clock = Stopwatch.StartNew();
                    await cmd.ExecuteNonQueryAsync(stop);
                    double ms = clock.Elapsed.TotalMilliseconds;
                    // An answer the pacer already heard of as overdue is not given to it again.
                    Measured(ms, toPacer: Answered() == 0);
                    reported = false;
                }
                catch (Exception e) when (!stop.IsCancellationRequested)
                {
                    // Whatever failed, the loop goes on: the budget and the pacer rely on it, and a failure counts as
                    // an answer far over the limit. It is reported once, until a probe answers again.
                    Measured(FailedMs, toPacer: Answered() == 0);
                    if (!reported)
                    {
                        reportFailure(e.Message);
                        reported = true;
                    }

                    if (conn is not null)
                    {
                        await conn.DisposeAsync();
                        conn = null;
                    }
                }
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Stopped: the query in flight was cancelled, and how it ended (cancelled, or its session closed when the
            // server did not take the cancel) is of no use to anyone.
        }
        finally
        {
            if (conn is not null)
            {
                await conn.DisposeAsync();
            }
        }
    }

    private void Asked()
    {
        lock (_inFlight)
        {
            _askedAt = Stopwatch.GetTimestamp();
            _overdueCounted = 0;
        }
    }

    // The query in flight ended: how many times the pacer heard of it as overdue.
    private int Answered()
    {
        lock (_inFlight)
        {
            if (_askedAt == 0)
            {
                return 0;
            }

            _askedAt = 0;
            return _overdueCounted;
        }
    }

    // Each period, a query still awaited past its next CopyPacer.OverdueAt counts as one more answer over the limit.
    private async Task WatchAsync(CopyPacer pacer, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Period);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                lock (_inFlight)
                {
                    if (_askedAt != 0 && Stopwatch.GetElapsedTime(_askedAt) >= pacer.OverdueAt(_overdueCounted, Period))
                    {
                        pacer.Overdue();
                        _overdueCounted++;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        if (_watch is not null)
        {
            await _watch;
        }

        _stop.Dispose();
    }
}
