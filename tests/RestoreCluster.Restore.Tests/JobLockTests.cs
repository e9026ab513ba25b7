using RestoreCluster.Archive;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// The job lock from the side of the run it protects: a --resume may take a journal over only while no
/// session of its run is left, and a run whose journal was taken over (or dropped) in such a moment stops at
/// its next session, before its unit touches anything. Real sessions on a real server.
/// </summary>
public sealed class JobLockTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-job-lock-");

    [Fact]
    public async Task AResumeIsRefusedWhileASessionOfTheRunIsOpenAndTakesOverOnceNoneIs()
    {
        var (server, target, archive, path, data) = await PrepareAsync();
        using (archive)
        {
            var journal = RestoreJournal.For(archive, new RestoreOptions());
            using (var first = UnitSessions.Open(archive, target, journalRun: null))
            {
                UnitSessions.PrepareJournal(first, journal, path, target, "run-1", resume: false);
                using var resume = UnitSessions.Open(archive, target, journalRun: null);
                var refused = Assert.Throws<RestoreFailedException>(() => UnitSessions.PrepareJournal(resume, journal, path, target, "run-2", resume: true));
                Assert.StartsWith($"a restore of {path} into {target} is still running (started ", refused.Message, StringComparison.Ordinal);
                Assert.Contains($", pid {Environment.ProcessId} on host {Environment.MachineName}); wait for it to end, or stop it, before --resume", refused.Message, StringComparison.Ordinal);
                Assert.Equal("run-1", await server.ScalarAsync<string>(target.Database, $"SELECT run_id FROM {RestoreJournal.Schema}.job"));
            }

            // run-1's session is gone (it ended, or was killed): the lock went with it.
            using var taker = UnitSessions.Open(archive, target, journalRun: null);
            UnitSessions.PrepareJournal(taker, journal, path, target, "run-2", resume: true);
            Assert.Equal("run-2", await server.ScalarAsync<string>(target.Database, $"SELECT run_id FROM {RestoreJournal.Schema}.job"));

            // run-1 comes back with a new session (its reconnect): it stops before the unit runs.
            using var late = UnitSessions.Open(archive, target, journalRun: "run-1");
            var stopped = Assert.Throws<RestoreFailedException>(() => late.RunEntry(data.DumpId, data, truncateFirst: false));
            Assert.StartsWith($"another run took over the journal in {target}: a restore of {path} into {target} is still running (started ", stopped.Message, StringComparison.Ordinal);
            Assert.EndsWith("; this restore stops", stopped.Message, StringComparison.Ordinal);
            Assert.Equal(0L, await server.ScalarAsync<long>(target.Database, "SELECT count(*) FROM public.items"));
            Assert.Equal(0L, await server.ScalarAsync<long>(target.Database, $"SELECT count(*) FROM {RestoreJournal.Schema}.unit"));

            // The owner's own sessions join and run.
            using var owner = UnitSessions.Open(archive, target, journalRun: "run-2");
            Assert.Equal(100, owner.RunEntry(data.DumpId, data, truncateFirst: false).Rows);
        }
    }

    [Fact]
    public async Task ARunWhoseJournalWasDroppedStopsAtItsNextSession()
    {
        var (server, target, archive, path, data) = await PrepareAsync();
        using (archive)
        {
            var journal = RestoreJournal.For(archive, new RestoreOptions());
            using (var first = UnitSessions.Open(archive, target, journalRun: null))
            {
                UnitSessions.PrepareJournal(first, journal, path, target, "run-1", resume: false);
            }

            await server.ExecuteAsync(target.Database, $"DROP SCHEMA {RestoreJournal.Schema} CASCADE");
            using var late = UnitSessions.Open(archive, target, journalRun: "run-1");
            var stopped = Assert.Throws<RestoreFailedException>(() => late.RunEntry(data.DumpId, data, truncateFirst: false));
            Assert.Equal($"the journal in {target} (schema {RestoreJournal.Schema}) is gone: it was dropped while this restore ran", stopped.Message);
            Assert.Equal(0L, await server.ScalarAsync<long>(target.Database, "SELECT count(*) FROM public.items"));
        }
    }

    public void Dispose() => _directory.Delete(recursive: true);

    // A table with 100 rows in the source, dumped; in the target the table alone.
    private async Task<(PostgresServer Server, ConnectionTarget Target, PgArchive Archive, string Path, TocEntry Data)> PrepareAsync()
    {
        var server = await PostgresServer.GetSharedAsync();
        string source = await server.CreateDatabaseAsync("jl_src");
        await server.ExecuteAsync(source, "CREATE TABLE public.items (id integer, name text)");
        await server.ExecuteAsync(source, "INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 100) g");
        string path = Path.Combine(_directory.FullName, $"{source}.dump");
        (await server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", path, "-d", server.LibpqConnectionString(source)])).EnsureSuccess();
        await server.DropDatabaseAsync(source);
        string database = await server.CreateDatabaseAsync("jl_dst");
        await server.ExecuteAsync(database, "CREATE TABLE public.items (id integer, name text)");
        var target = ConnectionTarget.Resolve(server.LibpqConnectionString(database), null, null, null, new Dictionary<string, string?>());
        var archive = PgArchive.Open(path);
        return (server, target, archive, path, archive.Entries.Single(e => e.Desc == "TABLE DATA"));
    }
}
