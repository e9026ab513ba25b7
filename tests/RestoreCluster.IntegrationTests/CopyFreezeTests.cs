using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// COPY ... WITH (FREEZE) where a unit truncates its table in its own transaction (docs/restore.md, "Session
/// settings of units"): a table of at least 1 MB of archive data is truncated on its first run too and loads
/// frozen; a smaller one is neither truncated nor frozen; --no-copy-freeze loads nothing frozen. The database
/// dumps as pg_restore's either way. Frozen pages are read with pg_visibility after the dumps are compared.
/// </summary>
public sealed class CopyFreezeTests
{
    [Fact]
    public async Task ABigTableLoadsFrozenASmallOneDoesNotAndTheDumpIsPgRestoresWithOrWithoutFreeze()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await ArchiveAsync(server);
        try
        {
            var frozen = await RestoreComparison.RunAsync(server, archive, ["-j", "2"], "freeze", keep: true);
            RestoreComparison.AssertSame(frozen);
            Assert.Equal(FrozenState.All, await FrozenAsync(server, frozen.OurDatabase!, "big"));
            Assert.Equal(FrozenState.None, await FrozenAsync(server, frozen.OurDatabase!, "small"));

            var plain = await RestoreComparison.RunAsync(server, archive, ["-j", "2", "--no-copy-freeze"], "nofreeze", keep: true, referenceOptions: ["-j", "2"]);
            RestoreComparison.AssertSame(plain);
            Assert.Equal(FrozenState.None, await FrozenAsync(server, plain.OurDatabase!, "big"));

            await server.DropDatabaseAsync(frozen.OurDatabase!);
            await server.DropDatabaseAsync(plain.OurDatabase!);
        }
        finally
        {
            File.Delete(archive);
        }
    }

    private enum FrozenState
    {
        None,
        Some,
        All,
    }

    // Every page of the table all-frozen in the visibility map, none, or some.
    private static async Task<FrozenState> FrozenAsync(PostgresServer server, string database, string table)
    {
        await server.ExecuteAsync(database, "CREATE EXTENSION IF NOT EXISTS pg_visibility");
        long pages = await server.ScalarAsync<long>(database, $"SELECT pg_relation_size('public.{table}') / current_setting('block_size')::bigint");
        long frozen = await server.ScalarAsync<long>(database, $"SELECT all_frozen FROM pg_visibility_map_summary('public.{table}')");
        Assert.True(pages > 0, $"{table} has no pages");
        return frozen == 0 ? FrozenState.None : frozen == pages ? FrozenState.All : FrozenState.Some;
    }

    // big: 30,000 rows of about 45 bytes of COPY text (1.3 MB, uncompressed in the archive: -Z0); small: 100 rows.
    private static Task<string> ArchiveAsync(PostgresServer server) => RestoreComparison.UncompressedArchiveAsync(server, "freeze", """
        CREATE TABLE public.big (id integer PRIMARY KEY, v text NOT NULL);
        INSERT INTO public.big SELECT g, md5(g::text) FROM generate_series(1, 30000) g;
        CREATE TABLE public.small (id integer PRIMARY KEY, v text NOT NULL);
        INSERT INTO public.small SELECT g, md5(g::text) FROM generate_series(1, 100) g;
        """);
}
