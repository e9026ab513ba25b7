using System.Globalization;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Split big TABLE DATA (docs/restore.md): with a threshold of a few kB, a table of about 60 kB of archive data loads
/// as one chunk unit per slot (-j 2, -j 3), the table below the threshold as one unit, and the databases dump as
/// pg_restore's (the split table's rows compared as sets: they may sit in another order). -1 splits nothing. A
/// restore killed while one chunk hangs, after the others committed, resumes without truncating the committed chunks
/// and without duplicates; a --resume whose -j would cut the table into other chunks is refused. A COPY that fails
/// in one chunk or in all of them leaves what pg_restore's failed COPY leaves (none of the table's rows, one error),
/// also after a kill and --resume; a data-only restore into a table with rows of its own loads it as one COPY.
/// </summary>
public sealed class SplitTableDataTests(ITestOutputHelper output)
{
    private const int Rows = 3000;
    private const string Threshold = "4kB";

    // TableSplit's block: 1/16 of the threshold.
    private const int BlockBytes = 4096 / 16;

    private static readonly string[] SplitTables = ["public.big"];

    private static readonly Lazy<Task<string>> Archive = new(MakeArchiveAsync);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ATableAboveTheThresholdLoadsInOneChunkPerSlotAndTheDatabaseIsPgRestoresRowOrderAside(int jobs)
    {
        var server = await PostgresServer.GetSharedAsync();
        string j = jobs.ToString(CultureInfo.InvariantCulture);
        var o = await RestoreComparison.RunAsync(
            server, await Archive.Value, ["-j", j, "-v", "--split-larger-than", Threshold], $"split{jobs}", referenceOptions: ["-j", j, "-v"]);

        RestoreComparison.AssertSame(SplitDumps.Sorted(o, SplitTables));
        // Each chunk names the data it processes; the small table, below the threshold, is one unit.
        Assert.Equal(jobs, Count(o.Ours.Stderr, "processing data for table \"public.big\""));
        Assert.Equal(1, Count(o.Ours.Stderr, "processing data for table \"public.small\""));
    }

    [Fact]
    public async Task ASingleTransactionRestoreSplitsNothingAndDumpsExactlyAsPgRestores()
    {
        var server = await PostgresServer.GetSharedAsync();
        var o = await RestoreComparison.RunAsync(
            server, await Archive.Value, ["-1", "-v", "--split-larger-than", Threshold], "split1", referenceOptions: ["-1", "-v"]);

        RestoreComparison.AssertSame(o);
        Assert.Equal(1, Count(o.Ours.Stderr, "processing data for table \"public.big\""));
    }

