using System.Globalization;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Pre-data in parallel (docs/concurrency.md, "The ordering", item 1): an archive of 40 small tables in a row (a
/// pre-data group at -j 2 and -j 3) among a view, a sequence OWNED BY, a serial column, inheritance, a partitioned
/// table and comments restores to pg_restore's database with pg_restore's -v lines (sorted). Which session creates
/// each table is seen by an event trigger in the target (<see cref="Recorder"/>: it records the backend of each CREATE
/// TABLE, and the CREATE TABLE of t01 waits on an advisory lock while the test holds it), dropped before the dump:
/// while t01's batch waits, another session commits tables of the group; killed there, the restore resumes to
/// pg_restore's database. --serial-pre-data creates every table on one session. A table of a group that exists
/// already counts one error, as pg_restore's, and --no-data-for-failed-tables leaves its data out as pg_restore's;
/// with -e (no groups) the restore stops there, without the tables after it, as pg_restore's.
/// </summary>
public sealed class PreDataGroupRestoreTests(ITestOutputHelper output)
{
    private const int Tables = 40;

    private static readonly Lazy<Task<string>> Archive = new(MakeArchiveAsync);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ManyTablesRestoredInGroupsDumpAsPgRestoresAndPrintItsVerboseLines(int jobs)
    {
        var server = await PostgresServer.GetSharedAsync();
        string j = jobs.ToString(CultureInfo.InvariantCulture);

        var o = await RestoreComparison.RunAsync(server, await Archive.Value, ["-j", j, "-v"], $"predata{jobs}");

        RestoreComparison.AssertSame(o);
        Assert.Equal(0, o.Ours.ExitCode);
        var expected = VerboseLines.SortedOfParallelPgRestore(o.Reference.Stderr);
        Assert.Contains("processing item", string.Join('\n', expected), StringComparison.Ordinal);
        VerboseLines.AssertSame(expected, VerboseLines.SortedOfOurs(o.Ours.Stderr), $"-v -j {jobs}, sorted");
        // A group's tables are the leader's serial entries in pg_restore: "processing item", never "launching item".
        Assert.DoesNotMatch(@"launching item \d+ TABLE t\d\d\b", o.Ours.Stderr);
        Assert.Matches(@"processing item \d+ TABLE t01\b", o.Ours.Stderr);
    }

    [Fact]
    public async Task AGroupRunsOnSeveralSessionsAndARestoreKilledInItResumesToPgRestoresDatabase()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await Archive.Value;
        var (target, reference) = await PrepareAsync(server, archive, "predata_kill");
        try
        {
            string[] restore = ["restore", "-j", "2", "-d", target, archive];
            await using (var gate = await WorkloadChecks.OpenAsync(server, target))
            {
                await ExecAsync(gate, "SELECT pg_catalog.pg_advisory_lock(4242, 13)");
                using var cli = RunningCli.Start(server, restore);
                int held = 0;
                await WorkloadChecks.WaitUntilAsync(
                    async () =>
                    {
                        Assert.False(cli.Process.HasExited, "the restore ended while t01's CREATE TABLE was held");
                        held = await WaitingOnTheGateAsync(gate, target);
                        // Tables of the group committed by a session other than the one whose batch waits in t01.
                        return held != 0 && await ScalarAsync(gate, $"SELECT count(*) FROM public.rc_created WHERE relation ~ '^public\\.t[0-9]+$' AND pid <> {held}") > 0;
                    },
                    TimeSpan.FromSeconds(60),
                    () => "t01's CREATE TABLE waiting while another session commits tables of its group");
                await WorkloadChecks.KillAsync(cli, gate, target);
                await ExecAsync(gate, "SELECT pg_catalog.pg_advisory_unlock(4242, 13)");
                Assert.Equal(0, await ScalarAsync(gate, "SELECT count(*) FROM pg_catalog.pg_class WHERE oid = to_regclass('public.t01')"));
                Assert.True(await WorkloadChecks.JournalExistsAsync(server, target), "no journal after the kill");
            }

            var resumed = await CliRunner.RunAsync(server, [.. restore, "--resume"], timeout: TimeSpan.FromMinutes(2));
            output.WriteLine(resumed.Describe());
            Assert.True(resumed.ExitCode == 0, resumed.Describe());
            Assert.DoesNotContain("errors ignored", resumed.Stderr, StringComparison.Ordinal);
            await AssertSameDumpAsync(server, target, reference);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
            await server.DropDatabaseAsync(reference);
        }
    }

    [Fact]
    public async Task WithSerialPreDataEveryTableIsCreatedOnOneSession()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await Archive.Value;
        var (target, reference) = await PrepareAsync(server, archive, "predata_serial");
        try
        {
            var run = await CliRunner.RunAsync(server, ["restore", "-j", "2", "--serial-pre-data", "-d", target, archive], timeout: TimeSpan.FromMinutes(2));

            Assert.True(run.ExitCode == 0, run.Describe());
            Assert.Equal(Tables, await server.ScalarAsync<long>(target, "SELECT count(*) FROM public.rc_created WHERE relation ~ '^public\\.t[0-9]+$'"));
            Assert.Equal(1, await server.ScalarAsync<long>(target, "SELECT count(DISTINCT pid) FROM public.rc_created"));
            await AssertSameDumpAsync(server, target, reference);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
            await server.DropDatabaseAsync(reference);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("--no-data-for-failed-tables")]
    [InlineData("-e")]
    public async Task ATableOfAGroupThatExistsAlreadyCountsOneErrorAndLeavesPgRestoresDatabase(string? option)
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await Archive.Value;
        string[] options = option is null ? ["-j", "2"] : ["-j", "2", option];
        string target = await server.CreateDatabaseAsync("predata_fail");
        string reference = await server.CreateDatabaseAsync("predata_fail_pg");
        try
        {
            // t07 is there, without its key (which the archive's CONSTRAINT adds) and without rows.
            const string existing = "CREATE TABLE public.t07 (id integer NOT NULL, v text NOT NULL)";
            await server.ExecuteAsync(target, existing);
            await server.ExecuteAsync(reference, existing);

            var theirs = await server.RunToolAsync("pg_restore", [.. options, "-d", reference, archive], timeout: TimeSpan.FromMinutes(2));
            var ours = await CliRunner.RunAsync(server, ["restore", .. options, "-d", target, archive], timeout: TimeSpan.FromMinutes(2));

            output.WriteLine(ours.Describe());
            Assert.Equal(1, theirs.ExitCode);
            Assert.True(ours.ExitCode == 1, ours.Describe());
            if (option != "-e")
            {
                Assert.Contains("errors ignored on restore: 1", theirs.Stderr, StringComparison.Ordinal);
                Assert.Contains("restorecluster: warning: errors ignored on restore: 1", ours.Stderr, StringComparison.Ordinal);
            }

            Assert.Contains("relation \"t07\" already exists", ours.Stderr, StringComparison.Ordinal);
            long rows = option is null ? 5 : 0;
            Assert.Equal(rows, await server.ScalarAsync<long>(reference, "SELECT count(*) FROM public.t07"));
            Assert.Equal(rows, await server.ScalarAsync<long>(target, "SELECT count(*) FROM public.t07"));
            string expected = await RestoreComparison.DumpAsync(server, reference);
            string actual = await RestoreComparison.DumpAsync(server, target);
            Assert.True(expected == actual, RestoreComparison.FirstDifference(expected, actual));
        }
        finally
        {
            await server.DropDatabaseAsync(target);
            await server.DropDatabaseAsync(reference);
        }
    }

    // In the target before the restore: each CREATE TABLE records its backend in public.rc_created (in the unit's
    // transaction: only committed units' rows stay), and t01's waits on the advisory lock (4242, 13) while the test
    // holds it. Everything qualified: the restore's sessions run with an empty search_path.
    private const string Recorder = """
        CREATE TABLE public.rc_created (pid integer NOT NULL, relation text NOT NULL);
        CREATE FUNCTION public.rc_record() RETURNS event_trigger LANGUAGE plpgsql AS $$
        DECLARE
            c record;
        BEGIN
            FOR c IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' LOOP
                INSERT INTO public.rc_created VALUES (pg_catalog.pg_backend_pid(), c.object_identity);
                IF c.object_identity = 'public.t01' THEN
                    PERFORM pg_catalog.pg_advisory_xact_lock_shared(4242, 13);
                END IF;
            END LOOP;
        END $$;
        CREATE EVENT TRIGGER rc_record ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.rc_record();
        """;

    // A target with the recorder, and pg_restore -j 2's database to compare it with.
    private static async Task<(string Target, string Reference)> PrepareAsync(PostgresServer server, string archive, string prefix)
    {
        string target = await server.CreateDatabaseAsync(prefix);
        string reference = await server.CreateDatabaseAsync(prefix + "_pg");
        (await server.RunToolAsync("pg_restore", ["-j", "2", "-d", reference, archive], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
        await server.ExecuteAsync(target, Recorder);
        return (target, reference);
    }

    private static async Task AssertSameDumpAsync(PostgresServer server, string target, string reference)
    {
        await server.ExecuteAsync(target, "DROP EVENT TRIGGER rc_record; DROP FUNCTION public.rc_record(); DROP TABLE public.rc_created");
        string expected = await RestoreComparison.DumpAsync(server, reference);
        string actual = await RestoreComparison.DumpAsync(server, target);
        Assert.True(expected == actual, RestoreComparison.FirstDifference(expected, actual));
    }

    // The backend of the restore's session that waits on the gate's advisory lock; 0 when none does.
    private static async Task<int> WaitingOnTheGateAsync(NpgsqlConnection conn, string database)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT coalesce(min(pid), 0) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND application_name = $2 AND wait_event_type = 'Lock' AND wait_event = 'advisory'", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = database });
        cmd.Parameters.Add(new NpgsqlParameter { Value = WorkloadChecks.ApplicationName });
        return (int)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task ExecAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    // 40 tables t01..t40 of 5 rows with a key (a run of plain tables in pg_dump's order), a view, a sequence owned by a
    // column, a serial column, an inheritance child, a partitioned table with two partitions, and comments.
    private static async Task<string> MakeArchiveAsync()
    {
        var server = await PostgresServer.GetSharedAsync();
        string directory = Directory.CreateTempSubdirectory("rc-predata-").FullName;
        var sql = new System.Text.StringBuilder();
        for (int t = 1; t <= Tables; t++)
        {
            string name = $"t{t:00}";
            sql.Append(CultureInfo.InvariantCulture, $"CREATE TABLE public.{name} (id integer PRIMARY KEY, v text NOT NULL);\n");
            sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO public.{name} SELECT g, md5('{name}' || g) FROM generate_series(1, 5) g;\n");
        }

        sql.Append("""
            COMMENT ON TABLE public.t05 IS 'the fifth';
            COMMENT ON COLUMN public.t30.v IS 'a value';
            CREATE VIEW public.v12 AS SELECT id, v FROM public.t12;
            CREATE SEQUENCE public.counter OWNED BY public.t20.id;
            SELECT pg_catalog.setval('public.counter', 17);
            CREATE TABLE public.serials (id serial PRIMARY KEY, v text);
            INSERT INTO public.serials (v) VALUES ('a'), ('b');
            CREATE TABLE public.parent (id integer, v text);
            CREATE TABLE public.child (extra integer) INHERITS (public.parent);
            INSERT INTO public.child VALUES (1, 'c', 2);
            CREATE TABLE public.parts (id integer, k integer) PARTITION BY RANGE (k);
            CREATE TABLE public.parts_low PARTITION OF public.parts FOR VALUES FROM (0) TO (10);
            CREATE TABLE public.parts_high PARTITION OF public.parts FOR VALUES FROM (10) TO (20);
            INSERT INTO public.parts VALUES (1, 5), (2, 15);
            COMMENT ON TABLE public.parts IS 'partitioned';
            """);
        return await RestoreComparison.MakeArchiveAsync(server, directory, "predata_source", db => server.ExecuteAsync(db, sql.ToString()));
    }
}
