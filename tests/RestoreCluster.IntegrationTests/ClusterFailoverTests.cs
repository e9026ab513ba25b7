using System.Diagnostics;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Jobs survive machines: the silo holding a job's coordinator is SIGKILLed while table data loads, or every silo is
/// killed and started again; the coordinator is taken up from the cluster database on a live silo, every unit runs
/// again as a resume of the same run, and the job ends with the database pg_restore makes, every row once.
/// </summary>
[Collection(WorkloadCollection.Name)]
[Trait("Category", "Slow")]
public sealed class ClusterFailoverTests(ITestOutputHelper output)
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task TheJobOfAKilledCoordinatorSiloContinuesOnAnotherSiloAndEndsLikePgRestore()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        string target = await server.CreateDatabaseAsync("cluster_coord");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2);
        try
        {
            string job = await cluster.SubmitOverTcpAsync(target, workload.CustomArchive);
            string copying = await WaitForACopyAsync(server, target);
            // Ask the cluster where the coordinator lives, then kill that silo.
            string victim = Coordinator(await cluster.StatusAsync(job));
            var clock = Stopwatch.StartNew();
            cluster.Silo(victim).Process.Kill(entireProcessTree: true);
            output.WriteLine($"killed {victim}, the coordinator's silo, during a COPY into {copying}");

            var wait = await cluster.RunAsync(["wait", job]);
            output.WriteLine($"job ended {clock.Elapsed.TotalSeconds:0.0} s after the kill");

            Assert.True(wait.ExitCode == 0, wait.Describe());
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
            await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, target, workload.CustomArchive);
            var status = await cluster.StatusAsync(job);
            var done = Assert.Single(status.GetProperty("jobs").EnumerateArray());
            Assert.Equal("done", done.GetProperty("state").GetString());
            Assert.NotEqual(victim, Coordinator(status));
            Assert.NotEmpty(done.GetProperty("ranAgain").EnumerateArray());
            Assert.Contains(cluster.Silos.Where((_, i) => $"s{i}" != victim).SelectMany(s => s.StderrLines),
                l => l.Contains($"job {job} taken up again", StringComparison.Ordinal));
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task AJobWhoseSilosAllDiedContinuesFromTheDatabaseWhenTheyStartAgain()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        string target = await server.CreateDatabaseAsync("cluster_all");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2);
        try
        {
            string job = await cluster.SubmitOverTcpAsync(target, workload.CustomArchive);
            string copying = await WaitForACopyAsync(server, target);
            foreach (var silo in cluster.Silos)
            {
                silo.Process.Kill(entireProcessTree: true);
            }

            foreach (var silo in cluster.Silos)
            {
                await silo.Process.WaitForExitAsync();
            }

            output.WriteLine($"killed every silo during a COPY into {copying}");
            // Nothing runs now: the job is only in the cluster database.
            Assert.Equal(0, await SessionsOfOursAsync(server, target));
            await cluster.RestartAsync("s0");
            await cluster.RestartAsync("s1");

            var wait = await cluster.RunAsync(["wait", job]);

            Assert.True(wait.ExitCode == 0, wait.Describe());
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
            await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, target, workload.CustomArchive);
            var done = Assert.Single((await cluster.StatusAsync(job)).GetProperty("jobs").EnumerateArray());
            Assert.Equal("done", done.GetProperty("state").GetString());
            Assert.NotEmpty(done.GetProperty("ranAgain").EnumerateArray());
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task WithDefaultFailureDetectionTheUnitsOfAKilledSiloRunAgainWithinTwoMinutes()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        string target = await server.CreateDatabaseAsync("cluster_default");
        // No tuning options: Orleans' own probe timeout, missed probes, votes and table refresh, as in production.
        await using var cluster = await SiloCluster.StartAsync(server, silos: 3, defaultFailureDetection: true);
        try
        {
            string job = await cluster.SubmitOverTcpAsync(target, workload.CustomArchive);
            var (victim, copying) = await ClusterFaultTests.WaitForCopyOnAWorkerAsync(cluster, server, target, job);
            cluster.Silo(victim).Process.Kill(entireProcessTree: true);
            var clock = Stopwatch.StartNew();
            output.WriteLine($"killed {victim} during its COPY into {copying}");

            var ranAgain = 0;
            while (ranAgain == 0)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"no unit ran again within 2 minutes of the kill:\n{(await cluster.RunAsync(["status", job])).StdoutText}");
                var status = Assert.Single((await cluster.StatusAsync(job)).GetProperty("jobs").EnumerateArray());
                ranAgain = status.TryGetProperty("ranAgain", out var again) ? again.GetArrayLength() : 0;
                await Task.Delay(ranAgain == 0 ? 1000 : 0);
            }

            output.WriteLine($"a unit ran again {clock.Elapsed.TotalSeconds:0.0} s after the kill");
            var wait = await cluster.RunAsync(["wait", job]);

            Assert.True(wait.ExitCode == 0, wait.Describe());
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
            await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, target, workload.CustomArchive);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    private static string Coordinator(System.Text.Json.JsonElement status) =>
        status.GetProperty("jobs")[0].GetProperty("coordinator").GetString()!;

    // Waits until a COPY of ours into the target runs (pg_stat_progress_copy); returns its table.
    private static async Task<string> WaitForACopyAsync(PostgresServer server, string target)
    {
        await using var monitor = await WorkloadChecks.OpenAsync(server, target);
        var limit = Stopwatch.StartNew();
        while (limit.Elapsed < WaitLimit)
        {
            await using var cmd = new Npgsql.NpgsqlCommand(
                "SELECT p.relid::regclass::text FROM pg_catalog.pg_stat_progress_copy p JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid " +
                "WHERE a.application_name = $1 AND p.datname = current_database() AND p.command = 'COPY FROM' LIMIT 1", monitor);
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = WorkloadChecks.ApplicationName });
            if (await cmd.ExecuteScalarAsync() is string table)
            {
                return table;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"no COPY ran into {target} within {WaitLimit.TotalSeconds:0} s");
    }

    // Sessions of ours on the target, once the killed silos' sessions are gone (the server notices a closed socket).
    private static async Task<int> SessionsOfOursAsync(PostgresServer server, string target)
    {
        await using var monitor = await WorkloadChecks.OpenAsync(server, target);
        var limit = Stopwatch.StartNew();
        while (true)
        {
            int sessions = await WorkloadChecks.SessionsAsync(monitor, target);
            if (sessions == 0 || limit.Elapsed > TimeSpan.FromSeconds(20))
            {
                return sessions;
            }

            await Task.Delay(100);
        }
    }
}
