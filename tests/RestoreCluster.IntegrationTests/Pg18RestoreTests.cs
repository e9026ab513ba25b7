using System.Text;
using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// pg_restore 17/18 behaviour against a real server: --transaction-size restores dump like pg_restore 15's plain
/// restore (serially and through the grains), stop at the first error with their open block rolled back, and
/// the STATISTICS DATA entries of a pg_dump 18 archive each fail once on our PostgreSQL 15, which has no
/// pg_restore_relation_stats, while everything else is restored.
/// </summary>
public sealed partial class Pg18RestoreTests
{
    public static TheoryData<string, string, int> TransactionSizeCases() => new()
    {
        // archive, how ("stdin", "file" and "-j 1": the serial restore; "-j N": the grains), --transaction-size
        { "rich.custom", "stdin", 3 },
        { "rich.custom", "stdin", 1000 },
        { "nasty.custom", "stdin", 7 },
        { "rich.custom", "file", 5 },
        { "rich.custom", "-j 1", 5 },
        { "rich.directory", "-j 3", 2 },
        { "nasty.custom", "-j 2", 1000 },
    };

    [Theory]
    [MemberData(nameof(TransactionSizeCases))]
    public async Task TransactionSizeRestoresDumpLikePgRestores(string name, string how, int size)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures[name].Path;
        string refDb = await server.CreateDatabaseAsync("txn_pg");
        string ourDb = await server.CreateDatabaseAsync("txn_rc");
        try
        {
            // pg_restore 15 has no --transaction-size: the reference is its plain restore, whose database pg_restore 17's equals.
            (await server.RunToolAsync("pg_restore", ["-d", refDb, archive], timeout: TimeSpan.FromMinutes(3))).EnsureSuccess();
            var ours = how == "stdin"
                ? await CliRunner.RunAsync(server, ["restore", $"--transaction-size={size}", "-d", ourDb], stdin: await File.ReadAllBytesAsync(archive), timeout: TimeSpan.FromMinutes(3))
                : await CliRunner.RunAsync(server, ["restore", .. Jobs(how), $"--transaction-size={size}", "--progress", "none", "-d", ourDb, archive], timeout: TimeSpan.FromMinutes(3));

            Assert.True(ours.ExitCode == 0, ours.Describe());
            Assert.Equal("", ours.Stderr);
            string expected = await RestoreComparison.DumpAsync(server, refDb);
            string actual = await RestoreComparison.DumpAsync(server, ourDb);
            Assert.True(expected == actual, RestoreComparison.FirstDifference(expected, actual));
        }
        finally
        {
            await server.DropDatabaseAsync(refDb);
            await server.DropDatabaseAsync(ourDb);
        }
    }

    [Fact]
    public async Task TransactionSizeScriptLoadsIntoTheDatabasePgRestoreMakes()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures["rich.custom"].Path;
        string refDb = await server.CreateDatabaseAsync("txnf_pg");
        string ourDb = await server.CreateDatabaseAsync("txnf_rc");
        string file = Path.Combine(Path.GetTempPath(), $"restorecluster-txn-{Guid.NewGuid():N}.sql");
        try
        {
            (await server.RunToolAsync("pg_restore", ["-d", refDb, archive], timeout: TimeSpan.FromMinutes(3))).EnsureSuccess();
            var script = await CliRunner.RunAsync(["restore", "--transaction-size=4", "-f", file, archive]);
            Assert.True(script.ExitCode == 0, script.Describe());
            var psql = await server.RunToolAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server.LibpqConnectionString(ourDb), "-f", file]);

            Assert.True(psql.ExitCode == 0, psql.Describe());
            Assert.Equal(await RestoreComparison.DumpAsync(server, refDb), await RestoreComparison.DumpAsync(server, ourDb));
        }
        finally
        {
            File.Delete(file);
            await server.DropDatabaseAsync(refDb);
            await server.DropDatabaseAsync(ourDb);
        }
    }

    [Theory]
    [InlineData("stdin")]
    [InlineData("file")]
    [InlineData("-j 1")]
    public async Task TransactionSizeStopsAtTheFirstErrorAndItsOpenBlockIsRolledBack(string how)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures["rich.custom"].Path;
        string db = await server.CreateDatabaseAsync("txne_rc");
        try
        {
            // CREATE SCHEMA app succeeds inside the first block, CREATE SCHEMA audit then fails: pg_restore 17 exits
            // (--transaction-size implies --exit-on-error) without committing the block.
            await server.ExecuteAsync(db, "CREATE SCHEMA audit");
            var ours = how == "stdin"
                ? await CliRunner.RunAsync(server, ["restore", "--transaction-size=100", "-d", db], stdin: await File.ReadAllBytesAsync(archive), timeout: TimeSpan.FromMinutes(3))
                : await CliRunner.RunAsync(server, ["restore", .. Jobs(how), "--transaction-size=100", "-d", db, archive], timeout: TimeSpan.FromMinutes(3));

            Assert.Equal(1, ours.ExitCode);
            Assert.Equal(1, RestoreComparison.ErrorLines(ours.Stderr, "restorecluster: error: "));
            Assert.Contains("schema \"audit\" already exists", ours.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("errors ignored on restore", ours.Stderr, StringComparison.Ordinal);
            Assert.Equal(0L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'app'"));
        }
        finally
        {
            await server.DropDatabaseAsync(db);
        }
    }

    public static TheoryData<string> StatisticsModes() => ["stdin", "-j 1", "-j 2"];

    [Theory]
    [MemberData(nameof(StatisticsModes))]
    public async Task StatisticsEntriesEachFailOnceOnPostgres15AndTheRestIsRestored(string how)
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = Path.Combine(RepoPaths.Pg18ArchivesDirectory, "stats18.dump");
        string db = await server.CreateDatabaseAsync("stats15");
        try
        {
            var ours = how == "stdin"
                ? await CliRunner.RunAsync(server, ["restore", "-d", db], stdin: await File.ReadAllBytesAsync(archive), timeout: TimeSpan.FromMinutes(3))
                : await CliRunner.RunAsync(server, ["restore", .. how.Split(' '), "--progress", "none", "-d", db, archive], timeout: TimeSpan.FromMinutes(3));

            Assert.Equal(1, ours.ExitCode);
            var statsErrors = ours.Stderr.Split('\n').Where(l => l.Contains("; 0 0 STATISTICS DATA ", StringComparison.Ordinal)).ToList();
            Assert.Equal(7, statsErrors.Count);
            Assert.All(statsErrors, l => Assert.Contains("pg_catalog.pg_restore_relation_stats(", l, StringComparison.Ordinal));
            Assert.Equal(
                ["2609", "2610", "2611", "2612", "2613", "2614", "2615"],
                statsErrors.Select(l => TocEntryId().Match(l).Groups[1].Value).Order(StringComparer.Ordinal));
            // pg_restore also counts the failed SET transaction_timeout (PostgreSQL 17+ sends it) of its leader's
            // session: once serially (pg_restore -j 1 is serial), and with -j 2+ once more when the leader connects
            // again after its workers (restore_toc_entries_postfork); its workers' own failures are not counted.
            int expected = how == "-j 2" ? 9 : 8;
            Assert.Contains($"restorecluster: warning: errors ignored on restore: {expected}\n", ours.Stderr, StringComparison.Ordinal);

            Assert.Equal(5000L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM public.measurements"));
            Assert.Equal(200L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM public.accounts"));
            Assert.Equal(2L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM pg_policies WHERE tablename = 'accounts'"));
            Assert.Equal(1L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'measurements_sensor_flag_stx'"));
            Assert.Equal(420L, await server.ScalarAsync<long>(db, "SELECT last_value FROM public.ticket_seq"));
            Assert.True(await server.ScalarAsync<long>(db, "SELECT count(*) FROM public.sensor_summary") > 0);
        }
        finally
        {
            await server.DropDatabaseAsync(db);
        }
    }

    [Fact]
    public async Task WithJobsStatisticsAreLaunchedAfterTheIndexesAndRefreshTheyDependOn()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = Path.Combine(RepoPaths.Pg18ArchivesDirectory, "stats18.dir");
        string db = await server.CreateDatabaseAsync("stats15j");
        try
        {
            var ours = await CliRunner.RunAsync(server, ["restore", "-j", "3", "-v", "--progress", "none", "-d", db, archive], timeout: TimeSpan.FromMinutes(3));
            var lines = ours.Stderr.Split('\n').ToList();
            int At(string line) => lines.FindIndex(l => l == "restorecluster: " + line);

            // A table's statistics (DATA) depend on the TABLE only, so pg_restore -j may run them beside its data; the
            // POST_DATA ones wait for their index, constraint or REFRESH, and for the post-ACL pass (after the policies).
            Assert.Equal(1, ours.ExitCode);
            foreach (var (before, after) in new[]
                     {
                         ("finished item 2601 MATERIALIZED VIEW DATA sensor_summary", "launching item 2615 STATISTICS DATA sensor_summary"),
                         ("finished item 2437 INDEX measurements_lower_sensor_idx", "launching item 2613 STATISTICS DATA measurements_lower_sensor_idx"),
                         ("finished item 2441 CONSTRAINT measurements measurements_pkey", "launching item 2614 STATISTICS DATA measurements_pkey"),
                         ("finished item 2596 POLICY accounts accounts_owner_insert", "launching item 2612 STATISTICS DATA accounts_pkey"),
                     })
            {
                Assert.True(At(before) >= 0 && At(after) > At(before), $"{before} / {after}\n{ours.Stderr}");
            }
        }
        finally
        {
            await server.DropDatabaseAsync(db);
        }
    }

    [Fact]
    public async Task NoStatisticsRestoresTheStatisticsArchiveWithoutTheirErrors()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = Path.Combine(RepoPaths.Pg18ArchivesDirectory, "stats18.dump");
        string db = await server.CreateDatabaseAsync("nostats15");
        try
        {
            var ours = await CliRunner.RunAsync(server, ["restore", "--no-statistics", "-j", "2", "--progress", "none", "-d", db, archive], timeout: TimeSpan.FromMinutes(3));

            Assert.DoesNotContain("STATISTICS DATA", ours.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("pg_restore_relation_stats", ours.Stderr, StringComparison.Ordinal);
            Assert.Equal(5000L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM public.measurements"));
        }
        finally
        {
            await server.DropDatabaseAsync(db);
        }
    }

    [Fact]
    public async Task ResumeIsRefusedForTheSerialTransactionSizeRestore()
    {
        var fixtures = await FixtureArchives.GetAsync();

        var run = await CliRunner.RunAsync(fixtures.Server, ["restore", "--transaction-size=10", "--resume", "-d", "postgres", fixtures["rich.custom"].Path]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("restorecluster: error: --resume needs a restore that keeps a journal: not with -1, --transaction-size without -j,", run.Stderr, StringComparison.Ordinal);
    }

    private static string[] Jobs(string how) => how == "file" ? [] : how.Split(' ');

    [GeneratedRegex(@"from TOC entry (\d+);")]
    private static partial Regex TocEntryId();
}
