using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Ctrl-C (SIGINT) cancels a restore: no more units are handed out, running ones finish or roll back, the
/// process says how to continue and exits 1, the journal stays, and --resume completes the restore.
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
}
