using System.Diagnostics;
using System.Text.Json;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// The target server restarted in fast mode in the middle of a parallel restore (while the big table's COPY
/// runs and some units are journaled): the running units lose their sessions, the reconnects meet a server
/// shutting down, gone, then starting up, and are tried again until it is back. The restore still ends
/// well, with the database pg_restore makes and no row twice.
/// </summary>
[Collection(WorkloadCollection.Name)]
public sealed class ServerRestartTests(ITestOutputHelper output)
{
    // Longer than the first retry of a lost unit (200 ms): without the connect retry, that reconnect fails
    // and so does the restore. Well within the connect retry's 6 attempts (6.2 s of waits).
    private static readonly TimeSpan Downtime = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ATargetRestartedMidRestoreIsRiddenOutAndTheDatabaseMatchesPgRestoreWithoutDuplicateRows()
    {
        var setup = Stopwatch.StartNew();
        var shared = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        await WorkloadChecks.ReferenceAsync(shared, workload.CustomArchive);
        output.WriteLine($"workload and pg_restore's reference ready after {setup.Elapsed.TotalSeconds:0.0} s (shared with the other workload tests)");
        // A server of its own: a restart must not disturb the other tests' sessions.
        await using var server = await PostgresServer.StartAsync();
        string target = await server.CreateDatabaseAsync("restart");
        var clock = Stopwatch.StartNew();
        using var cli = RunningCli.Start(server, ["restore", "-j", "2", "--progress", "json", "-d", target, workload.CustomArchive]);
        try
        {
            int journaled = await WaitForTheBigCopyAsync(server, target, workload, cli);
            output.WriteLine($"restarting after {clock.Elapsed.TotalSeconds:0.0} s with {journaled} of {workload.ArchiveEntries} units journaled");
            var restart = Stopwatch.StartNew();
            await server.RestartAsync(Downtime);
            output.WriteLine($"the server was back after {restart.Elapsed.TotalSeconds:0.0} s");
            string during = cli.Process.HasExited ? " (it ended while the server was down)" : "";

            using (var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
            {
                await cli.Process.WaitForExitAsync(limit.Token);
            }

            string stderr = await cli.Stderr;
            string stdout = await cli.Stdout;
            output.WriteLine($"restore -j 2: exit {cli.Process.ExitCode} after {clock.Elapsed.TotalSeconds:0.0} s\nstderr:\n{stderr}");
            Assert.True(cli.Process.ExitCode == 0, $"exit {cli.Process.ExitCode}{during}\n{stderr}");
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
            // The restart hit running units: their sessions were lost and the units retried.
            Assert.Contains("session lost", stderr, StringComparison.Ordinal);
            var end = LastEvent(stdout);
            Assert.Equal("succeeded", end.GetProperty("state").GetString());
            Assert.Equal(0, end.GetProperty("errors").GetInt32());
            Assert.True(end.GetProperty("retries").GetInt32() >= 1, "no unit was retried: " + end.GetRawText());

            Assert.False(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is left after the restore ended");
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
            await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, target, workload.CustomArchive);
            output.WriteLine($"checked after {clock.Elapsed.TotalSeconds:0.0} s from the restore's start");
        }
        finally
        {
            if (!cli.Process.HasExited)
            {
                cli.Process.Kill(entireProcessTree: true);
                await cli.Process.WaitForExitAsync();
            }
        }
    }

    // The moment to restart: the big table's COPY runs (a unit in the middle of its work) and some, not all,
    // units are journaled. Returns how many.
    private static async Task<int> WaitForTheBigCopyAsync(PostgresServer server, string target, Workload workload, RunningCli cli)
    {
        int journaled = 0;
        await using var monitor = await WorkloadChecks.OpenAsync(server, target);
        await WorkloadChecks.WaitUntilAsync(
            async () =>
            {
                if (cli.Process.HasExited)
                {
                    Assert.Fail($"the restore ended (exit {cli.Process.ExitCode}) before the server could be restarted during the big COPY:\n{await cli.Stderr}");
                }

                if (!await WorkloadChecks.BigCopyRunsAsync(monitor, workload.BigTable))
                {
                    return false;
                }

                journaled = await WorkloadChecks.JournaledUnitsAsync(monitor);
                return journaled > 0 && journaled < workload.ArchiveEntries;
            },
            WaitLimit,
            () => $"COPY into {workload.BigTable} by a restorecluster session with some units journaled (last count {journaled})");
        return journaled;
    }

    private static JsonElement LastEvent(string stdout)
    {
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 0, "no progress events on stdout");
        using var doc = JsonDocument.Parse(lines[^1]);
        return doc.RootElement.Clone();
    }
}
