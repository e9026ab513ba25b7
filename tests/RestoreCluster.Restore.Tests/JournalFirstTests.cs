using Npgsql;
using RestoreCluster.Archive;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// A unit's journal row comes first in its transaction: a second copy of the unit waits for the first one
/// before it touches anything, then stops at once if the first committed, or runs in full if it rolled back.
/// Real sessions on a real server; the "first copy" is a transaction holding the unit's row.
/// </summary>
public sealed class JournalFirstTests : IDisposable
{
    private const int Rows = 20_000;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-journal-first-");

    [Fact]
    public async Task ASecondCopyWaitsBeforeTouchingTheTableAndStopsOnceTheFirstCommitted()
    {
        var (server, target, archive, data) = await PrepareAsync();
        using (archive)
        {
            await using var first = await FirstCopyAsync(server, target.Database, data.DumpId);

            using var session = UnitSessions.Open(archive, target);
            var second = Task.Run(() => session.RunEntry(data.DumpId, data, truncateFirst: false));
            int pid = await BlockedBackendAsync(server, target.Database, second);

            // Waiting on the journal row, it holds no lock on the table: nothing of the unit has run.
            Assert.Equal(0L, await ScalarAsync<long>(server, target.Database,
                $"SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'items' AND l.pid = {pid}"));
            Assert.False(second.IsCompleted);

            await ExecAsync(first, "COMMIT");
            var result = await second.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(result.AlreadyDone);
            Assert.Equal(0, result.Rows);
            Assert.Equal(0L, await ScalarAsync<long>(server, target.Database, "SELECT count(*) FROM public.items"));
        }
    }

    [Fact]
    public async Task ASecondCopyRunsInFullWhenTheFirstRolledBack()
    {
        var (server, target, archive, data) = await PrepareAsync();
        using (archive)
        {
            await using var first = await FirstCopyAsync(server, target.Database, data.DumpId);

            using var session = UnitSessions.Open(archive, target);
            var second = Task.Run(() => session.RunEntry(data.DumpId, data, truncateFirst: false));
            await BlockedBackendAsync(server, target.Database, second);

            await ExecAsync(first, "ROLLBACK");
            var result = await second.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(result.AlreadyDone);
            Assert.Equal(Rows, result.Rows);
            Assert.Equal((long)Rows, await ScalarAsync<long>(server, target.Database, "SELECT count(*) FROM public.items"));
            Assert.Equal(1L, await ScalarAsync<long>(server, target.Database, $"SELECT count(*) FROM {RestoreJournal.Schema}.unit WHERE unit_id = {data.DumpId}"));
        }
    }

    [Fact]
    public async Task AUnitAlreadyInTheJournalReportsWhatItsRunRecorded()
    {
        var (server, target, archive, data) = await PrepareAsync();
        using (archive)
        {
            await server.ExecuteAsync(target.Database,
                $"INSERT INTO {RestoreJournal.Schema}.unit (job_key, unit_id, errors, messages, created, inhibited) VALUES ('restore', {data.DumpId}, 2, ARRAY['one', 'two'], ARRAY[7], ARRAY[9])");
            using var session = UnitSessions.Open(archive, target);
            var result = session.RunEntry(data.DumpId, data, truncateFirst: false);
            Assert.True(result.AlreadyDone);
            Assert.Equal(2, result.Errors);
            Assert.Equal(["one", "two"], result.ErrorMessages);
            Assert.Equal([7], result.CreatedTables);
            Assert.Equal([9], result.InhibitedData);
            Assert.Equal(0L, await ScalarAsync<long>(server, target.Database, "SELECT count(*) FROM public.items"));
        }
    }

