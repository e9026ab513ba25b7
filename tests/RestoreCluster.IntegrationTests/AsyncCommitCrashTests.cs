using System.Diagnostics;
using System.Globalization;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Units commit with synchronous_commit off (docs/restore.md, "Session settings of units"). The target is
/// stopped with <c>pg_ctl stop -m immediate</c> in the middle of a parallel restore of 150 small tables (each
/// with a primary key and an index: no unit of it truncates, so none forces a synchronous commit), after
/// units committed whose WAL was not written yet (the server's WAL writer and background writer are held with
/// SIGSTOP, and the server itself commits synchronously, so only the units' own setting makes their commits
/// wait for nothing). The crash loses those commits; the restore sees it when its sessions join the job again (the
/// journal's unlogged alive row is gone) and stops with one line; --resume then redoes what the journal no
/// longer holds, and the database is pg_restore's with no row twice. With --no-async-commit nothing is lost
/// and the restore rides the crash out.
/// </summary>
[Collection(WorkloadCollection.Name)]
public sealed class AsyncCommitCrashTests(ITestOutputHelper output)
{
    // synchronous_commit on (the harness's servers have it off): a lost commit is then the units' own doing.
    // WAL buffers large enough that no backend has to write them out while the writers are held.
    private static readonly string[] Settings = ["synchronous_commit=on", "wal_buffers=256MB"];

    private const int Tables = 150;

