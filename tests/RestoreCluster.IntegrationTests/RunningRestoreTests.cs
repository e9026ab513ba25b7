using System.Text.RegularExpressions;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A journal a restore still works on is that restore's alone: a --resume, or a forget, while it runs is one
/// error line naming it (archive, start, pid and host) with exit code 1, and the running restore ends as
/// pg_restore's would. A restore killed with SIGKILL holds nothing: its --resume runs, and is in turn
/// protected while it runs. "Running" is held still by a SHARE lock on the journal's unit table, which
/// holds back every unit's first statement.
/// </summary>
public sealed partial class RunningRestoreTests(ITestOutputHelper output)
{
    private static readonly WorkloadSpec Small = new(Tables: 2, TableMegabytes: 2, BigMegabytes: 24);
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AResumeAndAForgetWhileTheRestoreRunsAreRefusedAndTheRestoreEndsAsPgRestore()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync(Small);
        await WorkloadChecks.ReferenceAsync(server, workload.CustomArchive);
        string target = await server.CreateDatabaseAsync("running");
        string label = $"{server.Host}:{server.Port}/{target} as {server.UserName}";
        try
        {
            using var first = RunningCli.Start(server, ["restore", "-j", "2", "-d", target, workload.CustomArchive]);
            await using var holder = await WorkloadChecks.OpenAsync(server, target);
            await using (await WorkloadChecks.PauseTheJournalAsync(holder, first))
            {
                int journaled = await WorkloadChecks.JournaledUnitsAsync(holder);

                var resume = await CliRunner.RunAsync(server, ["restore", "-j", "2", "--resume", "-d", target, workload.CustomArchive], timeout: WaitLimit);
                AssertRefused(resume, workload.CustomArchive, label, first.Process.Id, "; wait for it to end, or stop it, before --resume");
                var forget = await CliRunner.RunAsync(server, ["forget", "-d", target], timeout: WaitLimit);
                AssertRefused(forget, workload.CustomArchive, label, first.Process.Id, "; stop it before forgetting its journal");
                Assert.Equal("", forget.StdoutText);

                Assert.False(first.Process.HasExited, "the running restore ended while it was held");
                Assert.True(await WorkloadChecks.JournalExistsAsync(server, target), "the journal of the running restore is gone");
                Assert.Equal(journaled, await WorkloadChecks.JournaledUnitsAsync(holder));
            }

            await AssertEndsAsPgRestoreAsync(server, target, workload, first);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task AfterTheRestoreWasKilledItsResumeRunsAndIsItselfProtectedWhileItRuns()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync(Small);
        await WorkloadChecks.ReferenceAsync(server, workload.CustomArchive);
        string target = await server.CreateDatabaseAsync("running_killed");
        string label = $"{server.Host}:{server.Port}/{target} as {server.UserName}";
        try
        {
            await using var holder = await WorkloadChecks.OpenAsync(server, target);
            using (var killed = RunningCli.Start(server, ["restore", "-j", "2", "-d", target, workload.CustomArchive]))
            {
                await using (await WorkloadChecks.PauseTheJournalAsync(holder, killed))
                {
                    await killed.KillAsync();
                }
            }

            // Its sessions end once they notice their client is gone (those held back by the lock, after it).
            await WorkloadChecks.WaitUntilAsync(
                async () => await WorkloadChecks.SessionsAsync(holder, target) == 0, WaitLimit, () => "the killed restore's sessions to end");
            // Units are not entries (a key built in steps is two units), so no upper bound here: the --resume waiting on the
            // journal below shows that units were left.
            int journaled = await WorkloadChecks.JournaledUnitsAsync(holder);
            Assert.True(journaled >= 1, $"{journaled} units journaled");

            // Held from the start: the --resume takes the journal over, then waits at its first unit's journal row.
            var hold = await holder.BeginTransactionAsync();
            await ExecAsync(holder, "LOCK TABLE restorecluster_journal.unit IN SHARE MODE");
            using var resumed = RunningCli.Start(server, ["restore", "-j", "2", "--resume", "-d", target, workload.CustomArchive]);
            // pg_stat_activity is read once per transaction: the holder in its transaction would see it frozen.
            await using var monitor = await WorkloadChecks.OpenAsync(server, target);
            await WorkloadChecks.WaitUntilAsync(
                async () =>
                {
                    if (resumed.Process.HasExited)
                    {
                        Assert.Fail($"the --resume ended (exit {resumed.Process.ExitCode}) while it was held:\n{await resumed.Stderr}");
                    }

                    return await WaitsOnTheJournalAsync(monitor, target);
                },
                WaitLimit,
                () => "the --resume to wait on the journal");

            var second = await CliRunner.RunAsync(server, ["restore", "-j", "2", "--resume", "-d", target, workload.CustomArchive], timeout: WaitLimit);
            AssertRefused(second, workload.CustomArchive, label, resumed.Process.Id, "; wait for it to end, or stop it, before --resume");
            Assert.Equal(journaled, await WorkloadChecks.JournaledUnitsAsync(holder));
            await hold.RollbackAsync();

            await AssertEndsAsPgRestoreAsync(server, target, workload, resumed);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    private void AssertRefused(ProcessResult result, string archive, string label, int pid, string advice)
    {
        output.WriteLine($"exit {result.ExitCode}: {result.Stderr.Trim()}");
        Assert.False(result.TimedOut, $"not refused: it ran on (or waited) for {WaitLimit.TotalSeconds:0} s\n{result.Describe()}");
        Assert.True(result.ExitCode == 1, result.Describe());
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line of error, got:\n{result.Stderr}");
        string expectedStart = $"restorecluster: error: a restore of {archive} into {label} is still running (started ";
        Assert.StartsWith(expectedStart, lines[0], StringComparison.Ordinal);
        var m = StartedPidHost().Match(lines[0][expectedStart.Length..]);
        Assert.True(m.Success, lines[0]);
        var started = DateTimeOffset.ParseExact(m.Groups[1].Value, "yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(started, DateTimeOffset.Now.AddMinutes(-10), DateTimeOffset.Now);
        Assert.Equal(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value);
        Assert.Equal(Environment.MachineName, m.Groups[3].Value);
        Assert.Equal(advice, m.Groups[4].Value);
    }

    private async Task AssertEndsAsPgRestoreAsync(PostgresServer server, string target, Workload workload, RunningCli cli)
    {
        using (var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            await cli.Process.WaitForExitAsync(limit.Token);
        }

        string stderr = await cli.Stderr;
        output.WriteLine($"the held restore: exit {cli.Process.ExitCode}\n{stderr}");
        Assert.True(cli.Process.ExitCode == 0, stderr);
        Assert.Equal("", stderr);
        Assert.False(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is left after the restore ended");
        await WorkloadChecks.AssertRowsAsync(server, target, workload);
        await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, target, workload.CustomArchive);
    }


    private static async Task<bool> WaitsOnTheJournalAsync(NpgsqlConnection monitor, string database)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1 AND datname = $2 AND wait_event_type = 'Lock' AND wait_event = 'relation'",
            monitor);
        cmd.Parameters.Add(new NpgsqlParameter { Value = WorkloadChecks.ApplicationName });
        cmd.Parameters.Add(new NpgsqlParameter { Value = database });
        return (long)(await cmd.ExecuteScalarAsync())! > 0;
    }

    private static async Task ExecAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    [GeneratedRegex(@"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d), pid (\d+) on host (.+)\)(;.*)$")]
    private static partial Regex StartedPidHost();
}
