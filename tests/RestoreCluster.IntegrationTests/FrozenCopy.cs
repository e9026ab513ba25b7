using Npgsql;
using RestoreCluster.Testing;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A target whose big table's COPY stops halfway until the test lets it go: the schema is restored first
/// (--section pre-data), then a BEFORE INSERT trigger on the row in the middle of the big table takes a
/// shared advisory lock that this object holds exclusively. The data restore (--data-only) then blocks in
/// the middle of the COPY, which shows that progress comes from reads, not from the clock. With
/// <c>paced</c>, a second trigger sleeps a little every 10000 rows, so the COPY lasts seconds however fast
/// the server is (a private test server loads 64 MB in under a second).
/// </summary>
internal sealed class FrozenCopy : IAsyncDisposable
{
    private const int LockKey = 7_311_001;

    private readonly PostgresServer _server;
    private readonly NpgsqlConnection _holder;

    private FrozenCopy(PostgresServer server, string database, NpgsqlConnection holder)
    {
        _server = server;
        Database = database;
        _holder = holder;
    }

    public string Database { get; }

    public static async Task<FrozenCopy> PrepareAsync(PostgresServer server, Workload workload, string archive, string prefix, bool paced = false)
    {
        string database = await server.CreateDatabaseAsync(prefix);
        // pg_restore for the schema: it starts faster than our CLI with its embedded cluster, and is not under test here.
        (await server.RunToolAsync("pg_restore", ["--section=pre-data", "-d", database, archive], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
        long middle = workload.RowCounts[workload.BigTable] / 2;
        await server.ExecuteAsync(database, $"""
            CREATE FUNCTION public.wait_for_test() RETURNS trigger LANGUAGE plpgsql AS
            $$BEGIN PERFORM pg_advisory_xact_lock_shared({LockKey}); RETURN NEW; END$$;
            CREATE TRIGGER wait_for_test BEFORE INSERT ON public.{workload.BigTable}
            FOR EACH ROW WHEN (NEW.id = {middle}) EXECUTE FUNCTION public.wait_for_test();
            """);
        if (paced)
        {
            long every = 10_000;
            double pause = 3.0 / Math.Max(1, workload.RowCounts[workload.BigTable] / every);
            await server.ExecuteAsync(database, $"""
                CREATE FUNCTION public.pace_for_test() RETURNS trigger LANGUAGE plpgsql AS
                $$BEGIN PERFORM pg_sleep({pause.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)}); RETURN NEW; END$$;
                CREATE TRIGGER pace_for_test BEFORE INSERT ON public.{workload.BigTable}
                FOR EACH ROW WHEN (NEW.id % {every} = 0) EXECUTE FUNCTION public.pace_for_test();
                """);
        }
        // Advisory locks belong to a database: the holder connects to the target.
        var holder = new NpgsqlConnection(server.ConnectionString(database));
        await holder.OpenAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        return new FrozenCopy(server, database, holder);
    }

    /// <summary>True while a backend of the target waits for the advisory lock (the COPY has reached the middle row).</summary>
    public async Task<bool> CopyIsWaitingAsync() =>
        await _server.ScalarAsync<long>("postgres",
            $"SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = '{Database}' AND wait_event_type = 'Lock' AND wait_event = 'advisory'") > 0;

    /// <summary>Lets the COPY go on.</summary>
    public async Task ReleaseAsync()
    {
        await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", _holder);
        await release.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _holder.DisposeAsync();
        await _server.DropDatabaseAsync(Database);
    }
}
