using Npgsql;
using RestoreCluster.Testing;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// A small archive made by the real pg_dump whose one table's data can be held up by the test: the last row
/// of <c>gate</c> passes a CHECK whose function takes a shared advisory lock, so while the test holds that lock
/// exclusively in the target database (<see cref="HoldAsync"/>), the COPY into <c>gate</c> waits inside the
/// server, an active statement in pg_stat_activity. Unheld, the restore runs through as usual.
/// </summary>
internal static class GatedArchive
{
    public const int LockKey = 7_311_002;

    public const int ItemRows = 1000;

    public const int GateRows = 10;

    private static readonly string Script = $"""
        CREATE FUNCTION public.gate_open(id integer) RETURNS boolean LANGUAGE plpgsql AS
        $$BEGIN IF id = {GateRows} THEN PERFORM pg_advisory_xact_lock_shared({LockKey}); END IF; RETURN id > 0; END$$;
        CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);
        INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, {ItemRows}) g;
        CREATE TABLE notes (id integer, body text);
        INSERT INTO notes SELECT g, repeat('x', g % 50) FROM generate_series(1, 200) g;
        CREATE INDEX notes_id ON notes (id);
        CREATE TABLE gate (id integer CONSTRAINT gate_open CHECK (public.gate_open(id)));
        INSERT INTO gate SELECT g FROM generate_series(1, {GateRows}) g;
        """;

    /// <summary>
    /// Creates the source database, dumps it (-Fc; with <paramref name="inserts"/>, --inserts, whose data
    /// runs statement by statement under savepoints) and returns the archive's path.
    /// </summary>
    public static async Task<string> MakeAsync(PostgresServer server, string directory, bool inserts = false)
    {
        string source = await server.CreateDatabaseAsync("gated_src");
        try
        {
            (await server.RunToolAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server.LibpqConnectionString(source), "-c", Script])).EnsureSuccess();
            string path = Path.Combine(directory, inserts ? "gated-inserts.dump" : "gated.dump");
            string[] format = inserts ? ["-Fc", "--inserts"] : ["-Fc"];
            (await server.RunToolAsync("pg_dump", ["--no-sync", .. format, "-f", path, "-d", server.LibpqConnectionString(source)])).EnsureSuccess();
            return path;
        }
        finally
        {
            await server.DropDatabaseAsync(source);
        }
    }

    /// <summary>Holds the gate shut in <paramref name="database"/> until the connection is disposed.</summary>
    public static async Task<NpgsqlConnection> HoldAsync(PostgresServer server, string database)
    {
        // Not pooled: closing the connection ends its session, and with it the lock.
        var holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString(database)) { Pooling = false }.ConnectionString);
        await holder.OpenAsync();
        await using var take = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", holder);
        await take.ExecuteNonQueryAsync();
        return holder;
    }

    /// <summary>The backend whose statement waits at the gate in <paramref name="database"/>, once one does (null until then).</summary>
    public static async Task<int?> WaitingBackendAsync(PostgresServer server, string database) =>
        await server.ScalarAsync<int?>("postgres",
            $"SELECT pid FROM pg_catalog.pg_stat_activity WHERE datname = '{database}' AND state = 'active' AND wait_event_type = 'Lock' AND wait_event = 'advisory' LIMIT 1");

    /// <summary>True while backend <paramref name="pid"/> still runs a statement (it is connected and not idle).</summary>
    public static async Task<bool> IsActiveAsync(PostgresServer server, int pid) =>
        await server.ScalarAsync<bool>("postgres", $"SELECT EXISTS (SELECT FROM pg_catalog.pg_stat_activity WHERE pid = {pid} AND state = 'active')");
}
