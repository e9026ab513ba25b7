using System.Diagnostics;
using Npgsql;
using RestoreCluster.Testing;

namespace RestoreCluster.Benchmarks;

/// <summary>
/// A run's phases (pre-data, data, post-data), seen the same way for both tools: from the server's
/// <c>pg_stat_activity</c>, sampled on a connection of its own every <see cref="Interval"/> while the command
/// runs, since neither tool's default output says when a phase ends. The data phase starts at the
/// <c>query_start</c> of the earliest COPY ... FROM stdin seen running in the run's database, and ends at the first
/// sample that sees no COPY after the last one that did; pre-data is before it, post-data after it (up to the
/// command's exit). A COPY shorter than the interval may be missed, so with many small tables the data phase can
/// start and end up to a few samples late or early; with big tables the bounds are within one interval.
/// </summary>
internal sealed class PhaseSampler : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(25);

    private const string Sample = """
        SELECT min(query_start) FILTER (WHERE query ILIKE 'copy %from stdin%'), count(*) FILTER (WHERE query ILIKE 'copy %from stdin%')
        FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()
        """;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Stopwatch _clock;
    private readonly DateTimeOffset _started;
    private TimeSpan? _firstCopy;
    private TimeSpan? _lastCopySeen;
    private TimeSpan? _noCopyAfterLast;

    private PhaseSampler(NpgsqlConnection connection, string database)
    {
        _clock = Stopwatch.StartNew();
        _started = DateTimeOffset.UtcNow;
        _loop = Task.Run(() => LoopAsync(connection, database, _stop.Token));
    }

    /// <summary>Opens the sampling connection (to <c>postgres</c>) and starts sampling; start the command right after.</summary>
    public static async Task<PhaseSampler> StartAsync(PostgresServer server, string database, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(server.ConnectionString("postgres"));
        await connection.OpenAsync(cancellationToken);
        return new PhaseSampler(connection, database);
    }

    /// <summary>Stops sampling and splits <paramref name="wall"/> into the phases; null when no COPY was seen.</summary>
    public async Task<RunPhases?> StopAsync(TimeSpan wall)
    {
        await _stop.CancelAsync();
        await _loop;
        if (_firstCopy is not { } first || _lastCopySeen is not { } last)
        {
            return null;
        }

        var dataEnd = _noCopyAfterLast ?? wall;
        if (dataEnd < last)
        {
            dataEnd = last;
        }

        double pre = Math.Max(0, first.TotalSeconds);
        double data = Math.Max(0, dataEnd.TotalSeconds - pre);
        return new RunPhases(Math.Round(pre, 3), Math.Round(data, 3), Math.Round(Math.Max(0, wall.TotalSeconds - pre - data), 3));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        finally
        {
            _stop.Dispose();
        }
    }

    private async Task LoopAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        await using var owned = connection;
        await using var command = new NpgsqlCommand(Sample, connection) { Parameters = { new() { Value = database } } };
        await command.PrepareAsync(CancellationToken.None);
        while (!cancellationToken.IsCancellationRequested)
        {
            await using (var reader = await command.ExecuteReaderAsync(CancellationToken.None))
            {
                await reader.ReadAsync(CancellationToken.None);
                var now = _clock.Elapsed;
                if (reader.GetInt64(1) > 0)
                {
                    // query_start is the server's clock (timestamptz, UTC); the run's start is this machine's, the same clock.
                    var start = new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero) - _started;
                    _firstCopy = _firstCopy is { } f && f <= start ? f : start;
                    _lastCopySeen = now;
                    _noCopyAfterLast = null;
                }
                else if (_lastCopySeen is not null && _noCopyAfterLast is null)
                {
                    _noCopyAfterLast = now;
                }
            }

            try
            {
                await Task.Delay(Interval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>How a run's wall time splits (seconds): before the first COPY, COPYs running, after the last COPY.</summary>
internal sealed record RunPhases(double PreDataSeconds, double DataSeconds, double PostDataSeconds);
