using System.Globalization;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Into PostgreSQL 18: the 1.14 fixture archives (the shared cases), and the stats18 archives (1.16, pg_dump 18 with
/// --statistics), which pg_restore 15 cannot read: they restore without an error, and the statistics their
/// STATISTICS DATA entries carry are what pg_stats and pg_class show, as archives/README.md and stats18.sql say.
/// </summary>
public sealed class Postgres18RestoreTests(Postgres18Target target) : OtherMajorRestoreTests(target), IClassFixture<Postgres18Target>
{
    public static TheoryData<string, string> StatisticsCases() => new()
    {
        { "stats18.dump", "stdin" },
        { "stats18.dir", "-j 2" },
        { "stats18.tar", "" },
    };

    [Theory]
    [MemberData(nameof(StatisticsCases))]
    public async Task StatisticsArchivesRestoreWithTheirStatisticsVisibleInPgStats(string name, string how)
    {
        var server = target.Server;
        string archive = Path.Combine(RepoPaths.Pg18ArchivesDirectory, name);
        string db = await server.CreateDatabaseAsync("stats_into_18");
        try
        {
            var run = how == "stdin"
                ? await CliRunner.RunAsync(server, ["restore", "-d", db], stdin: await File.ReadAllBytesAsync(archive), timeout: TimeSpan.FromMinutes(3))
                : await CliRunner.RunAsync(server, ["restore", .. how.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--progress", "none", "-d", db, archive], timeout: TimeSpan.FromMinutes(3));

            Assert.True(run.ExitCode == 0, run.Describe());
            Assert.Equal("", run.Stderr);
            // 14 pg_restore_attribute_stats calls: one pg_stats row each (tables' columns and the expression index's).
            Assert.Equal(14L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM pg_stats WHERE schemaname = 'public'"));
            Assert.Equal(
                "4|{east,north,south,west}|{0.25,0.25,0.25,0.25}|0.24990624",
                await server.ScalarAsync<string>(db, """
                    SELECT concat_ws('|', n_distinct, most_common_vals, most_common_freqs, correlation)
                    FROM pg_stats WHERE schemaname = 'public' AND tablename = 'accounts' AND attname = 'region'
                    """));
            // The expression index's column is keyed by attnum; its MCV list holds gamma's (a doubled quote in the archive).
            Assert.Equal(
                "100|alpha,beta,gamma's|0.6,0.2,0.1|0.4111695",
                await server.ScalarAsync<string>(db, """
                    SELECT concat_ws('|', n_distinct, array_to_string((most_common_vals::text::text[])[1:3], ','),
                        array_to_string(most_common_freqs[1:3], ','), correlation)
                    FROM pg_stats WHERE schemaname = 'public' AND tablename = 'measurements_lower_sensor_idx'
                    """));
            // pg_restore_relation_stats: the indexes' and the materialized view's values are set after their CREATE INDEX,
            // constraint or REFRESH; empty_log, never vacuumed or analyzed, would have reltuples -1 without them.
            foreach (var (relation, pages, tuples) in new[]
                     {
                         ("empty_log", 0, 0), ("accounts_pkey", 2, 200), ("measurements_lower_sensor_idx", 7, 5000),
                         ("measurements_pkey", 16, 5000), ("sensor_summary", 1, 100),
                     })
            {
                Assert.Equal(
                    string.Create(CultureInfo.InvariantCulture, $"{relation} {pages} {tuples}"),
                    await server.ScalarAsync<string>(db, $"SELECT concat_ws(' ', relname, relpages, reltuples) FROM pg_class WHERE oid = 'public.{relation}'::regclass"));
            }

            // The rest of the source, as stats18-source.sql made it.
            Assert.Equal(5000L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM public.measurements"));
            Assert.Equal(200L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM public.accounts"));
            Assert.Equal(0L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM public.empty_log"));
            Assert.Equal(2L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM pg_policies WHERE tablename = 'accounts'"));
            Assert.True(await server.ScalarAsync<bool>(db, "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.accounts'::regclass"));
            Assert.Equal(1L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'measurements_sensor_flag_stx'"));
            Assert.Equal(420L, await server.ScalarAsync<long>(db, "SELECT last_value FROM public.ticket_seq"));
        }
        finally
        {
            await server.DropDatabaseAsync(db);
        }
    }

    [Fact]
    public async Task NoStatisticsLeavesPgStatsEmptyInPostgres18()
    {
        var server = target.Server;
        string db = await server.CreateDatabaseAsync("nostats_into_18");
        try
        {
            var run = await CliRunner.RunAsync(server, ["restore", "--no-statistics", "-j", "2", "--progress", "none", "-d", db, Path.Combine(RepoPaths.Pg18ArchivesDirectory, "stats18.dump")], timeout: TimeSpan.FromMinutes(3));

            Assert.True(run.ExitCode == 0, run.Describe());
            Assert.Equal(0L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM pg_stats WHERE schemaname = 'public'"));
            Assert.Equal(-1f, await server.ScalarAsync<float>(db, "SELECT reltuples FROM pg_class WHERE oid = 'public.empty_log'::regclass"));
        }
        finally
        {
            await server.DropDatabaseAsync(db);
        }
    }
}