    [Fact]
    public async Task TheJournalIsTheLoginRolesAloneAndUnitsRunningAsTheArchivesOwnersStillWriteIt()
    {
        var server = await PostgresServer.GetSharedAsync();
        await server.ExecuteAsync("postgres", "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jf_owner') THEN CREATE ROLE jf_owner; END IF; END $$");
        string source = await server.CreateDatabaseAsync("jf_own_src");
        await server.ExecuteAsync(source, "CREATE TABLE public.items (id integer, name text)");
        await server.ExecuteAsync(source, "ALTER TABLE public.items OWNER TO jf_owner");
        await server.ExecuteAsync(source, "INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 100) g");
        string path = Path.Combine(_directory.FullName, $"{source}.dump");
        (await server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", path, "-d", server.LibpqConnectionString(source)])).EnsureSuccess();
        string database = await server.CreateDatabaseAsync("jf_own_dst");
        await server.ExecuteAsync(database, "CREATE TABLE public.items (id integer, name text)");
        await server.ExecuteAsync(database, "ALTER TABLE public.items OWNER TO jf_owner");

        var target = ConnectionTarget.Resolve(server.LibpqConnectionString(database), null, null, null, new Dictionary<string, string?>());
        var options = new RestoreOptions { UseSetSessionAuthorization = true };
        using var archive = PgArchive.Open(path);
        var journal = RestoreJournal.For(archive, options);
        using var session = new UnitSession(archive, archive.Entries, options, target, journal, _ => { });
        UnitSessions.PrepareJournal(session, journal, path, target);

        // No grants: neither PUBLIC nor the owner the unit runs as may write the journal.
        Assert.False(await ScalarAsync<bool>(server, database, $"SELECT has_table_privilege('public', '{RestoreJournal.Schema}.unit', 'INSERT')"));
        Assert.False(await ScalarAsync<bool>(server, database, $"SELECT has_table_privilege('jf_owner', '{RestoreJournal.Schema}.unit', 'INSERT')"));
        Assert.True(await ScalarAsync<bool>(server, database,
            $"SELECT relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) FROM pg_class WHERE oid = '{RestoreJournal.Schema}.unit'::regclass"));

        // The data unit runs as jf_owner (SET SESSION AUTHORIZATION) and its journal row is still written.
        var data = archive.Entries.Single(e => e.Desc == "TABLE DATA");
        var result = session.RunEntry(data.DumpId, data, truncateFirst: false);
        Assert.False(result.AlreadyDone);
        Assert.Equal(0, result.Errors);
        Assert.Equal(100, result.Rows);
        Assert.Equal(1L, await ScalarAsync<long>(server, database, $"SELECT count(*) FROM {RestoreJournal.Schema}.unit WHERE unit_id = {data.DumpId}"));

        // And so is the next one on the same session, after the switch back and forth.
        var table = archive.Entries.Single(e => e.Desc == "TABLE");
        Assert.Equal(1, session.RunEntry(table.DumpId, table, truncateFirst: false).Errors);
        Assert.Equal(1L, await ScalarAsync<long>(server, database, $"SELECT count(*) FROM {RestoreJournal.Schema}.unit WHERE unit_id = {table.DumpId} AND errors = 1"));
    }

    public void Dispose() => _directory.Delete(recursive: true);

    // A table with data in the source, dumped; in the target the table alone and a prepared journal.
    private async Task<(PostgresServer Server, ConnectionTarget Target, PgArchive Archive, TocEntry Data)> PrepareAsync()
    {
        var server = await PostgresServer.GetSharedAsync();
        string source = await server.CreateDatabaseAsync("jf_src");
        await server.ExecuteAsync(source, "CREATE TABLE public.items (id integer, name text)");
        await server.ExecuteAsync(source, $"INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, {Rows}) g");
        string path = Path.Combine(_directory.FullName, $"{source}.dump");
        (await server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", path, "-d", server.LibpqConnectionString(source)])).EnsureSuccess();
        string database = await server.CreateDatabaseAsync("jf_dst");
        await server.ExecuteAsync(database, "CREATE TABLE public.items (id integer, name text)");

        var target = ConnectionTarget.Resolve(server.LibpqConnectionString(database), null, null, null, new Dictionary<string, string?>());
        var archive = PgArchive.Open(path);
        var journal = RestoreJournal.For(archive, new RestoreOptions());
        using (var setup = UnitSessions.Open(archive, target))
        {
            UnitSessions.PrepareJournal(setup, journal, path, target);
        }

        return (server, target, archive, archive.Entries.Single(e => e.Desc == "TABLE DATA"));
    }

    // The backend of the second copy, once it waits on a lock (the journal row); fails if it never does.
    private static async Task<int> BlockedBackendAsync(PostgresServer server, string database, Task second)
    {
        for (int i = 0; i < 200; i++)
        {
            Assert.False(second.IsCompleted, "the second copy finished without waiting for the first");
            var pid = await ScalarAsync<object?>(server, database,
                $"SELECT pid FROM pg_stat_activity WHERE datname = '{database}' AND wait_event_type = 'Lock' LIMIT 1");
            if (pid is int found)
            {
                return found;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException("the second copy never waited for the first one's journal row");
    }

    // The "first copy" of a unit: a transaction holding the unit's journal row, not yet committed.
    private static async Task<NpgsqlConnection> FirstCopyAsync(PostgresServer server, string database, int unitId)
    {
        var first = await OpenAsync(server, database);
        await ExecAsync(first, "BEGIN");
        await ExecAsync(first, $"INSERT INTO {RestoreJournal.Schema}.unit (job_key, unit_id) VALUES ('restore', {unitId})");
        return first;
    }

    private static async Task<NpgsqlConnection> OpenAsync(PostgresServer server, string database)
    {
        var conn = new NpgsqlConnection(server.ConnectionString(database));
        await conn.OpenAsync();
        return conn;
    }

    private static async Task ExecAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(PostgresServer server, string database, string sql)
    {
        await using var conn = await OpenAsync(server, database);
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}
