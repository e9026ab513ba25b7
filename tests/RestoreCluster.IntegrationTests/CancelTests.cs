using System.Diagnostics;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Ctrl-C (SIGINT) cancels a restore: no more units are handed out, running ones finish or roll back, the
/// process says how to continue and exits 1, the journal stays, and --resume completes the restore. A
/// statement that runs long (a COPY blocked inside the server) is cancelled within 2 s of the signal.
/// </summary>
[Collection(WorkloadCollection.Name)]
public sealed class CancelTests(ITestOutputHelper output)
{
    [Fact]
    public async Task InterruptedRestoreKeepsItsJournalAndResumes()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        string target = await server.CreateDatabaseAsync("cancel");
        try
        {
            using var cli = RunningCli.Start(server, ["restore", "-j", "2", "--progress", "none", "-d", target, workload.CustomArchive]);
            var process = cli.Process;
            await using (var monitor = await WorkloadChecks.OpenAsync(server, "postgres"))
            {
                // Interrupt once the journal exists and units are being restored.
                await WorkloadChecks.WaitUntilAsync(
                    async () => !process.HasExited && await WorkloadChecks.JournalExistsAsync(server, target) && await WorkloadChecks.SessionsAsync(monitor, target) > 0,
                    TimeSpan.FromSeconds(60),
                    () => "a running restore with its journal");
            }

            (await ProcessRunner.RunAsync("kill", ["-INT", process.Id.ToString()])).EnsureSuccess();
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            await process.WaitForExitAsync(limit.Token);
            string err = await cli.Stderr;
            await cli.Stdout;
            output.WriteLine($"exit {process.ExitCode}: {err.Trim()}");

            Assert.Equal(1, process.ExitCode);
            Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
            Assert.Contains("--resume", err, StringComparison.Ordinal);
            Assert.True(await WorkloadChecks.JournalExistsAsync(server, target), "a cancelled restore must keep its journal");

            var resumed = await CliRunner.RunAsync(server, ["restore", "-j", "2", "--resume", "-d", target, workload.CustomArchive], timeout: TimeSpan.FromMinutes(3));
            Assert.True(resumed.ExitCode == 0, resumed.Describe());
            Assert.False(await WorkloadChecks.JournalExistsAsync(server, target));
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
            await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, target, workload.CustomArchive);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task CtrlCStopsARunningStatementAndExitsWithinTwoSeconds()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        // The big table's COPY waits inside the server at its middle row for a lock this test holds.
        await using var frozen = await FrozenCopy.PrepareAsync(server, workload, workload.CustomArchive, "cancel_frozen");
        using var cli = WatchedCli.Start(server, ["restore", "-j", "2", "--data-only", "--progress", "none", "-d", frozen.Database, workload.CustomArchive]);
        await cli.WaitUntilAsync(frozen.CopyIsWaitingAsync, TimeSpan.FromSeconds(60), "the big COPY to wait at its middle row");

        await using var monitor = await WorkloadChecks.OpenAsync(server, "postgres");
        Assert.True(await ActiveStatementsAsync(monitor, frozen.Database) > 0);
        var clock = Stopwatch.StartNew();
        (await ProcessRunner.RunAsync("kill", ["-INT", cli.Process.Id.ToString()])).EnsureSuccess();
        while (await ActiveStatementsAsync(monitor, frozen.Database) > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"statements still active 2 s after SIGINT:\n{await WorkloadChecks.DescribeSessionsAsync(monitor, frozen.Database)}\n{cli.Describe()}");
            await Task.Delay(20);
        }

        var stopped = clock.Elapsed;
        int exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var exited = clock.Elapsed;
        output.WriteLine($"no active statement {stopped.TotalMilliseconds:0} ms and exit {exited.TotalMilliseconds:0} ms after SIGINT");
        Assert.True(exited < TimeSpan.FromSeconds(2), $"exited {exited.TotalMilliseconds:0} ms after SIGINT\n{cli.Describe()}");
        Assert.Equal(1, exit);
        string err = string.Join('\n', cli.StderrLines);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        Assert.Equal(
            "restorecluster: error: restore cancelled; the journal in the target keeps what was done: rerun with --resume to continue",
            Assert.Single(cli.StderrLines, l => l.StartsWith("restorecluster: error: ", StringComparison.Ordinal)));
        Assert.True(await WorkloadChecks.JournalExistsAsync(server, frozen.Database), "a cancelled restore must keep its journal");
    }

    // Statements our sessions on the database are running now.
    private static async Task<int> ActiveStatementsAsync(NpgsqlConnection monitor, string database)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1 AND datname = $2 AND backend_type = 'client backend' AND state = 'active'", monitor);
        cmd.Parameters.Add(new NpgsqlParameter { Value = WorkloadChecks.ApplicationName });
        cmd.Parameters.Add(new NpgsqlParameter { Value = database });
        return (int)(long)(await cmd.ExecuteScalarAsync())!;
    }
}
