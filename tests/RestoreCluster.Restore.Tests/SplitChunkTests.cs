using RestoreCluster.Archive;
using RestoreCluster.Planning;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// Chunk units of a split table on real sessions: together they load every row once, each counts only its own bytes
/// and rows, none truncates the table (not even when asked to, on a rerun), and a chunk that committed stops at its
/// journal row when it runs again. Which options let a job split at all.
/// </summary>
public sealed class SplitChunkTests : IDisposable
{
    private const int Rows = 2000;
    private const int BlockBytes = 256;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-chunks-");

    // A foreign key's validation and a chunk share one journal: their IDs must never meet (a chunk's row would make the
    // validation "already done" and leave the key NOT VALID). int.MinValue + 72 was both FK 72's validation and chunk 1 of 2
    // of dump ID 1.
    [Fact]
    public void NoValidationJournalIdIsAChunksId()
    {
        Assert.NotEqual(TableSplit.ChunkId(1, 0, 2), UnitSession.ValidationUnitId(72));
        for (int dumpId = 1; dumpId <= 100_000; dumpId++)
        {
            Assert.Null(TableSplit.ChunkOf(UnitSession.ValidationUnitId(dumpId)));
        }
    }

    [Fact]
    public async Task ChunksLoadEveryRowOnceCountTheirOwnBytesAndRowsAndNeverTruncate()
    {
        var server = await PostgresServer.GetSharedAsync();
        string source = await server.CreateDatabaseAsync("ch_src");
        const string Tables = "CREATE TABLE public.items (id integer, name text); CREATE TABLE public.whole (id integer, name text)";
        await server.ExecuteAsync(source, Tables);
        await server.ExecuteAsync(source, $"INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, {Rows}) g");
        await server.ExecuteAsync(source, "INSERT INTO public.whole SELECT * FROM public.items");
        string path = Path.Combine(_directory.FullName, $"{source}.dump");
        (await server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", path, "-d", server.LibpqConnectionString(source)])).EnsureSuccess();
        string database = await server.CreateDatabaseAsync("ch_dst");
        await server.ExecuteAsync(database, Tables);
        // A row that was there before: a TRUNCATE would take it away.
        await server.ExecuteAsync(database, "INSERT INTO public.items VALUES (-1, 'before')");
        long file = await server.ScalarAsync<long>(database, "SELECT pg_catalog.pg_relation_filenode('public.items')::bigint");

        var target = ConnectionTarget.Resolve(server.LibpqConnectionString(database), null, null, null, new Dictionary<string, string?>());
        using var archive = PgArchive.Open(path);
        using var session = UnitSessions.Open(archive, target);
        UnitSessions.PrepareJournal(session, RestoreJournal.For(archive, new RestoreOptions()), path, target);
        var items = archive.Entries.Single(e => e.Desc == "TABLE DATA" && e.Tag == "items");
        var whole = archive.Entries.Single(e => e.Desc == "TABLE DATA" && e.Tag == "whole");

        // Asked to truncate as a rerun would be: a chunk never does.
        var results = Enumerable.Range(0, 3).Select(i => Assert.Single(session.RunBatch([Chunk(items, i, 3)], _ => { }))).ToList();
        var one = Assert.Single(session.RunBatch([new UnitWork(whole.DumpId, whole, UnitWorkKind.Entry, TruncateFirst: false)], _ => { }));

        Assert.All(results, r => Assert.True(r.Rows > Rows / 5, $"chunk {r.UnitId}: {r.Rows} rows"));
        Assert.Equal(Rows, results.Sum(r => r.Rows));
        // The chunks send the table's rows once: one whole load's bytes, but pg_dump's end line and the blank lines
        // after it (5 bytes here), which a whole load counts as read and no chunk keeps.
        Assert.InRange(results.Sum(r => r.Bytes), one.Bytes - 8, one.Bytes - 1);
        Assert.Equal(Rows + 1, await server.ScalarAsync<long>(database, "SELECT count(*) FROM public.items"));
        Assert.Equal(Rows + 1, await server.ScalarAsync<long>(database, "SELECT count(DISTINCT id) FROM public.items"));
        Assert.Equal(file, await server.ScalarAsync<long>(database, "SELECT pg_catalog.pg_relation_filenode('public.items')::bigint"));

        // Run again, a committed chunk stops at its journal row.
        var again = Assert.Single(session.RunBatch([Chunk(items, 1, 3)], _ => { }));
        Assert.True(again.AlreadyDone);
        Assert.Equal(Rows + 1, await server.ScalarAsync<long>(database, "SELECT count(*) FROM public.items"));
    }

    [Fact]
    public void AJobSplitsOnlyWithSeveralSlotsAndNoneOfTheOptionsThatRuleItOut()
    {
        var options = new RestoreOptions { SplitLargerThan = 4096 };
        Assert.Equal(new TableSplit(4096, 2), options.SplitFor(2));
        Assert.Equal(new TableSplit(4096, TableSplit.ChunkCap), options.SplitFor(32));
        Assert.Equal(new TableSplit(RestoreOptions.DefaultSplitLargerThan, 4), new RestoreOptions().SplitFor(4));
        Assert.False(options.SplitFor(1).IsOn);
        Assert.False((options with { SingleTransaction = true }).SplitFor(4).IsOn);
        Assert.False((options with { DisableTriggers = true }).SplitFor(4).IsOn);
        Assert.False((options with { SampleDataBytes = 1000 }).SplitFor(4).IsOn);
        Assert.False((options with { SplitLargerThan = 0 }).SplitFor(4).IsOn);
        // Fingerprinted through the chunks it cuts (RestoreJournal.For), not as a number.
        Assert.Equal(RestoreOptionsJson.Fingerprint(options), RestoreOptionsJson.Fingerprint(new RestoreOptions()));
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private static UnitWork Chunk(TocEntry data, int index, int count) =>
        new UnitWork(TableSplit.ChunkId(data.DumpId, index, count), data, UnitWorkKind.Entry, TruncateFirst: true)
        {
            FirstRun = false,
            Chunk = new TableChunk(data.DumpId, index, count),
            ChunkBlockBytes = BlockBytes,
        };
}
