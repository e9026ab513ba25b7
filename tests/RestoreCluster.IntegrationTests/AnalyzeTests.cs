using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// --analyze (docs/restore.md, "Ready to serve"): after <c>restore --analyze</c> the relations analyzed are exactly
/// those <c>pg_restore</c> followed by <c>vacuumdb --analyze-only</c> analyzes (tables, partitions, materialized views,
/// the catalogs; not a partitioned parent, a view), through the grains and with <c>-1</c>; every table has its
/// reltuples and pg_stats rows; the database dumps as pg_restore's. Without --analyze nothing is analyzed, nor after a
/// job that stopped on its first error (-e).
/// <c>analyze_count</c> counts manual ANALYZEs only: the shared server's autovacuum counts in <c>autoanalyze_count</c>.
/// </summary>
public sealed class AnalyzeTests
{
    // Every relation of the database some ANALYZE ran on, as schema.name, sorted. Shared catalogs (pg_database, ...) are left
    // out: their counts are the server's, which other databases' ANALYZEs raise.
    private const string AnalyzedSql =
        "SELECT coalesce(string_agg(s.schemaname || '.' || s.relname, ',' ORDER BY s.schemaname, s.relname), '') " +
        "FROM pg_stat_all_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.analyze_count > 0 AND NOT c.relisshared";