    [Fact]
    public async Task ARestoreKilledWhileAChunkHangsResumesTheOtherChunksRowsStayAndNoneIsTwice()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await Archive.Value;
        // The first row of the second chunk (of 3) hangs in the table's CHECK while the target says so.
        int held = Enumerable.Range(1, Rows).First(id => ChunkOf(id, 3) == 1);
        long committed = Enumerable.Range(1, Rows).Count(id => ChunkOf(id, 3) != 1);
        string target = await server.CreateDatabaseAsync("split_resume");
        string reference = await server.CreateDatabaseAsync("split_resume_pg");
        try
        {
            await server.ExecuteAsync("postgres", $"ALTER DATABASE {target} SET rc_split.hold = '{held}'");
            (await server.RunToolAsync("pg_restore", ["-j", "3", "-d", reference, archive], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
            string[] restore = ["restore", "-j", "3", "--split-larger-than", Threshold, "-d", target, archive];
            using (var cli = RunningCli.Start(server, restore))
            {
                await using var monitor = await WorkloadChecks.OpenAsync(server, "postgres");
                await WorkloadChecks.WaitUntilAsync(
                    async () =>
                    {
                        Assert.False(cli.Process.HasExited, "the restore ended before its held chunk hung");
                        return await HangingAsync(monitor, target) && await ChunksJournaledAsync(server, target) == 2;
                    },
                    TimeSpan.FromSeconds(60),
                    () => "two chunks committed and the third hanging");
                await WorkloadChecks.KillAsync(cli, monitor, target);
            }

            await server.ExecuteAsync("postgres", $"ALTER DATABASE {target} RESET rc_split.hold");
            Assert.Equal(committed, await server.ScalarAsync<long>(target, "SELECT count(*) FROM public.big"));
            long fileBefore = await server.ScalarAsync<long>(target, "SELECT pg_catalog.pg_relation_filenode('public.big')::bigint");

            // -j 2 would cut the table into 2 chunks, not the 3 the journal holds: refused, nothing changed.
            var refused = await CliRunner.RunAsync(server, ["restore", "-j", "2", "--resume", "--split-larger-than", Threshold, "-d", target, archive], timeout: TimeSpan.FromMinutes(2));
            Assert.True(refused.ExitCode == 1 && refused.Stderr.Trim().Split('\n').Length == 1, refused.Describe());
            Assert.Contains("restorecluster: error: cannot resume: the interrupted restore in", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains("used different options", refused.Stderr, StringComparison.Ordinal);
            Assert.Equal(2, await ChunksJournaledAsync(server, target));

            var resumed = await CliRunner.RunAsync(server, [.. restore, "--resume"], timeout: TimeSpan.FromMinutes(2));
            output.WriteLine(resumed.Describe());
            Assert.True(resumed.ExitCode == 0, resumed.Describe());
            Assert.Equal(Rows, await server.ScalarAsync<long>(target, "SELECT count(*) FROM public.big"));
            Assert.Equal(Rows, await server.ScalarAsync<long>(target, "SELECT count(DISTINCT id) FROM public.big"));
            // Never truncated: the committed chunks' rows stayed where they were, in the same file.
            Assert.Equal(fileBefore, await server.ScalarAsync<long>(target, "SELECT pg_catalog.pg_relation_filenode('public.big')::bigint"));

            string ours = SplitDumps.SortRowsOf(await RestoreComparison.DumpAsync(server, target), SplitTables);
            string theirs = SplitDumps.SortRowsOf(await RestoreComparison.DumpAsync(server, reference), SplitTables);
            Assert.True(ours == theirs, RestoreComparison.FirstDifference(theirs, ours));
        }
        finally
        {
            await server.DropDatabaseAsync(target);
            await server.DropDatabaseAsync(reference);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ARowThatOneChunkRefusesLeavesNoneOfTheTablesRowsAndOneErrorAsPgRestoresFailedCopy(int jobs)
    {
        int refused = Rows / 2;
        var run = await FailingRestoreAsync(jobs, "rc_split.refuse", refused.ToString(CultureInfo.InvariantCulture), "split_fail");
        Assert.Contains($"row {refused} refused", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, Count(run.Stderr, $"row {refused} refused"));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ARefusalEveryChunkMeetsCountsOneErrorAndLeavesNoneOfTheTablesRows(int jobs)
    {
        // Every row of the second half is refused: every chunk holds some, and every chunk's COPY fails.
        int from = Rows / 2;
        Assert.Equal(jobs, Enumerable.Range(from, Rows - from + 1).Select(id => ChunkOf(id, jobs)).Distinct().Count());
        var run = await FailingRestoreAsync(jobs, "rc_split.refuse_from", from.ToString(CultureInfo.InvariantCulture), "split_failall");
        Assert.Equal(1, Count(run.Stderr, "COPY failed for table \"big\""));
    }

    [Fact]
    public async Task WithExitOnErrorARowOneChunkRefusesStopsTheRestoreWithNoneOfTheTablesRowsAsPgRestore()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await Archive.Value;
        int refused = Rows / 2;
        string ours = await server.CreateDatabaseAsync("split_fail_e");
        string theirs = await server.CreateDatabaseAsync("split_fail_e_pg");
        try
        {
            foreach (string db in new[] { ours, theirs })
            {
                await server.ExecuteAsync("postgres", $"ALTER DATABASE {db} SET rc_split.refuse = '{refused}'");
            }

            var reference = await server.RunToolAsync("pg_restore", ["-e", "-j", "3", "-d", theirs, archive], timeout: TimeSpan.FromMinutes(2));
            var run = await CliRunner.RunAsync(server, ["restore", "-e", "-j", "3", "--split-larger-than", Threshold, "-d", ours, archive], timeout: TimeSpan.FromMinutes(2));
            output.WriteLine(run.Describe());

            Assert.Equal(1, reference.ExitCode);
            Assert.True(run.ExitCode == 1, run.Describe());
            Assert.Contains($"row {refused} refused", run.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, await server.ScalarAsync<long>(theirs, "SELECT count(*) FROM public.big"));
            Assert.Equal(0, await server.ScalarAsync<long>(ours, "SELECT count(*) FROM public.big"));
            Assert.False(await WorkloadChecks.JournalExistsAsync(server, ours), "the journal is left after the failed restore");
        }
        finally
        {
            await server.DropDatabaseAsync(ours);
            await server.DropDatabaseAsync(theirs);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ADataOnlyRestoreIntoATableWhoseKeyTheSecondHalfBreaksKeepsOnlyItsOwnRowsAsPgRestore(int jobs)
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await Archive.Value;
        string j = jobs.ToString(CultureInfo.InvariantCulture);
        string ours = await server.CreateDatabaseAsync($"split_data_only{jobs}");
        string theirs = await server.CreateDatabaseAsync($"split_data_only{jobs}_pg");
        try
        {
            // The tables exist with their primary keys, and big holds a row whose key a row of the second half has.
            foreach (string db in new[] { ours, theirs })
            {
                (await server.RunToolAsync("pg_restore", ["-s", "-d", db, archive], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
                await server.ExecuteAsync(db, $"INSERT INTO public.big VALUES ({Rows - 10}, 'there before')");
            }

            var reference = await server.RunToolAsync("pg_restore", ["-a", "-j", j, "-d", theirs, archive], timeout: TimeSpan.FromMinutes(2));
            var run = await CliRunner.RunAsync(server, ["restore", "-a", "-j", j, "--split-larger-than", Threshold, "-d", ours, archive], timeout: TimeSpan.FromMinutes(2));
            output.WriteLine(reference.Describe());
            output.WriteLine(run.Describe());

            Assert.Equal(1, reference.ExitCode);
            Assert.True(run.ExitCode == 1, run.Describe());
            Assert.Equal(1, Count(reference.Stderr, "COPY failed for table \"big\""));
            Assert.Contains("errors ignored on restore: 1", run.Stderr, StringComparison.Ordinal);
            Assert.Equal(1, Count(run.Stderr, "COPY failed for table \"big\""));
            Assert.Contains("duplicate key value violates unique constraint \"big_pkey\"", run.Stderr, StringComparison.Ordinal);
            Assert.Equal(1, await server.ScalarAsync<long>(theirs, "SELECT count(*) FROM public.big"));
            Assert.Equal(1, await server.ScalarAsync<long>(ours, "SELECT count(*) FROM public.big"));
            await AssertSameDumpsAsync(server, theirs, ours);
        }
        finally
        {
            await server.DropDatabaseAsync(ours);
            await server.DropDatabaseAsync(theirs);
        }
    }

    [Fact]
    public async Task ARestoreKilledAfterAChunkFailedResumesToPgRestoresEndNoRowsAndOneError()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await Archive.Value;
        // Chunk 2 of 3 refuses a row and commits its failure; chunk 1 hangs, so the end of the load cannot run yet.
        int held = Enumerable.Range(1, Rows).First(id => ChunkOf(id, 3) == 1);
        int refused = Enumerable.Range(1, Rows).First(id => ChunkOf(id, 3) == 2);
        string target = await server.CreateDatabaseAsync("split_fail_resume");
        string reference = await server.CreateDatabaseAsync("split_fail_resume_pg");
        try
        {
            foreach (string db in new[] { target, reference })
            {
                await server.ExecuteAsync("postgres", $"ALTER DATABASE {db} SET rc_split.refuse = '{refused}'");
            }

            await server.ExecuteAsync("postgres", $"ALTER DATABASE {target} SET rc_split.hold = '{held}'");
            var theirs = await server.RunToolAsync("pg_restore", ["-j", "3", "-d", reference, archive], timeout: TimeSpan.FromMinutes(2));
            Assert.Equal(1, theirs.ExitCode);
            string[] restore = ["restore", "-j", "3", "--split-larger-than", Threshold, "-d", target, archive];
            using (var cli = RunningCli.Start(server, restore))
            {
                await using var monitor = await WorkloadChecks.OpenAsync(server, "postgres");
                await WorkloadChecks.WaitUntilAsync(
                    async () =>
                    {
                        Assert.False(cli.Process.HasExited, "the restore ended before its held chunk hung");
                        return await HangingAsync(monitor, target) && await ChunksJournaledAsync(server, target) == 2
                            && await server.ScalarAsync<long>(target, "SELECT count(*) FROM restorecluster_journal.unit WHERE unit_id < -1073741824 AND errors > 0") == 1;
                    },
                    TimeSpan.FromSeconds(60),
                    () => "a chunk failed, one committed and the third hanging");
                await WorkloadChecks.KillAsync(cli, monitor, target);
            }

            await server.ExecuteAsync("postgres", $"ALTER DATABASE {target} RESET rc_split.hold");
            // The committed chunk's rows are still there: the end of the load never ran.
            Assert.True(await server.ScalarAsync<long>(target, "SELECT count(*) FROM public.big") > 0);

            var resumed = await CliRunner.RunAsync(server, [.. restore, "--resume"], timeout: TimeSpan.FromMinutes(2));
            output.WriteLine(resumed.Describe());
            Assert.True(resumed.ExitCode == 1, resumed.Describe());
            Assert.Contains("errors ignored on restore: 1", resumed.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, await server.ScalarAsync<long>(target, "SELECT count(*) FROM public.big"));
            await AssertSameDumpsAsync(server, reference, target);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
            await server.DropDatabaseAsync(reference);
        }
    }

    // pg_restore -j and a split restore at -j into two databases whose setting makes big's CHECK refuse rows: both fail
    // with one error, big empty, small loaded, and the databases dump the same.
    private async Task<ProcessResult> FailingRestoreAsync(int jobs, string setting, string value, string name)
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await Archive.Value;
        string j = jobs.ToString(CultureInfo.InvariantCulture);
        string ours = await server.CreateDatabaseAsync($"{name}{jobs}");
        string theirs = await server.CreateDatabaseAsync($"{name}{jobs}_pg");
        try
        {
            foreach (string db in new[] { ours, theirs })
            {
                await server.ExecuteAsync("postgres", $"ALTER DATABASE {db} SET {setting} = '{value}'");
            }

            var reference = await server.RunToolAsync("pg_restore", ["-j", j, "-d", theirs, archive], timeout: TimeSpan.FromMinutes(2));
            var run = await CliRunner.RunAsync(server, ["restore", "-j", j, "--split-larger-than", Threshold, "-d", ours, archive], timeout: TimeSpan.FromMinutes(2));
            output.WriteLine(reference.Describe());
            output.WriteLine(run.Describe());

            Assert.Equal(1, reference.ExitCode);
            Assert.True(run.ExitCode == 1, run.Describe());
            // One error for the table's failed COPY, as restorecluster counts it without the split (pg_restore 15 -j
            // says 2 here, unsplit restores of ours 1: a difference of its own, not the split's).
            Assert.Equal(1, Count(reference.Stderr, "COPY failed for table \"big\""));
            Assert.Contains("errors ignored on restore: 1", run.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, await server.ScalarAsync<long>(theirs, "SELECT count(*) FROM public.big"));
            Assert.Equal(0, await server.ScalarAsync<long>(ours, "SELECT count(*) FROM public.big"));
            Assert.Equal(20, await server.ScalarAsync<long>(ours, "SELECT count(*) FROM public.small"));
            await AssertSameDumpsAsync(server, theirs, ours);
            return run;
        }
        finally
        {
            await server.DropDatabaseAsync(ours);
            await server.DropDatabaseAsync(theirs);
        }
    }

    // The chunk (of count) row id's COPY line starts in: lines "id<TAB>md5<LF>" from offset 0, blocks dealt round-robin.
    private static int ChunkOf(int id, int count)
    {
        long offset = 0;
        for (int i = 1; i < id; i++)
        {
            offset += i.ToString(CultureInfo.InvariantCulture).Length + 34;
        }

        return (int)(offset / BlockBytes % count);
    }

    private static async Task AssertSameDumpsAsync(PostgresServer server, string reference, string ours)
    {
        string theirs = await RestoreComparison.DumpAsync(server, reference);
        string mine = await RestoreComparison.DumpAsync(server, ours);
        Assert.True(mine == theirs, RestoreComparison.FirstDifference(theirs, mine));
    }

    private static int Count(string text, string line) => text.Split('\n').Count(l => l.Contains(line, StringComparison.Ordinal));

    private static async Task<bool> HangingAsync(NpgsqlConnection monitor, string database)
    {
        await using var cmd = new NpgsqlCommand("SELECT EXISTS (SELECT FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep')", monitor);
        cmd.Parameters.Add(new NpgsqlParameter { Value = database });
        return (bool)(await cmd.ExecuteScalarAsync())!;
    }

    // Journal rows of chunk units (TableSplit's chunk IDs lie below -2^30).
    private static async Task<long> ChunksJournaledAsync(PostgresServer server, string database) =>
        await server.ScalarAsync<long>(database, "SELECT count(*) FROM restorecluster_journal.unit WHERE unit_id < -1073741824");

    // big: 3,000 rows of "id, md5" (about 110 kB of COPY text, about 60 kB in the archive) with a CHECK that sleeps on
    // the row the target's rc_split.hold names, and fails on the one rc_split.refuse names; small: 20 rows, below the
    // threshold.
    private static async Task<string> MakeArchiveAsync()
    {
        var server = await PostgresServer.GetSharedAsync();
        string directory = Directory.CreateTempSubdirectory("rc-split-").FullName;
        return await RestoreComparison.MakeArchiveAsync(server, directory, "split_source", db => server.ExecuteAsync(db, $"""
            CREATE FUNCTION public.gate(id integer) RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN
                IF id::text = pg_catalog.current_setting('rc_split.hold', true) THEN
                    PERFORM pg_catalog.pg_sleep(600);
                END IF;
                IF id::text = pg_catalog.current_setting('rc_split.refuse', true) THEN
                    RAISE EXCEPTION 'row % refused', id;
                END IF;
                IF id >= coalesce(nullif(pg_catalog.current_setting('rc_split.refuse_from', true), ''), '2147483647')::integer THEN
                    RAISE EXCEPTION 'row % refused (from)', id;
                END IF;
                RETURN true;
            END $$;
            CREATE TABLE public.big (id integer PRIMARY KEY, v text NOT NULL, CHECK (public.gate(id)));
            INSERT INTO public.big SELECT g, md5(g::text) FROM generate_series(1, {Rows}) g;
            CREATE INDEX big_v ON public.big (v);
            CREATE TABLE public.small (id integer PRIMARY KEY, v text NOT NULL);
            INSERT INTO public.small SELECT g, md5(g::text) FROM generate_series(1, 20) g;
            """));
    }
}
