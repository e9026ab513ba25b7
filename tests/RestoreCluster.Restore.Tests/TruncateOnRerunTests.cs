using Npgsql;
using RestoreCluster.Archive;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// The TRUNCATE before the data of a table the run created: left out on the unit's first run (nothing can be
/// in the table yet, and the TRUNCATE only costs a new file), kept whenever the run may follow another that
/// rolled back rows into the table, so the rows loaded again sit where pg_restore puts them. Real sessions on
/// a real server; a table's file changes name (relfilenode) when it is truncated.
/// </summary>
public sealed class TruncateOnRerunTests : IDisposable
{
    private const int Rows = 50;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-truncate-");

    [Fact]
    public async Task AFirstRunLoadsWithoutTruncatingAndALaterRunTruncatesFirst()
    {
        var (server, target, archive) = await PrepareAsync();
        using (archive)
        {
            Assert.NotEqual("minimal", await server.ScalarAsync<string>(target.Database, "SHOW wal_level"));
            var items = Data(archive, "items");
            using var session = UnitSessions.Open(archive, target);

            var first = session.RunBatch([Work(items, firstRun: true)], _ => { });
            Assert.Equal(Rows, Assert.Single(first).Rows);
            Assert.False(await TruncatedAsync(server, target.Database, "items"));

            // Another table, loaded as a unit that may have run before (a later lease, --resume): truncated.
            var other = Data(archive, "other");
            session.RunBatch([Work(other, firstRun: false)], _ => { });
            Assert.True(await TruncatedAsync(server, target.Database, "other"));
            Assert.Equal((long)Rows, await server.ScalarAsync<long>(target.Database, "SELECT count(*) FROM public.other"));
        }
    }

    [Fact]
    public async Task AUnitRunAgainAfterItsBatchFailedIsTruncatedAndItsRowsStartTheTable()
    {
        var (server, target, archive) = await PrepareAsync();
        using (archive)
        {
            // The batch's second unit fails (no row passes the target's check): the batch rolls back, leaving
            // the first unit's rows behind as dead tuples, and each unit runs again in its own transaction.
            await server.ExecuteAsync(target.Database, "ALTER TABLE public.other ADD CHECK (id < 0)");
            using var session = UnitSessions.Open(archive, target);
            var results = session.RunBatch([Work(Data(archive, "items"), firstRun: true), Work(Data(archive, "other"), firstRun: true)], _ => { });

            Assert.Equal([0, 1], results.Select(r => r.Errors));
            // Rolled back twice: the batch, then the failing unit alone before its careful run.
            Assert.Equal(2, session.CarefulReruns);
            Assert.True(await TruncatedAsync(server, target.Database, "items"));
            // Loaded beside the dead rows, the first row would sit after them: (0,51).
            Assert.Equal("(0,1)", await server.ScalarAsync<string>(target.Database, "SELECT ctid::text FROM public.items WHERE id = 1"));
            Assert.Equal((long)Rows, await server.ScalarAsync<long>(target.Database, "SELECT count(*) FROM public.items"));
        }
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private static UnitWork Work(TocEntry data, bool firstRun) =>
        new UnitWork(data.DumpId, data, UnitWorkKind.Entry, TruncateFirst: true) { FirstRun = firstRun };

    private static TocEntry Data(PgArchive archive, string table) =>
        archive.Entries.Single(e => e.Desc == "TABLE DATA" && e.Tag == table);

    // A table keeps the file named by its OID until something gives it a new one (TRUNCATE does).
    private static Task<bool> TruncatedAsync(PostgresServer server, string database, string table) =>
        server.ScalarAsync<bool>(database, $"SELECT pg_catalog.pg_relation_filenode('public.{table}'::regclass) <> 'public.{table}'::regclass::oid");

    // Two tables with data in the source, dumped; in the target the tables alone and a prepared journal.
    private async Task<(PostgresServer Server, ConnectionTarget Target, PgArchive Archive)> PrepareAsync()
    {
        var server = await PostgresServer.GetSharedAsync();
        string source = await server.CreateDatabaseAsync("tr_src");
        const string Tables = "CREATE TABLE public.items (id integer, name text); CREATE TABLE public.other (id integer, name text)";
        await server.ExecuteAsync(source, Tables);
        await server.ExecuteAsync(source, $"INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, {Rows}) g");
        await server.ExecuteAsync(source, $"INSERT INTO public.other SELECT g, 'other ' || g FROM generate_series(1, {Rows}) g");
        string path = Path.Combine(_directory.FullName, $"{source}.dump");
        (await server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", path, "-d", server.LibpqConnectionString(source)])).EnsureSuccess();
        string database = await server.CreateDatabaseAsync("tr_dst");
        await server.ExecuteAsync(database, Tables);

        var target = ConnectionTarget.Resolve(server.LibpqConnectionString(database), null, null, null, new Dictionary<string, string?>());
        var archive = PgArchive.Open(path);
        using (var setup = UnitSessions.Open(archive, target))
        {
            UnitSessions.PrepareJournal(setup, RestoreJournal.For(archive, new RestoreOptions()), path, target);
        }

        return (server, target, archive);
    }
}
