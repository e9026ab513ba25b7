using System.Diagnostics;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A restore killed with SIGKILL in the middle of the big table's COPY leaves its journal behind; --resume
/// finishes it with every row exactly once and the database pg_restore makes, and refuses another archive,
/// other options, or a plain rerun onto the leftover journal without touching it.
/// </summary>
[Collection(WorkloadCollection.Name)]
public sealed class KillAndResumeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ARestoreKilledDuringTheBigCopyResumesToTheSameDatabaseWithoutDuplicatesAndRefusesMismatchedReruns()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        var fixtures = await FixtureArchives.GetAsync();
        string otherArchive = fixtures.Archives.First(a => a.Fixture == "rich" && a.Kind == FixtureArchiveKind.Custom).Path;
        string target = await server.CreateDatabaseAsync("killresume");
        try
        {
            var clock = Stopwatch.StartNew();
            int journaled = await KillDuringTheBigCopyAsync(server, target, workload);
            output.WriteLine($"killed after {clock.Elapsed.TotalSeconds:0.0} s with {journaled} of {workload.ArchiveEntries} units journaled");
            Assert.True(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is gone after SIGKILL");

            // Reruns that must not continue the interrupted restore: one line on stderr, exit 1, journal kept.
            await AssertRefusedAsync(server, ["restore", "-j", "2", "--resume", "-d", target, otherArchive], "different archive", journaled);
            await AssertRefusedAsync(server, ["restore", "-j", "2", "--resume", "-O", "-d", target, workload.CustomArchive], "different options", journaled);
            await AssertRefusedAsync(server, ["restore", "-j", "2", "-d", target, workload.CustomArchive], "--resume", journaled);

            clock.Restart();
            var resumed = await CliRunner.RunAsync(server, ["restore", "-j", "2", "--resume", "-d", target, workload.CustomArchive], timeout: TimeSpan.FromMinutes(3));
            output.WriteLine($"--resume: exit {resumed.ExitCode} in {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.True(resumed.ExitCode == 0, resumed.Describe());
            Assert.DoesNotContain("   at ", resumed.Stderr, StringComparison.Ordinal);
            Assert.False(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is left after the resumed restore ended");
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
            await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, target, workload.CustomArchive);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    // Starts restore -j 2 and kills its process tree once the big table's COPY runs and some (not all) units
    // are journaled; waits until its sessions are gone. Returns the number of journaled units.
    private async Task<int> KillDuringTheBigCopyAsync(PostgresServer server, string target, Workload workload)
    {
        using var cli = RunningCli.Start(server, ["restore", "-j", "2", "-d", target, workload.CustomArchive]);
        var process = cli.Process;
        var stderr = cli.Stderr;
        int journaled = 0;
        try
        {
            await using var monitor = await WorkloadChecks.OpenAsync(server, target);
            await WorkloadChecks.WaitUntilAsync(
                async () =>
                {
                    if (process.HasExited)
                    {
                        Assert.Fail($"the restore ended (exit {process.ExitCode}) before it could be killed during the big COPY:\n{await stderr}");
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
        }
        finally
        {
            await cli.KillAsync();
        }

        // The server notices the lost client and rolls its transactions back.
        await using (var monitor = await WorkloadChecks.OpenAsync(server, "postgres"))
        {
            await WorkloadChecks.WaitUntilAsync(
                async () => await WorkloadChecks.SessionsAsync(monitor, target) == 0,
                WaitLimit,
                () => "the killed restore's sessions to end");
        }

        // Units the other slot committed between that count and the kill are journaled too: count again now
        // that nothing of the killed restore runs.
        await using (var monitor = await WorkloadChecks.OpenAsync(server, target))
        {
            journaled = await WorkloadChecks.JournaledUnitsAsync(monitor);
        }

        // Units are not entries (a key built in steps is two units): the kill came while fewer units than entries were in.
        Assert.True(journaled >= 1, $"{journaled} units journaled");
        return journaled;
    }

    private async Task AssertRefusedAsync(PostgresServer server, string[] args, string expected, int journaled)
    {
        string target = args[Array.IndexOf(args, "-d") + 1];
        var result = await CliRunner.RunAsync(server, args, timeout: TimeSpan.FromMinutes(2));
        output.WriteLine($"{string.Join(' ', args.Skip(1).Where(a => a != target && !a.Contains('/', StringComparison.Ordinal)))}: exit {result.ExitCode}: {result.Stderr.Trim()}");
        Assert.True(result.ExitCode == 1, result.Describe());
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line of error, got:\n{result.Stderr}");
        Assert.StartsWith("restorecluster: error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.True(await WorkloadChecks.JournalExistsAsync(server, target), $"the journal is gone after a refused rerun: {lines[0]}");
        await using var monitor = await WorkloadChecks.OpenAsync(server, target);
        Assert.Equal(journaled, await WorkloadChecks.JournaledUnitsAsync(monitor));
    }
}
