using System.Diagnostics;
using System.Text.Json;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Three silo processes restore several archives submitted together (the workload's custom and directory archives, the
/// rich fixture, and an archive of tables whose rows load slowly, each into its own database). While table data loads, the test SIGKILLs the silo holding the most
/// leases, or the silo holding the most coordinators; every job ends with the database pg_restore makes, every row
/// once, and status names the units that ran again.
/// </summary>
[Collection(WorkloadCollection.Name)]
[Trait("Category", "Slow")]
public sealed class ClusterSeveralJobsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task TheBusiestSiloKilledMidCopyLeavesEveryJobToEndLikePgRestoreWithItsUnitsRunAgain()
    {
        await RunAsync(ByLeases);
    }

    [Fact]
    public async Task ASiloHoldingCoordinatorsKilledMidCopyLeavesEveryJobToEndLikePgRestoreOnTheOtherSilos()
    {
        await RunAsync(ByCoordinators);
    }

    // The silo with the most units running now (status' silos), with a COPY of ours among its sessions (the COPYs seen
    // right after the status was taken); of silos running as many units, one with a COPY.
    private static string? ByLeases(JsonElement status, IReadOnlyList<(int Port, string Database, string Table)> copies, SiloCluster cluster)
    {
        var silos = status.GetProperty("silos").EnumerateArray()
            .Select(s => (Name: s.GetProperty("name").GetString()!, Running: s.TryGetProperty("running", out var running) ? running.GetInt32() : 0))
            .ToList();
        int most = silos.Max(s => s.Running);
        return silos.Where(s => s.Running == most)
            .Select(s => s.Name)
            .FirstOrDefault(name => copies.Any(c => ClusterFaultTests.LocalTcpPorts(cluster.Silo(name).Process.Id).Contains(c.Port)));
    }

    // The silo that holds the most coordinators of running jobs.
    private static string? ByCoordinators(JsonElement status, IReadOnlyList<(int Port, string Database, string Table)> copies, SiloCluster cluster) =>
        status.GetProperty("jobs").EnumerateArray()
            .Where(j => j.GetProperty("state").GetString() == "running")
            .GroupBy(j => j.GetProperty("coordinator").GetString()!)
            .OrderByDescending(g => g.Count())
            .Select(g => g.Key)
            .FirstOrDefault();

    private async Task RunAsync(Func<JsonElement, IReadOnlyList<(int Port, string Database, string Table)>, SiloCluster, string?> pick)
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        var fixtures = await FixtureArchives.GetAsync();
        await fixtures.PrepareTargetRolesAsync(server);
        string rich = fixtures["rich.custom"].Path;
        // Its COPYs last seconds whatever the machine's speed (a CHECK sleeps per row), so that a look at the sessions
        // and the status taken then (a client process: seconds on a loaded machine) still find a COPY running.
        var slowDirectory = Directory.CreateTempSubdirectory("rc-several-slow-");
        string slow = await SlowArchiveAsync(server, slowDirectory.FullName);
        var targets = new List<(string Database, string Archive)>
        {
            (await server.CreateDatabaseAsync("several_custom"), workload.CustomArchive),
            (await server.CreateDatabaseAsync("several_dir"), workload.DirectoryArchive),
            (await server.CreateDatabaseAsync("several_rich"), rich),
            (await server.CreateDatabaseAsync("several_slow"), slow),
        };
        string reference = await server.CreateDatabaseAsync("several_rich_pg");
        string slowReference = await server.CreateDatabaseAsync("several_slow_pg");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 3);
        try
        {
            // Submitted together, so that all of them load data at once.
            var jobs = (await Task.WhenAll(targets.Select(t => cluster.SubmitOverTcpAsync(t.Database, t.Archive)))).ToList();

            var (victim, before) = await WaitForVictimAsync(cluster, server, pick);
            cluster.Silo(victim).Process.Kill(entireProcessTree: true);
            var clock = Stopwatch.StartNew();
            var movedJobs = before.GetProperty("jobs").EnumerateArray()
                .Where(j => j.GetProperty("coordinator").GetString() == victim && j.GetProperty("state").GetString() == "running")
                .Select(j => j.GetProperty("id").GetString()!).ToList();
            output.WriteLine($"killed {victim} during a COPY; coordinators it held of running jobs: {string.Join(", ", movedJobs)}");

            var waits = new List<ProcessResult>();
            foreach (string job in jobs)
            {
                waits.Add(await cluster.RunAsync(["wait", job]));
            }

            output.WriteLine($"every job ended {clock.Elapsed.TotalSeconds:0.0} s after the kill");
            var pgRestore = await server.RunToolAsync("pg_restore", ["-j", "2", "-d", reference, rich], timeout: TimeSpan.FromMinutes(3));
            (await server.RunToolAsync("pg_restore", ["-j", "2", "-d", slowReference, slow], timeout: TimeSpan.FromMinutes(3))).EnsureSuccess();

            Assert.All(waits.Take(2), w => Assert.True(w.ExitCode == 0, w.Describe()));
            Assert.True(waits[3].ExitCode == 0, waits[3].Describe());
            Assert.True(waits[2].ExitCode == pgRestore.ExitCode, $"wait exit {waits[2].ExitCode}, pg_restore {pgRestore.ExitCode}\n{waits[2].Describe()}");
            foreach (var (database, _) in targets.Take(2))
            {
                await WorkloadChecks.AssertRowsAsync(server, database, workload);
                // Both workload archives are pg_dump's of one database: pg_restore restores the same database from either.
                await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, database, workload.CustomArchive);
            }

            Assert.Equal(await RestoreComparison.DumpAsync(server, reference), await RestoreComparison.DumpAsync(server, targets[2].Database));
            Assert.Equal(await RestoreComparison.DumpAsync(server, slowReference), await RestoreComparison.DumpAsync(server, targets[3].Database));
            var status = await cluster.StatusAsync();
            var ended = status.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("id").GetString()!);
            Assert.All(jobs, job => Assert.StartsWith("done", ended[job].GetProperty("state").GetString(), StringComparison.Ordinal));
            // The killed silo's leases lapsed and their units ran again; a job whose coordinator it held was taken up elsewhere.
            Assert.Contains(jobs, job => ended[job].GetProperty("ranAgain").GetArrayLength() > 0);
            foreach (string job in movedJobs)
            {
                Assert.NotEqual(victim, ended[job].GetProperty("coordinator").GetString());
                Assert.True(ended[job].GetProperty("ranAgain").GetArrayLength() > 0, $"{job} shows no unit that ran again");
                Assert.Contains(cluster.Silos.Where((_, i) => $"s{i}" != victim).SelectMany(s => s.StderrLines),
                    l => l.Contains($"job {job} taken up again", StringComparison.Ordinal));
            }
        }
        finally
        {
            foreach (var (database, _) in targets)
            {
                await server.DropDatabaseAsync(database);
            }

            await server.DropDatabaseAsync(reference);
            await server.DropDatabaseAsync(slowReference);
            slowDirectory.Delete(recursive: true);
        }
    }

    // 6 tables of 150 rows, each row 20 ms to load (a CHECK that sleeps): COPYs of 3 s.
    private static async Task<string> SlowArchiveAsync(PostgresServer server, string directory)
    {
        return await RestoreComparison.MakeArchiveAsync(server, directory, "several_slow_src", db => server.ExecuteAsync(db, """
            CREATE FUNCTION slow_ok(v int) RETURNS boolean LANGUAGE sql VOLATILE AS $f$ SELECT pg_sleep(0.02) IS NOT NULL $f$;
            DO $$
            BEGIN
              FOR i IN 1..6 LOOP
                EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v int CHECK (slow_ok(v)))', i);
                EXECUTE format('INSERT INTO t%s SELECT g, g FROM generate_series(1, 150) g', i);
              END LOOP;
            END $$;
            """));
    }

    // Waits until a COPY of ours runs and the picker names a silo to kill in the status taken then; returns it and that status.
    private static async Task<(string Victim, JsonElement Status)> WaitForVictimAsync(
        SiloCluster cluster, PostgresServer server, Func<JsonElement, IReadOnlyList<(int Port, string Database, string Table)>, SiloCluster, string?> pick)
    {
        await using var monitor = await WorkloadChecks.OpenAsync(server, "postgres");
        var limit = Stopwatch.StartNew();
        int polls = 0;
        int withCopies = 0;
        while (limit.Elapsed < WaitLimit)
        {
            polls++;
            if (await ClusterFaultTests.CopiesOfOursAsync(monitor) is { Count: > 0 })
            {
                withCopies++;
                var status = await cluster.StatusAsync();
                if (pick(status, await ClusterFaultTests.CopiesOfOursAsync(monitor), cluster) is { } victim)
                {
                    return (victim, status);
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"no silo to kill was found within {WaitLimit.TotalSeconds:0} s ({polls} looks, {withCopies} saw a COPY):\n{(await cluster.RunAsync(["status"])).StdoutText}");
    }
}
