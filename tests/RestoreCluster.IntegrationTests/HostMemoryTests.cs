using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// --host-memory (docs/restore.md, "Session settings of units"): units that build an index (CREATE INDEX, a primary
/// key) run with maintenance_work_mem = SIZE / host budget and max_parallel_maintenance_workers = the budget's room
/// when they were leased; nothing outlives them (a foreign key after them, on the same session, has the server's
/// settings); without --host-memory every unit has the server's. An event trigger in the target records, for each
/// DDL statement of the restore, the statement and the two settings it ran with; it is dropped before pg_dump
/// compares the database with pg_restore's.
/// </summary>
public sealed class HostMemoryTests
{
    [Fact]
    public async Task IndexBuildsRunWithTheirShareAndNothingLeaksToTheNextUnit()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await ArchiveAsync(server);
        string reference = await server.CreateDatabaseAsync("hostmem_pg");
        var ours = new List<string>();
        try
        {
            (await server.RunToolAsync("pg_restore", ["-d", reference, archive], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
            string referenceDump = await RestoreComparison.DumpAsync(server, reference);
            string defaults = (await server.ScalarAsync<string>(reference, "SELECT current_setting('maintenance_work_mem') || ' ' || current_setting('max_parallel_maintenance_workers')"))!;
            Assert.NotEqual("100MB 3", defaults);

            // One slot, a budget of 4: each index build is leased alone, with 3 sessions of room, and gets 400 MB / 4.
            var seen = await RestoreWithProbeAsync(server, archive, ["-j", "1", "--host-budget", "4", "--host-memory", "400MB"], ours, referenceDump);
            Assert.Equal(5, seen.Count(s => s.Builds));
            Assert.All(seen.Where(s => s.Builds), s => Assert.True(s.Settings == "100MB 3", $"{s.Settings} for {s.Query}"));
            Assert.Contains(seen, s => s.Query.Contains("FOREIGN KEY", StringComparison.Ordinal));
            Assert.All(seen.Where(s => !s.Builds), s => Assert.True(s.Settings == defaults, $"{s.Settings} for {s.Query}"));

            // Without --host-memory, the server's settings everywhere.
            var plain = await RestoreWithProbeAsync(server, archive, ["-j", "1", "--host-budget", "4"], ours, referenceDump);
            Assert.Equal(5, plain.Count(s => s.Builds));
            Assert.All(plain, s => Assert.True(s.Settings == defaults, $"{s.Settings} for {s.Query}"));
        }
        finally
        {
            await server.DropDatabaseAsync(reference);
            foreach (string db in ours)
            {
                await server.DropDatabaseAsync(db);
            }

            File.Delete(archive);
        }
    }

    private sealed record Seen(string Query, string Settings)
    {
        // The archive's index builds (not the journal's CREATE TABLE): its CREATE INDEX, and its two primary keys, each
        // built as CREATE UNIQUE INDEX and attached with ADD CONSTRAINT ... PRIMARY KEY USING INDEX in one unit (restore.md,
        // "Keys and foreign keys").
        public bool Builds => Query.Contains("CREATE INDEX", StringComparison.Ordinal)
            || Query.Contains("CREATE UNIQUE INDEX", StringComparison.Ordinal)
            || (Query.Contains("ADD CONSTRAINT", StringComparison.Ordinal) && Query.Contains("PRIMARY KEY", StringComparison.Ordinal));
    }

    // Restores into a new database that holds the probe, reads what it saw, drops it and compares the dump.
    private static async Task<List<Seen>> RestoreWithProbeAsync(PostgresServer server, string archive, string[] options, List<string> databases, string referenceDump)
    {
        string db = await server.CreateDatabaseAsync("hostmem_rc");
        databases.Add(db);
        await server.ExecuteAsync(db, """
            CREATE SCHEMA probe;
            CREATE TABLE probe.seen (n serial, query text, settings text);
            CREATE FUNCTION probe.note() RETURNS event_trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO probe.seen (query, settings)
                VALUES (pg_catalog.current_query(), pg_catalog.current_setting('maintenance_work_mem') || ' ' || pg_catalog.current_setting('max_parallel_maintenance_workers'));
            END $$;
            CREATE EVENT TRIGGER probe_note ON ddl_command_end EXECUTE FUNCTION probe.note();
            """);
        var run = await CliRunner.RunAsync(server, ["restore", .. options, "--progress", "none", "-d", db, archive], timeout: TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode == 0, $"restore {string.Join(' ', options)}: exit code {run.ExitCode}\n{run.Stderr}");

        string rows = (await server.ScalarAsync<string>(db, "SELECT string_agg(settings || E'\\t' || replace(query, E'\\n', ' '), E'\\n' ORDER BY n) FROM probe.seen"))!;
        await server.ExecuteAsync(db, "DROP EVENT TRIGGER probe_note; DROP SCHEMA probe CASCADE;");
        string dump = await RestoreComparison.DumpAsync(server, db);
        Assert.True(dump == referenceDump, "pg_dump of the two restores differs:\n" + RestoreComparison.FirstDifference(referenceDump, dump));
        return rows.Split('\n').Select(r => r.Split('\t', 2)).Select(r => new Seen(r[1], r[0])).ToList();
    }

    // Two tables of about 800 kB of archive data each (-Z0), so that each index build is a unit of its own (bigger
    // than a batch's small units): parent's primary key and an index on name, child's primary key, child's foreign key.
    private static Task<string> ArchiveAsync(PostgresServer server) => RestoreComparison.UncompressedArchiveAsync(server, "hostmem", """
        CREATE TABLE public.parent (id integer PRIMARY KEY, name text NOT NULL);
        INSERT INTO public.parent SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
        CREATE INDEX parent_name ON public.parent (name);
        CREATE TABLE public.child (id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES public.parent, note text);
        INSERT INTO public.child SELECT g, 1 + g % 20000, md5(g::text) FROM generate_series(1, 20000) g;
        """);
}
