using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using RestoreCluster.Planning;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// An adaptive budget's probe: a session of its own on the target server (application name <c>restorecluster</c>,
/// so it counts among our sessions) that runs its query every <see cref="Period"/> and keeps the latencies until the
/// budget grain takes them, and gives each to the COPYs' pacer at once. A probe that fails counts as one that took <see cref="FailedMs"/>; a lost session is
/// opened again at the next probe. It runs off the grain's scheduler.
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

    /// <param name="pacer">Given each answer's latency as it comes (a failed probe's as <see cref="FailedMs"/>).</param>
    public BudgetProbe(IReadOnlyDictionary<string, string> target, string sql, Action<string> reportFailure, CopyPacer? pacer = null)
    {
        _pacer = pacer;
        _loop = Task.Run(() => LoopAsync(ConnectionTarget.FromValues(target), sql, reportFailure, _stop.Token));
    }

    private void Measured(double ms)
    {
        _latencies.Enqueue(ms);
        _pacer?.Observe(ms);
    }

    /// <summary>The latencies (ms) measured since the last call.</summary>
    public List<double> Drain()
    {
        var taken = new List<double>();
        while (_latencies.TryDequeue(out double ms))
        {
            taken.Add(ms);
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
                    var clock = Stopwatch.StartNew();
                    await cmd.ExecuteNonQueryAsync(CancellationToken.None);
                    Measured(clock.Elapsed.TotalMilliseconds);
                    reported = false;
                }
                catch (Exception e) when (e is NpgsqlException or RestoreFailedException or InvalidOperationException or TimeoutException)
                {
                    Measured(FailedMs);
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
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            if (conn is not null)
            {
                await conn.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