    [Fact]
    public async Task ARestoreWithAnalyzeAnalyzesWhatVacuumdbAnalyzesAndDumpsAsPgRestores()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await ArchiveAsync(server);
        var databases = new List<string>();
        try
        {
            // pg_restore, then vacuumdb --analyze-only: the set to match.
            string reference = await server.CreateDatabaseAsync("analyze_pg");
            databases.Add(reference);
            (await server.RunToolAsync("pg_restore", ["-j", "2", "-d", reference, archive], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
            string referenceDump = await RestoreComparison.DumpAsync(server, reference);
            Assert.Equal("", await server.ScalarAsync<string>(reference, AnalyzedSql));
            (await server.RunToolAsync("vacuumdb", ["--analyze-only", "-j", "2", "-d", reference], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
            string expected = (await server.ScalarAsync<string>(reference, AnalyzedSql))!;
            Assert.Contains("public.child", expected, StringComparison.Ordinal);
            Assert.Contains("pg_catalog.pg_class", expected, StringComparison.Ordinal);

            foreach (string[] options in new string[][] { ["-j", "2"], ["-1"] })
            {
                string ours = await server.CreateDatabaseAsync("analyze_rc");
                databases.Add(ours);
                var run = await CliRunner.RunAsync(server, ["restore", .. options, "--analyze", "--progress", "none", "-d", ours, archive], timeout: TimeSpan.FromMinutes(2));
                Assert.True(run.ExitCode == 0, $"restore {string.Join(' ', options)} --analyze: exit code {run.ExitCode}\n{run.Stderr}");

                Assert.Equal(expected, await server.ScalarAsync<string>(ours, AnalyzedSql));
                // What the planner reads: row counts for every table and materialized view, and column statistics.
                Assert.Equal(0L, await server.ScalarAsync<long>(ours, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'Odd''s') AND c.relkind IN ('r', 'm') AND c.reltuples < 0"));
                Assert.Equal(20000f, await server.ScalarAsync<float>(ours, "SELECT reltuples FROM pg_class WHERE oid = 'public.parent'::regclass"));
                Assert.Equal(
                    "child,parent,parted_1,parted_2,totals,we\\ird \"t\"",
                    await server.ScalarAsync<string>(ours, "SELECT string_agg(DISTINCT tablename, ',' ORDER BY tablename) FROM pg_stats WHERE schemaname IN ('public', 'Odd''s')"));

                string dump = await RestoreComparison.DumpAsync(server, ours);
                Assert.True(dump == referenceDump, "pg_dump of the two restores differs:\n" + RestoreComparison.FirstDifference(referenceDump, dump));
            }
        }
        finally
        {
            foreach (string db in databases)
            {
                await server.DropDatabaseAsync(db);
            }

            File.Delete(archive);
        }
    }

    [Fact]
    public async Task WithoutAnalyzeNothingIsAnalyzed()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await ArchiveAsync(server);
        string ours = await server.CreateDatabaseAsync("noanalyze_rc");
        try
        {
            (await CliRunner.RunAsync(server, ["restore", "-j", "2", "--progress", "none", "-d", ours, archive], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();

            Assert.Equal("", await server.ScalarAsync<string>(ours, AnalyzedSql));
            // Column statistics of child come only from autovacuum's ANALYZE (autoanalyze_count), which the shared server may
            // run at any time on a table of 5,000 new rows; none may come from ours.
            Assert.Equal(0L, await server.ScalarAsync<long>(ours,
                "SELECT count(*) FROM pg_stats WHERE schemaname = 'public' AND tablename = 'child' " +
                "AND (SELECT autoanalyze_count FROM pg_stat_user_tables WHERE relid = 'public.child'::regclass) = 0"));
        }
        finally
        {
            await server.DropDatabaseAsync(ours);
            File.Delete(archive);
        }
    }

    [Fact]
    public async Task AJobThatStopsOnItsFirstErrorRunsNoFinalAnalyze()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await ArchiveAsync(server);
        string ours = await server.CreateDatabaseAsync("analyze_e_rc");
        try
        {
            // The archive's CREATE TABLE public.empty fails: -e stops the restore there.
            await server.ExecuteAsync(ours, "CREATE TABLE public.empty (id integer)");
            var run = await CliRunner.RunAsync(server, ["restore", "-j", "2", "-e", "--analyze", "--progress", "none", "-d", ours, archive], timeout: TimeSpan.FromMinutes(2));

            Assert.True(run.ExitCode == 1, run.Describe());
            Assert.Contains("relation \"empty\" already exists", run.Stderr, StringComparison.Ordinal);
            Assert.Equal("", await server.ScalarAsync<string>(ours, AnalyzedSql));
            Assert.False(await WorkloadChecks.JournalExistsAsync(server, ours), "the journal is left after the failed restore");
        }
        finally
        {
            await server.DropDatabaseAsync(ours);
            File.Delete(archive);
        }
    }

    // Tables with keys, an index and a foreign key, an empty table, a partitioned table, a materialized view with an
    // index, a view, and a table whose schema and name need quoting in every way (a quote, a backslash, double quotes).
    private static Task<string> ArchiveAsync(PostgresServer server) => RestoreComparison.UncompressedArchiveAsync(server, "analyze", """"
        CREATE TABLE public.parent (id integer PRIMARY KEY, name text NOT NULL);
        INSERT INTO public.parent SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
        CREATE INDEX parent_name ON public.parent (name);
        CREATE TABLE public.child (id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES public.parent, v integer);
        INSERT INTO public.child SELECT g, 1 + g % 20000, g % 10 FROM generate_series(1, 5000) g;
        CREATE TABLE public.empty (id integer);
        CREATE TABLE public.parted (k integer, v text) PARTITION BY RANGE (k);
        CREATE TABLE public.parted_1 PARTITION OF public.parted FOR VALUES FROM (0) TO (100);
        CREATE TABLE public.parted_2 PARTITION OF public.parted FOR VALUES FROM (100) TO (200);
        INSERT INTO public.parted SELECT g, g::text FROM generate_series(0, 199) g;
        CREATE MATERIALIZED VIEW public.totals AS SELECT parent_id, count(*) AS n FROM public.child GROUP BY parent_id;
        CREATE UNIQUE INDEX totals_parent ON public.totals (parent_id);
        CREATE VIEW public.names AS SELECT name FROM public.parent;
        CREATE SCHEMA "Odd's";
        CREATE TABLE "Odd's"."we\ird ""t""" (x integer);
        INSERT INTO "Odd's"."we\ird ""t""" VALUES (1), (2);
        """");
}
