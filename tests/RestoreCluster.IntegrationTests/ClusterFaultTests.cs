using System.Diagnostics;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Silo processes that die or stop while table data loads: a SIGKILLed silo's units run again elsewhere and the
/// job ends with the database pg_restore makes, every row once; a SIGTERMed silo finishes its running units,
/// then leaves the membership, and what it ran does not run again.
/// </summary>
[Collection(WorkloadCollection.Name)]
[Trait("Category", "Slow")]
public sealed class ClusterFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task UnitsOfASiloKilledMidCopyRunAgainAndTheJobEndsLikePgRestore()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        string target = await server.CreateDatabaseAsync("cluster_kill");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2);
        try
        {
            string job = await cluster.SubmitOverTcpAsync(target, workload.CustomArchive);
            var (victim, copying) = await WaitForCopyOnAWorkerAsync(cluster, server, target, job);
            var clock = Stopwatch.StartNew();
            cluster.Silo(victim).Process.Kill(entireProcessTree: true);
            output.WriteLine($"killed {victim} during its COPY into {copying}");

            var wait = await cluster.RunAsync(["wait", job]);
            output.WriteLine($"job ended {clock.Elapsed.TotalSeconds:0.0} s after the kill");

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
    public async Task ASiloStoppedWithSigtermFinishesItsUnitsThenLeavesAndTheyDoNotRunAgain()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        string target = await server.CreateDatabaseAsync("cluster_drain");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2);
        try
        {
            string job = await cluster.SubmitOverTcpAsync(target, workload.CustomArchive);
            var (victim, copying) = await WaitForCopyOnAWorkerAsync(cluster, server, target, job);
            var silo = cluster.Silo(victim);
            (await ProcessRunner.RunAsync("kill", ["-TERM", silo.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])).EnsureSuccess();
            output.WriteLine($"SIGTERM to {victim} during its COPY into {copying}");

            Assert.Equal(0, await silo.WaitForExitAsync(WaitLimit));
            var wait = await cluster.RunAsync(["wait", job]);

            Assert.Contains($"silo {victim} left the cluster", silo.StdoutLines);
            Assert.Equal(6, await server.ScalarAsync<int>(cluster.Database, $"SELECT status FROM OrleansMembershipTable WHERE siloname = '{victim}'"));
            Assert.True(wait.ExitCode == 0, wait.Describe());
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
            await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, target, workload.CustomArchive);
            var done = Assert.Single((await cluster.StatusAsync(job)).GetProperty("jobs").EnumerateArray());
            Assert.Equal("done", done.GetProperty("state").GetString());
            // What the stopped silo ran finished there. (A unit of the other silo may run again when the target's
            // budget grain lived on the stopped silo: its permits are not found after that; cluster.md.)
            var ranAgain = done.GetProperty("ranAgain").EnumerateArray().Select(l => l.GetString()!).ToList();
            Assert.DoesNotContain(ranAgain, label => label.EndsWith("." + copying, StringComparison.Ordinal));
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task StatusShowsTheGrainsOfAHungSiloUnreachableInsteadOfWaitingOutTheirTimeouts()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string target = await server.CreateDatabaseAsync("cluster_hung");
        // Production's failure detection: a hung silo stays Active for about a minute, and calls to it get no answer.
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2, defaultFailureDetection: true);
        string? hung = null;
        try
        {
            string job = await cluster.SubmitOverTcpAsync(target, fixtures["rich.custom"].Path);
            Assert.True((await cluster.RunAsync(["wait", job])).ExitCode is 0 or 1);
            hung = Assert.Single((await cluster.StatusAsync(job)).GetProperty("jobs").EnumerateArray()).GetProperty("coordinator").GetString()!;
            (await ProcessRunner.RunAsync("kill", ["-STOP", cluster.Silo(hung).Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])).EnsureSuccess();

            var clock = Stopwatch.StartNew();
            var status = await cluster.StatusAsync();
            var text = await cluster.RunAsync(["status"]);
            output.WriteLine($"status --json and status took {clock.Elapsed.TotalSeconds:0.0} s:\n{text.StdoutText}");

            // Unbounded, each call to the hung silo's grains waited out the 30 s response timeout: over a minute per status.
            // Bounded, the client's start and stop (a gateway on the hung silo) take most of what is left.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(70), $"status took {clock.Elapsed.TotalSeconds:0.0} s");
            var silo = status.GetProperty("silos").EnumerateArray().Single(s => s.GetProperty("name").GetString() == hung);
            Assert.True(silo.GetProperty("unreachable").GetBoolean());
            Assert.Equal("unreachable", Assert.Single(status.GetProperty("jobs").EnumerateArray()).GetProperty("state").GetString());
            Assert.Contains($"  {job}  unreachable  ", text.StdoutText, StringComparison.Ordinal);
            Assert.Matches($"\n  {hung}  127\\.0\\.0\\.1:[0-9]+  unreachable\n", text.StdoutText);
        }
        finally
        {
            if (hung is not null)
            {
                await ProcessRunner.RunAsync("kill", ["-CONT", cluster.Silo(hung).Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            }

            await server.DropDatabaseAsync(target);
        }
    }

    // Waits until a COPY of ours into the target runs on a session of a silo that does not hold the job's
    // coordinator (pg_stat_progress_copy's session, found by its client port among the silo process's sockets);
    // returns that silo's name and the table.
    // The units after the prefork wait behind a lock on the journal while the test finds the coordinator, so
    // that no COPY has run yet when it starts to look.
    internal static async Task<(string Silo, string Table)> WaitForCopyOnAWorkerAsync(SiloCluster cluster, PostgresServer server, string target, string job)
    {
        await using var monitor = await WorkloadChecks.OpenAsync(server, target);
        string coordinator;
        await using (var holder = await WorkloadChecks.OpenAsync(server, target))
        {
            var journaled = Stopwatch.StartNew();
            while (await WorkloadChecks.JournaledUnitsAsync(holder) == 0)
            {
                Assert.True(journaled.Elapsed < WaitLimit, "no unit was journaled");
                await Task.Delay(20);
            }

            await using var hold = await holder.BeginTransactionAsync();
            await using (var pause = new Npgsql.NpgsqlCommand("LOCK TABLE restorecluster_journal.unit IN SHARE MODE", holder))
            {
                await pause.ExecuteNonQueryAsync();
            }

            coordinator = (await cluster.StatusAsync(job)).GetProperty("jobs")[0].GetProperty("coordinator").GetString()!;
            await hold.RollbackAsync();
        }

        var workers = cluster.Silos.Select((silo, i) => (Name: $"s{i}", Silo: silo)).Where(s => s.Name != coordinator).ToList();
        var limit = Stopwatch.StartNew();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (limit.Elapsed < WaitLimit)
        {
            foreach (var (port, table) in await CopiesAsync(monitor))
            {
                seen.Add($"{table} from port {port}");
                foreach (var (name, silo) in workers)
                {
                    if (LocalTcpPorts(silo.Process.Id).Contains(port))
                    {
                        return (name, table);
                    }
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException(
            $"no COPY ran on a silo without the coordinator ({coordinator}) within {WaitLimit.TotalSeconds:0} s; COPYs seen: {string.Join(", ", seen)}; " +
            $"ports of {string.Join("; ", workers.Select(w => $"{w.Name} (pid {w.Silo.Process.Id}): {string.Join(",", LocalTcpPorts(w.Silo.Process.Id))}"))}\n" +
            $"{(await cluster.RunAsync(["status", job])).StdoutText}");
    }

    // The client port and table of each COPY of ours running into the monitor's database.
    private static async Task<List<(int Port, string Table)>> CopiesAsync(Npgsql.NpgsqlConnection monitor) =>
        (await CopiesOfOursAsync(monitor)).Where(c => c.Database == monitor.Database).Select(c => (c.Port, c.Table)).ToList();

    /// <summary>The client port, database and table of each COPY of ours running on the monitor's server, in any database.</summary>
    internal static async Task<List<(int Port, string Database, string Table)>> CopiesOfOursAsync(Npgsql.NpgsqlConnection monitor)
    {
        // The table's name is read in its own database (regclass works in the monitor's only): the relid is enough to tell.
        await using var cmd = new Npgsql.NpgsqlCommand(
            "SELECT a.client_port, p.datname, CASE WHEN p.datname = current_database() THEN p.relid::regclass::text ELSE p.relid::text END " +
            "FROM pg_catalog.pg_stat_progress_copy p JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid " +
            "WHERE a.application_name = $1 AND p.command = 'COPY FROM'", monitor);
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = WorkloadChecks.ApplicationName });
        var copies = new List<(int, string, string)>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            copies.Add((reader.GetInt32(0), reader.GetString(1), reader.GetString(2)));
        }

        return copies;
    }

    /// <summary>The local ports of a process's TCP sockets (Linux: its socket inodes in /proc/PID/fd, their ports in /proc/net/tcp*).</summary>
    internal static HashSet<int> LocalTcpPorts(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (string fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
        {
            if (new FileInfo(fd).LinkTarget is { } link && link.StartsWith("socket:[", StringComparison.Ordinal))
            {
                inodes.Add(link[8..^1]);
            }
        }

        var ports = new HashSet<int>();
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (string line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                string[] cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (cols.Length > 9 && inodes.Contains(cols[9]))
                {
                    ports.Add(Convert.ToInt32(cols[1][(cols[1].LastIndexOf(':') + 1)..], 16));
                }
            }
        }

        return ports;
    }
}
