using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A silo's /healthz while it drains: after SIGTERM, with a COPY of one of its units still running, the health
/// endpoint still answers, and says 503 draining (the drain runs before the web server stops).
/// </summary>
[Collection(WorkloadCollection.Name)]
[Trait("Category", "Slow")]
public sealed class SiloDrainHealthTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(90);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task HealthSaysDrainingWhileTheSilosLastUnitsStillRun()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        string target = await server.CreateDatabaseAsync("cluster_drain_health");
        int healthPort = FreePort();
        await using var cluster = await SiloCluster.StartAsync(server, silos: 1, siloArgs: ["--health-port", healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        try
        {
            var silo = cluster.Silo("s0");
            var submit = await cluster.RunAsync(["submit", "-j", "2", "-d", $"host=127.0.0.1 port={server.Port} dbname={target}", workload.CustomArchive]);
            Assert.True(submit.ExitCode == 0, submit.Describe());
            await using var monitor = await WorkloadChecks.OpenAsync(server, target);
            await silo.WaitUntilAsync(async () => await CopiesAsync(monitor) > 0, WaitLimit, "a COPY in the target");

            (await ProcessRunner.RunAsync("kill", ["-TERM", silo.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])).EnsureSuccess();
            var answers = new List<string>();
            var clock = Stopwatch.StartNew();
            bool drainingDuringCopy = false;
            while (!drainingDuringCopy && !silo.Process.HasExited && clock.Elapsed < WaitLimit)
            {
                string answer;
                try
                {
                    using var r = await Http.GetAsync(new Uri($"http://127.0.0.1:{healthPort}/healthz"));
                    answer = $"{(int)r.StatusCode} {(await r.Content.ReadAsStringAsync()).Trim()}";
                }
                catch (HttpRequestException)
                {
                    answer = "refused";
                }

                int copies = await CopiesAsync(monitor);
                answers.Add($"{clock.ElapsedMilliseconds} ms: {answer}, {copies} COPY");
                drainingDuringCopy = answer == "503 draining" && copies > 0;
                await Task.Delay(20);
            }

            Assert.True(drainingDuringCopy, string.Join("\n", answers));
            Assert.Equal(0, await silo.WaitForExitAsync(WaitLimit));
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    private static async Task<int> CopiesAsync(Npgsql.NpgsqlConnection monitor)
    {
        await using var cmd = new Npgsql.NpgsqlCommand(
            "SELECT count(*)::int FROM pg_catalog.pg_stat_progress_copy WHERE datname = current_database() AND command = 'COPY FROM'", monitor);
        return (int)(await cmd.ExecuteScalarAsync())!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
