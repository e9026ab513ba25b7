using Npgsql;
using RestoreCluster.Planning;

namespace RestoreCluster.Cli.Tune;

/// <summary>
/// Samples, every <see cref="Period"/>, what the client sessions in the trial's database are doing
/// (<c>pg_stat_activity</c>), on a connection of its own: active with no wait event counts as <c>CPU</c>, any wait
/// as <c>Type:Event</c>, idle sessions not at all. <see cref="Shares"/> is each key's share of the sampled session time.
/// </summary>
internal sealed class WaitSampler : IAsyncDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly NpgsqlConnection _conn;

    public WaitSampler(NpgsqlConnection conn, string database)
    {
        _conn = conn;
        _loop = Task.Run(() => LoopAsync(database, _stop.Token));
    }

    /// <summary>Samples taken.</summary>
    public int Samples { get; private set; }

    public IReadOnlyDictionary<string, double> Shares
    {
        get
        {
            long total = _counts.Values.Sum();
            return total == 0 ? new Dictionary<string, double>() : _counts.ToDictionary(kv => kv.Key, kv => (double)kv.Value / total, StringComparer.Ordinal);
        }
    }

    private async Task LoopAsync(string database, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Period);
        await using var cmd = new NpgsqlCommand(
            """
            SELECT wait_event_type, wait_event FROM pg_catalog.pg_stat_activity
            WHERE datname = $1 AND backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_catalog.pg_backend_pid()
            """, _conn);
        cmd.Parameters.AddWithValue(database);
        try
        {
            // Only the wait between samples is cancelled: a sample in flight ends normally.
            while (await timer.WaitForNextTickAsync(stop))
            {
                await using var reader = await cmd.ExecuteReaderAsync(CancellationToken.None);
                while (await reader.ReadAsync(CancellationToken.None))
                {
                    string key = reader.IsDBNull(1) ? JobsAdvice.Cpu : $"{reader.GetString(0)}:{reader.GetString(1)}";
                    _counts[key] = _counts.GetValueOrDefault(key) + 1;
                }

                Samples++;
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
        _stop.Dispose();
    }
}