    [Fact]
    public async Task ACrashThatLosesAsynchronousCommitsStopsTheRestoreAndResumeRedoesThemAsPgRestoreWould()
    {
        await using var server = await PostgresServer.StartAsync(null, Settings);
        string archive = await ArchiveAsync(server);
        string target = await server.CreateDatabaseAsync("asynccrash");

        using (var cli = RunningCli.Start(server, ["restore", "-j", "2", "--progress", "none", "-d", target, archive]))
        {
            var (before, after) = await CrashAfterUnwrittenCommitsAsync(server, target, cli);
            await WaitForExitAsync(cli);
            string stderr = await cli.Stderr;
            output.WriteLine($"journaled before the crash {before}, after it {after}; restore: exit {cli.Process.ExitCode}\n{stderr}");
            Assert.True(after < before, $"the crash lost no journaled unit ({before} before, {after} after): the units' commits were not asynchronous");
            Assert.Equal(1, cli.Process.ExitCode);
            Assert.Contains("restorecluster: error: ", stderr, StringComparison.Ordinal);
            Assert.Contains("crashed or was stopped immediately", stderr, StringComparison.Ordinal);
            Assert.Contains("--resume", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        }

        var resumed = await CliRunner.RunAsync(server, ["restore", "-j", "2", "--resume", "--progress", "none", "-d", target, archive], timeout: TimeSpan.FromMinutes(3));
        output.WriteLine($"--resume: exit {resumed.ExitCode}\n{resumed.Stderr}");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.False(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is left after the resumed restore ended");
        await AssertSameAsPgRestoreAsync(server, target, archive);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task WithNoAsyncCommitACrashLosesNothingAndTheRestoreRidesItOut()
    {
        await using var server = await PostgresServer.StartAsync(null, Settings);
        string archive = await ArchiveAsync(server);
        string target = await server.CreateDatabaseAsync("synccrash");

        using var cli = RunningCli.Start(server, ["restore", "-j", "2", "--no-async-commit", "--progress", "none", "-d", target, archive]);
        var (before, after) = await CrashAfterUnwrittenCommitsAsync(server, target, cli);
        await WaitForExitAsync(cli);
        string stderr = await cli.Stderr;
        output.WriteLine($"journaled before the crash {before}, after it {after}; restore: exit {cli.Process.ExitCode}\n{stderr}");
        Assert.True(after >= before, $"a synchronous commit was lost ({before} journaled before the crash, {after} after)");
        Assert.True(cli.Process.ExitCode == 0, stderr);
        await AssertSameAsPgRestoreAsync(server, target, archive);
    }

    // 150 tables (id PRIMARY KEY, k with an index, v) of 100 rows, dumped with pg_dump -Fc into the server's own folder.
    private static async Task<string> ArchiveAsync(PostgresServer server)
    {
        string source = await server.CreateDatabaseAsync("crash_source");
        await server.ExecuteAsync(source, string.Create(CultureInfo.InvariantCulture, $$"""
            DO $$
            BEGIN
              FOR i IN 1..{{Tables}} LOOP
                EXECUTE format('CREATE TABLE public.t%s (id integer PRIMARY KEY, k integer NOT NULL, v text)', i);
                EXECUTE format('CREATE INDEX t%s_k_idx ON public.t%s (k)', i, i);
                EXECUTE format('INSERT INTO public.t%s SELECT g, g %% 7, md5(g::text) FROM generate_series(1, 100) g', i);
              END LOOP;
            END
            $$
            """));
        string archive = Path.Combine(Path.GetTempPath(), $"restorecluster-crash-{Environment.ProcessId}-{Guid.NewGuid():N}.dump");
        (await server.RunToolAsync("pg_dump", ["-Fc", "-f", archive, "-d", server.LibpqConnectionString(source)], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
        return archive;
    }

    private static async Task AssertSameAsPgRestoreAsync(PostgresServer server, string target, string archive)
    {
        string reference = await server.CreateDatabaseAsync("crash_ref");
        (await server.RunToolAsync("pg_restore", ["-j", "2", "-d", reference, archive], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
        string expected = await RestoreComparison.DumpAsync(server, reference);
        string actual = await RestoreComparison.DumpAsync(server, target);
        if (actual != expected)
        {
            Assert.Fail("pg_dump of the restore differs from pg_restore's:\n" + RestoreComparison.FirstDifference(expected, actual));
        }
    }

    // Holds the server's WAL writer and background writer (SIGSTOP), waits until units commit after that, and
    // stops the server with -m immediate, then starts it again. Returns the journaled units just before the stop
    // and just after the start.
    private async Task<(int Before, int After)> CrashAfterUnwrittenCommitsAsync(PostgresServer server, string target, RunningCli cli)
    {
        int before;
        List<int> writers;
        await using (var monitor = await WorkloadChecks.OpenAsync(server, target))
        {
            await WaitForJournaledAsync(monitor, cli, 20);
            writers = await WriterPidsAsync(monitor);
            foreach (int pid in writers)
            {
                await SignalAsync("STOP", pid);
            }

            int held = await WorkloadChecks.JournaledUnitsAsync(monitor);
            before = await WaitForJournaledAsync(monitor, cli, held + 10);
            output.WriteLine($"writers held with {held} units journaled; {before} when the server is stopped");
        }

        var clock = Stopwatch.StartNew();
        var restart = server.RestartAsync(TimeSpan.FromMilliseconds(200), immediate: true);
        await ReleaseOnceToldToQuitAsync(writers);
        await restart;
        output.WriteLine($"the server was back after {clock.Elapsed.TotalSeconds:0.0} s");
        await using var after = await WorkloadChecks.OpenAsync(server, target);
        return (before, await WorkloadChecks.JournaledUnitsAsync(after));
    }

    private static async Task<int> WaitForJournaledAsync(NpgsqlConnection monitor, RunningCli cli, int atLeast)
    {
        int journaled = 0;
        await WorkloadChecks.WaitUntilAsync(
            async () =>
            {
                if (cli.Process.HasExited)
                {
                    Assert.Fail($"the restore ended (exit {cli.Process.ExitCode}) before the crash:\n{await cli.Stderr}");
                }

                journaled = await WorkloadChecks.JournaledUnitsAsync(monitor);
                return journaled >= atLeast;
            },
            TimeSpan.FromSeconds(60),
            () => $"{atLeast} units journaled (last count {journaled})");
        return journaled;
    }

    // The postmaster's immediate shutdown sends SIGQUIT to its children; a held one would be killed only after 5 s,
    // longer than a restore's connect retry waits under load. Once SIGQUIT is pending for it (bit 3 of its pending
    // masks in /proc), it is let go: the pending signal is handled before anything else, and the process exits
    // without writing WAL.
    private static async Task ReleaseOnceToldToQuitAsync(List<int> pids)
    {
        const ulong sigquit = 1UL << (3 - 1);
        var held = new List<int>(pids);
        var clock = Stopwatch.StartNew();
        while (held.Count > 0)
        {
            foreach (int pid in held.ToList())
            {
                string status = $"/proc/{pid}/status";
                ulong pending = File.Exists(status)
                    ? File.ReadLines(status)
                        .Where(l => l.StartsWith("SigPnd:", StringComparison.Ordinal) || l.StartsWith("ShdPnd:", StringComparison.Ordinal))
                        .Aggregate(0UL, (mask, l) => mask | ulong.Parse(l[7..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture))
                    : sigquit;
                if ((pending & sigquit) != 0)
                {
                    await SignalAsync("CONT", pid);
                    held.Remove(pid);
                }
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the postmaster sent no SIGQUIT to its held writers within 30 s");
            await Task.Delay(10);
        }
    }

    // A process already gone (the postmaster killed it) needs no signal.
    private static async Task SignalAsync(string signal, int pid)
    {
        var result = await ProcessRunner.RunAsync("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(result.ExitCode == 0 || !Directory.Exists($"/proc/{pid}"), $"kill -{signal} {pid}: {result.Stderr}");
    }

    private static async Task<List<int>> WriterPidsAsync(NpgsqlConnection monitor)
    {
        await using var cmd = new NpgsqlCommand("SELECT pid FROM pg_catalog.pg_stat_activity WHERE backend_type IN ('walwriter', 'background writer')", monitor);
        await using var r = await cmd.ExecuteReaderAsync();
        var pids = new List<int>();
        while (await r.ReadAsync())
        {
            pids.Add(r.GetInt32(0));
        }

        Assert.Equal(2, pids.Count);
        return pids;
    }

    private static async Task WaitForExitAsync(RunningCli cli)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await cli.Process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            await cli.KillAsync();
            Assert.Fail("the restore did not end within 2 minutes of the crash");
        }
    }
}
