using System.Diagnostics;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A host budget holds across silos and jobs: two -j 6 jobs on three silos (six slots) with --host-budget 2 never have
/// more than two sessions on the target server, sampled every 50 ms (every client connection to the targets but the
/// sampler's own, whatever its application name), and reach two.
/// </summary>
[Collection(WorkloadCollection.Name)]
[Trait("Category", "Slow")]
public sealed class ClusterBudgetTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TwoJobsOfSixOnThreeSilosWithABudgetOfTwoNeverHoldMoreThanTwoSessionsOnTheTarget()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        var fixtures = await FixtureArchives.GetAsync();
        await fixtures.PrepareTargetRolesAsync(server);
        string rich = fixtures["rich.custom"].Path;
        string big = await server.CreateDatabaseAsync("budget_custom");
        string small = await server.CreateDatabaseAsync("budget_rich");
        string reference = await server.CreateDatabaseAsync("budget_rich_pg");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 3, slots: 2);
        try
        {
            var jobs = new List<string>();
            foreach (var (database, archive) in new[] { (big, workload.CustomArchive), (small, rich) })
            {
                var submit = await cluster.RunAsync(["submit", "-j", "6", "--host-budget", "2", "-d", $"host=127.0.0.1 port={server.Port} dbname={database}", archive]);
                Assert.True(submit.ExitCode == 0, submit.Describe());
                jobs.Add(submit.StdoutText.TrimEnd('\n').Split('\n')[^1]);
            }

            // Sampled from here on: before, the second submit's own look at the target (its identity) is a client's session, not the cluster's.
            using var stop = new CancellationTokenSource();
            var sampling = SampleAsync(server, [big, small], stop.Token);
            var waits = new List<ProcessResult>();
            foreach (string job in jobs)
            {
                waits.Add(await cluster.RunAsync(["wait", job]));
            }

            await stop.CancelAsync();
            var (most, samples, busiest) = await sampling;
            output.WriteLine($"{samples} samples, at most {most} sessions: {busiest}");
            var pgRestore = await server.RunToolAsync("pg_restore", ["-j", "6", "-d", reference, rich], timeout: TimeSpan.FromMinutes(3));

            Assert.True(waits[0].ExitCode == 0, waits[0].Describe());
            Assert.True(waits[1].ExitCode == pgRestore.ExitCode, $"wait exit {waits[1].ExitCode}, pg_restore {pgRestore.ExitCode}\n{waits[1].Describe()}");
            Assert.True(samples > 20, $"only {samples} samples");
            Assert.True(most <= 2, $"{most} sessions on the target at once:\n{busiest}");
            Assert.Equal(2, most);
            await WorkloadChecks.AssertRowsAsync(server, big, workload);
            await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, big, workload.CustomArchive);
            Assert.Equal(await RestoreComparison.DumpAsync(server, reference), await RestoreComparison.DumpAsync(server, small));
            // Every silo's slots were asked: the budget, not the slots, held the sessions to two.
            var status = await cluster.StatusAsync();
            Assert.Equal(3, status.GetProperty("silos").GetArrayLength());
            Assert.Equal(2, Assert.Single(status.GetProperty("hosts").EnumerateArray()).GetProperty("budget").GetInt32());
        }
        finally
        {
            await server.DropDatabaseAsync(big);
            await server.DropDatabaseAsync(small);
            await server.DropDatabaseAsync(reference);
        }
    }

    // Every 50 ms: the client sessions on the target databases but the sampler's own. Returns the most seen at once, the
    // number of samples and, for a failure message, the sessions of the busiest sample.
    private static async Task<(int Most, int Samples, string Busiest)> SampleAsync(PostgresServer server, string[] databases, CancellationToken stop)
    {
        await using var monitor = await WorkloadChecks.OpenAsync(server, "postgres");
        await using var cmd = new NpgsqlCommand(
            "SELECT pid, datname, coalesce(application_name, ''), coalesce(state, ''), left(coalesce(query, ''), 60) FROM pg_catalog.pg_stat_activity " +
            "WHERE backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid() AND datname = ANY($1)", monitor);
        cmd.Parameters.Add(new NpgsqlParameter { Value = databases });
        int most = 0;
        int samples = 0;
        string busiest = "";
        var clock = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            var sessions = new List<string>();
            await using (var r = await cmd.ExecuteReaderAsync(CancellationToken.None))
            {
                while (await r.ReadAsync(CancellationToken.None))
                {
                    sessions.Add($"  pid {r.GetInt32(0)} {r.GetString(1)} {r.GetString(2)} {r.GetString(3)}: {r.GetString(4)}");
                }
            }

            samples++;
            if (sessions.Count > most)
            {
                most = sessions.Count;
                busiest = $"at {clock.Elapsed.TotalSeconds:0.00} s:\n{string.Join('\n', sessions)}";
            }

            try
            {
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return (most, samples, busiest);
    }
}
