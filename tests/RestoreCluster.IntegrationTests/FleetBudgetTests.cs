using System.Diagnostics;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// issue 10's done-when tests for budgets: a fleet's every session on a target server (control and idle ones
/// included: every client backend named restorecluster, in any database) sampled every 50 ms never exceeds the
/// server's budget, each server reaches it, and the cluster database's own sessions (restorecluster-cluster) never
/// count, though it lives on a target server; a budget lowered mid-run holds once the running units drained.
/// </summary>
[Collection(WorkloadCollection.Name)]
public sealed class FleetBudgetTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task TwelveArchivesIntoThreeServersWithBudgetsOneTwoThreeStayWithinEachBudgetAndRestoreLikePgRestore()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var shared = fixtures.Server;
        await using var second = await PostgresServer.StartAsync();
        await using var third = await PostgresServer.StartAsync();
        PostgresServer[] servers = [shared, second, third];
        int[] budgets = [1, 2, 3];
        foreach (var s in servers.Skip(1))
        {
            await fixtures.PrepareTargetRolesAsync(s);
        }

        var archives = fixtures.Archives.Where(a => a.Fixture is "rich" or "nasty" && a.Kind != FixtureArchiveKind.CustomPiped).ToList();
        // The cluster database lives on the budget-1 server: its sessions must not count against that budget.
        await using var cluster = await SiloCluster.StartAsync(shared, silos: 2, slots: 3);
        var restores = new List<(FixtureArchive Archive, PostgresServer Server, string Database)>();
        using var folder = new FleetTests.TempFolder();
        try
        {
            for (int i = 0; i < 12; i++)
            {
                var server = servers[i % 3];
                restores.Add((archives[i % archives.Count], server, await server.CreateDatabaseAsync($"fleet12_{i}")));
            }

            string manifest = folder.Write("fleet12.yaml", "defaults:\n  options: [\"-j\", \"3\"]\nhosts:\n"
                + string.Concat(servers.Select((s, i) => $"  - host: 127.0.0.1\n    port: {s.Port}\n    budget: {budgets[i]}\n"))
                + "restores:\n"
                + string.Concat(restores.Select(r => $"  - archive: {r.Archive.Path}\n    target: \"host=127.0.0.1 port={r.Server.Port} user={r.Server.UserName} dbname={r.Database}\"\n")));

            var monitors = new List<NpgsqlConnection>();
            foreach (var s in servers)
            {
                monitors.Add(await WorkloadChecks.OpenAsync(s, "postgres"));
            }

            var clock = Stopwatch.StartNew();
            var samples = servers.Select(_ => new List<int>()).ToArray();
            var excess = new List<string>();
            using var stop = new CancellationTokenSource();
            var sampling = SampleAsync(monitors, samples, budgets, excess, stop.Token);
            var submit = await cluster.RunAsync(["submit", "--manifest", manifest]);
            Assert.True(submit.ExitCode == 0, submit.Describe());
            string fleet = Assert.Single(submit.Stderr.Split('\n'), l => l.StartsWith("fleet: ", StringComparison.Ordinal))["fleet: ".Length..];
            var wait = await cluster.RunAsync(["wait", fleet]);
            await stop.CancelAsync();
            await sampling;
            foreach (var m in monitors)
            {
                await m.DisposeAsync();
            }

            output.WriteLine($"fleet of 12 in {clock.Elapsed.TotalSeconds:0.0} s; max sessions per server: {string.Join(", ", samples.Select((s, i) => $"budget {budgets[i]}: max {s.DefaultIfEmpty().Max()} in {s.Count} samples"))}");
            // The lower bound of docs/performance.md from what was sampled: each server's work as session-seconds (the
            // samples' sum times 50 ms) over its budget, and all work over the cluster's 6 slots (the longest chain is not
            // seen from here).
            double[] work = samples.Select(s => s.Sum() * 0.05).ToArray();
            double bound = Math.Max(work.Select((w, i) => w / budgets[i]).Max(), work.Sum() / 6);
            output.WriteLine($"session-seconds per server: {string.Join(", ", work.Select(w => w.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}; lower bound {bound:0.0} s, wall {clock.Elapsed.TotalSeconds:0.0} s (from submit to the end of wait)");
            output.WriteLine(wait.StdoutText);
            Assert.True(excess.Count == 0, string.Join("\n", excess));
            for (int i = 0; i < 3; i++)
            {
                Assert.True(samples[i].Max() == budgets[i], $"server {i} with budget {budgets[i]} never held {budgets[i]} sessions at once (max {samples[i].Max()})");
            }

            Assert.Equal(12, wait.StdoutText.TrimEnd('\n').Split('\n').Length);
            var references = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var archive in restores.Select(r => r.Archive).Distinct())
            {
                string reference = await shared.CreateDatabaseAsync("fleet12_pg");
                try
                {
                    await shared.RunToolAsync("pg_restore", ["-d", reference, archive.Path], timeout: TimeSpan.FromMinutes(3));
                    references[archive.Name] = await RestoreComparison.DumpAsync(shared, reference);
                }
                finally
                {
                    await shared.DropDatabaseAsync(reference);
                }
            }

            foreach (var (archive, server, database) in restores)
            {
                Assert.True(references[archive.Name] == await RestoreComparison.DumpAsync(server, database), $"{archive.Name} into {database} differs from pg_restore's");
            }
        }
        finally
        {
            foreach (var (_, server, database) in restores)
            {
                await server.DropDatabaseAsync(database);
            }
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task ABudgetLoweredFromThreeToOneMidRunHoldsOnceTheRunningUnitsDrained()
    {
        // Three data-only restores into schemas pg_restore made, whose tables the test holds locked: the fleet's three
        // sessions wait on the locks (running units, without CPU, however busy the machine is) while the budget goes
        // down to 1; then the locks go and the running units drain.
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures["rich.custom"].Path;
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2, slots: 3);
        var targets = new List<string>();
        var holders = new List<NpgsqlConnection>();
        using var folder = new FleetTests.TempFolder();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                string target = await server.CreateDatabaseAsync($"fleetlow_{i}");
                targets.Add(target);
                (await server.RunToolAsync("pg_restore", ["--section=pre-data", "-d", target, archive], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
                var holder = await WorkloadChecks.OpenAsync(server, target);
                holders.Add(holder);
                await using var lockAll = new NpgsqlCommand(
                    "BEGIN; DO $$DECLARE t regclass; BEGIN FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
                    "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') LOOP " +
                    "EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', t); END LOOP; END$$", holder);
                await lockAll.ExecuteNonQueryAsync();
            }

            string manifest = folder.Write("fleet.yaml", $"defaults:\n  options: [\"-j\", \"3\", \"--data-only\"]\nhosts:\n  - host: 127.0.0.1\n    port: {server.Port}\n    budget: 3\nrestores:\n"
                + string.Concat(targets.Select(t => $"  - archive: {archive}\n    target: \"host=127.0.0.1 port={server.Port} dbname={t}\"\n")));
            await using var monitor = await WorkloadChecks.OpenAsync(server, "postgres");
            var submit = await cluster.RunAsync(["submit", "--manifest", manifest]);
            Assert.True(submit.ExitCode == 0, submit.Describe());
            string fleet = Assert.Single(submit.Stderr.Split('\n'), l => l.StartsWith("fleet: ", StringComparison.Ordinal))["fleet: ".Length..];
            var wait = cluster.RunAsync(["wait", fleet]);
            await WorkloadChecks.WaitUntilAsync(async () => await ServerSessionsAsync(monitor) == 3, TimeSpan.FromMinutes(2), () => "the fleet to hold its budget of 3 sessions");

            var lower = await cluster.RunAsync(["budget", "set", $"127.0.0.1:{server.Port}", "1"]);
            Assert.True(lower.ExitCode == 0, lower.Describe());
            Assert.Contains("budget 3 -> 1", lower.StdoutText, StringComparison.Ordinal);
            int held = await ServerSessionsAsync(monitor);
            Assert.True(held == 3, $"{held} sessions right after the budget was lowered (3 expected: the running units):\n{await DescribeAsync(monitor)}");
            foreach (var holder in holders)
            {
                await holder.DisposeAsync();
            }

            // From the first sample at or under 1 on (the running units drained), never more than 1.
            var clock = Stopwatch.StartNew();
            TimeSpan? drained = null;
            var after = new List<int>();
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            while (!wait.IsCompleted)
            {
                int sessions = await ServerSessionsAsync(monitor);
                if (drained is null && sessions <= 1)
                {
                    drained = clock.Elapsed;
                }

                if (drained is not null)
                {
                    after.Add(sessions);
                    Assert.True(sessions <= 1, $"{sessions} sessions {clock.Elapsed.TotalSeconds:0.0} s after the locks went (drained at {drained.Value.TotalSeconds:0.0} s):\n{await DescribeAsync(monitor)}");
                }

                await timer.WaitForNextTickAsync();
            }

            var ended = await wait;
            output.WriteLine($"drained {drained?.TotalSeconds:0.0} s after the locks went; {after.Count} samples after, max {after.DefaultIfEmpty().Max()}; the fleet ended {clock.Elapsed.TotalSeconds:0.0} s after");
            Assert.True(drained is not null && after.Count > 0, $"the fleet ended before its running units drained ({after.Count} samples after)");
            string reference = await server.CreateDatabaseAsync("fleetlow_pg");
            try
            {
                // What the fleet did, by pg_restore: the schema, then the data.
                (await server.RunToolAsync("pg_restore", ["--section=pre-data", "-d", reference, archive], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
                var data = await server.RunToolAsync("pg_restore", ["--data-only", "-d", reference, archive], timeout: TimeSpan.FromMinutes(1));
                // Each job ends as pg_restore does (its errors, if any, are the archive's: done with errors, exit 1).
                Assert.True(ended.ExitCode == data.ExitCode, $"{ended.Describe()}\n{ended.StdoutText}\n--- pg_restore:\n{data.Describe()}");
                string expected = await RestoreComparison.DumpAsync(server, reference);
                foreach (string target in targets)
                {
                    Assert.Equal(expected, await RestoreComparison.DumpAsync(server, target));
                }
            }
            finally
            {
                await server.DropDatabaseAsync(reference);
            }
        }
        finally
        {
            foreach (var holder in holders)
            {
                await holder.DisposeAsync();
            }

            foreach (string target in targets)
            {
                await server.DropDatabaseAsync(target);
            }
        }
    }

    // Every session of ours on the server, in any database: a restore's sessions are named restorecluster; the
    // cluster database's are restorecluster-cluster, this test's restorecluster-tests.
    // The fleet's sessions only: other test classes may restore into the shared server meanwhile.
    private const string OurSessions =
        "FROM pg_catalog.pg_stat_activity WHERE application_name = 'restorecluster' AND backend_type = 'client backend' AND (datname LIKE 'fleet12%' OR datname LIKE 'fleetlow%')";

    private static async Task<int> ServerSessionsAsync(NpgsqlConnection monitor)
    {
        await using var cmd = new NpgsqlCommand("SELECT count(*) " + OurSessions, monitor);
        return (int)(long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<string> DescribeAsync(NpgsqlConnection monitor)
    {
        await using var cmd = new NpgsqlCommand("SELECT string_agg(pid || ' ' || datname || ' ' || coalesce(state, '-') || ': ' || left(query, 60), E'\\n') " + OurSessions, monitor);
        return (await cmd.ExecuteScalarAsync()) as string ?? "";
    }

    private static async Task SampleAsync(IReadOnlyList<NpgsqlConnection> monitors, List<int>[] samples, int[] budgets, List<string> excess, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (!stop.IsCancellationRequested)
        {
            for (int i = 0; i < monitors.Count; i++)
            {
                int sessions = await ServerSessionsAsync(monitors[i]);
                samples[i].Add(sessions);
                if (sessions > budgets[i] && excess.Count < 5)
                {
                    excess.Add($"server {i}: {sessions} sessions over its budget of {budgets[i]}:\n{await DescribeAsync(monitors[i])}");
                }
            }

            try
            {
                await timer.WaitForNextTickAsync(stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
