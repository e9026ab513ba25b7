using System.Text.Json;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// <c>restore --host-budget auto:MAX --protect MS [--probe-sql SQL]</c> on a real server, followed through
/// <c>--progress json</c>'s host object: with a fast probe and slots waiting, the units' permits rise one at a time
/// to MAX − 1 (the probe holds a session of the budget); with a probe slower than MS (<c>pg_sleep</c>) they halve
/// to a pause and the restore still finishes. Each ends pg_dump-identical to pg_restore's. Units are made slow by a
/// CHECK constraint that sleeps per row, so the budget has windows to act in.
/// </summary>
// Their budgets follow the probe's latency and the units' throughput: concurrent restores of other test classes would
// steer them.
[Collection(WorkloadCollection.Name)]
public sealed class AdaptiveBudgetTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-adaptive-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task WithAFastProbeThePermitsRiseOneAtATimeToTheMaximumBesideTheProbe()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await SlowTablesAsync(server, "adaptive_fast", tables: 14, rowsPerTable: 60);

        var (run, hosts) = await RestoreAsync(server, archive, "adaptive_fast", ["-j", "4", "--host-budget", "auto:4", "--protect", "5000"]);

        var budgets = hosts.Select(h => h.GetProperty("budget").GetInt32()).ToList();
        output.WriteLine("unit permits seen: " + string.Join(",", budgets));
        Assert.Equal(1, budgets[0]);
        Assert.Equal(3, budgets.Max());
        Assert.All(budgets.Zip(budgets.Skip(1)), pair => Assert.True(pair.Second - pair.First <= 1, $"rose from {pair.First} to {pair.Second} at once"));
        Assert.All(hosts, h => Assert.Equal("auto:4, protect 5000 ms", h.GetProperty("adaptive").GetString()));
        Assert.Contains(hosts, h => h.GetProperty("reason").GetString() is { } r && r.Contains("raised from 3 to 4", StringComparison.Ordinal));
        Assert.DoesNotContain(hosts, h => h.GetProperty("inFlight").GetInt32() > 3);
        Assert.All(hosts, h => Assert.Equal(100, h.GetProperty("copyPace").GetInt32()));
    }

    // Each change is also traced: a "budget change" span with its reason, exported over OTLP.
    [Fact]
    public async Task WithAProbeSlowerThanTheLimitThePermitsHalveToAPauseAndTheRestoreStillFinishes()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await SlowTablesAsync(server, "adaptive_slow", tables: 3, rowsPerTable: 150);
        await using var collector = new OtlpCollector();

        var (run, hosts) = await RestoreAsync(
            server, archive, "adaptive_slow", ["-j", "3", "--host-budget", "auto:3", "--protect", "50", "--probe-sql", "SELECT pg_sleep(0.1)"],
            new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            });

        var budgets = hosts.Select(h => h.GetProperty("budget").GetInt32()).ToList();
        output.WriteLine("unit permits seen: " + string.Join(",", budgets));
        Assert.Contains(0, budgets);
        Assert.True(budgets.Max() <= 1, "a probe always over its limit never lets the budget rise");
        Assert.Contains(hosts, h => h.GetProperty("reason").GetString() is { } r
            && System.Text.RegularExpressions.Regex.IsMatch(r, @"^probe p95 \d+(\.\d)? ms over 50 ms: halved from 2 to 1 \(units pause: only the probe runs\)$"));
        // Protobuf carries strings as their UTF-8 bytes: the span's name, its attribute keys and the reason show as they are.
        string traces = collector.Payload("/v1/traces");
        foreach (string expected in new[] { "budget change", "restorecluster.reason", "restorecluster.unit_permits", "ms over 50 ms: halved from 2 to 1" })
        {
            Assert.Contains(expected, traces, StringComparison.Ordinal);
        }
    }

    // The budget acts between units; a running COPY is paced by each probe answer (docs/concurrency.md). With a probe always
    // over the limit, the table's COPY (many blocks of data) rests between blocks, which the log says; the progress shows
    // the pace fall; the restore still ends as pg_restore's.
    [Fact]
    public async Task UnderAProbeOverTheLimitARunningCopyIsPacedAndTheRestoreStillMatchesPgRestore()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await RestoreComparison.MakeArchiveAsync(server, _directory.FullName, "adaptive_pace", db => server.ExecuteAsync(db, """
            CREATE TABLE big (id integer, a text, b text);
            INSERT INTO big SELECT g, md5(g::text), md5((g * 7)::text) FROM generate_series(1, 600000) g;
            """));
        string log = Path.Combine(_directory.FullName, "pace.log");

        var (_, hosts) = await RestoreAsync(
            server, archive, "adaptive_pace",
            ["-j", "2", "--host-budget", "auto:2", "--protect", "50", "--probe-sql", "SELECT pg_sleep(0.1)", "--log-file", log]);

        var paces = hosts.Select(h => h.GetProperty("copyPace").GetInt32()).ToList();
        output.WriteLine("COPY paces seen: " + string.Join(",", paces));
        Assert.Contains(paces, p => p < 100);
        Assert.All(paces, p => Assert.InRange(p, 5, 100)); // CopyPacer.Slowest is 5%
        string held = File.ReadLines(log).FirstOrDefault(l => l.Contains("held its COPY data back", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException("no batch held its COPY data back:\n" + File.ReadAllText(log));
        var ms = System.Text.RegularExpressions.Regex.Match(held, @"back (\d+) ms in all");
        Assert.True(ms.Success && int.Parse(ms.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, held);
    }

    // What the pace cannot slow owes rest after its batch (docs/concurrency.md): a table whose rows take 10 ms each to load
    // on the server is a COPY of one block, whose time the pace cannot stretch. With a probe always over the limit the
    // pace is at its slowest, so its slot rests (about 19 × the batch's time, at most 10 s) before its next unit, which
    // the log says; the restore still ends as pg_restore's.
    [Fact]
    public async Task UnderAProbeOverTheLimitABatchThePaceCouldNotSlowIsFollowedByARest()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await SlowTablesAsync(server, "adaptive_rest", tables: 1, rowsPerTable: 20);
        string log = Path.Combine(_directory.FullName, "rest.log");

        await RestoreAsync(
            server, archive, "adaptive_rest",
            ["-j", "2", "--host-budget", "auto:2", "--protect", "50", "--probe-sql", "SELECT pg_sleep(0.1)", "--log-file", log]);

        var rests = File.ReadLines(log)
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"took (\d+) ms, more than host .*'s COPY pace allows: its slot rests (\d+) ms"))
            .Where(m => m.Success)
            .Select(m => (Took: int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Owed: int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        output.WriteLine("batches that rested (took, rest ms): " + string.Join(", ", rests));
        // The table's data: 20 rows of 10 ms, at least 200 ms, owes more than its own time.
        Assert.Contains(rests, r => r.Took >= 200 && r.Owed > r.Took && r.Owed <= 10_000);
    }

    // Under --protect the restoring process yields the CPU to the server it protects (often on the same host): every one
    // of its threads runs at nice 10 and on a quarter of the CPUs, those the silo started included. Read from /proc while
    // a unit's COPY runs; meanwhile the budget's probe runs its default query, which writes.
    [Fact]
    public async Task UnderProtectEveryThreadRunsAtNiceTenOnAQuarterOfTheCpusAndTheDefaultProbeWrites()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await SlowTablesAsync(server, "adaptive_nice", tables: 1, rowsPerTable: 300);
        string ours = await server.CreateDatabaseAsync("adaptive_nice_rc");
        try
        {
            using var cli = RunningCli.Start(server, ["restore", "-j", "2", "--host-budget", "auto:2", "--protect", "5000", "--progress", "none", "-d", ours, archive]);
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (await server.ScalarAsync<long>("postgres", $"SELECT count(*) FROM pg_stat_progress_copy WHERE datname = '{ours}' AND command = 'COPY FROM'") == 0)
            {
                if (cli.Process.HasExited)
                {
                    Assert.Fail($"the restore ended (exit {cli.Process.ExitCode}) before its COPY was seen: {await cli.Stderr}");
                }

                Assert.True(DateTime.UtcNow < deadline, "no COPY of the restore was seen in a minute");
                await Task.Delay(50);
            }

            AssertYields(cli.Process.Id);

            // The default probe writes (a commit record to the WAL), so that it waits where the server's writers wait.
            const string defaultProbe = "SELECT txid_current()";
            var probeSeen = DateTime.UtcNow.AddSeconds(30);
            while (await server.ScalarAsync<long>("postgres", $"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'restorecluster' AND query = '{defaultProbe}'") == 0)
            {
                Assert.True(DateTime.UtcNow < probeSeen && !cli.Process.HasExited, "no session of the restore ran the default probe, " + defaultProbe);
                await Task.Delay(20);
            }

            await cli.Process.WaitForExitAsync();
            Assert.True(cli.Process.ExitCode == 0, await cli.Stderr);
        }
        finally
        {
            await server.DropDatabaseAsync(ours);
        }
    }

    // The process yields from the start, not once the target answers: the embedded silo's start is most of the CPU a
    // short restore costs its host, and it runs while the target is reached. The target here accepts the connection
    // and never answers, so the restore waits on it, its silo started, while the threads are read.
    [Fact]
    public async Task UnderProtectTheProcessYieldsBeforeTheTargetAnswers()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await SlowTablesAsync(server, "adaptive_nice_early", tables: 1, rowsPerTable: 10);
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        int port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        using var cli = RunningCli.Start(server, ["restore", "-j", "2", "--host-budget", "auto:2", "--protect", "5000", "--progress", "none", "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-d", "never_answered", archive]);
        try
        {
            using var accepted = await silent.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromMinutes(1));
            // Connected and waiting for the server's answer: the silo started meanwhile goes on starting for a moment.
            await Task.Delay(TimeSpan.FromSeconds(2));
            if (cli.Process.HasExited)
            {
                Assert.Fail("the restore did not wait on the silent target: " + await cli.Stderr);
            }

            AssertYields(cli.Process.Id);
        }
        finally
        {
            await cli.KillAsync();
        }
    }

    // Every thread of the process at nice 10 and on the last quarter of the CPUs this test may use (at least one; all of
    // them when it may use one only).
    private void AssertYields(int pid)
    {
        var threads = Directory.EnumerateDirectories($"/proc/{pid}/task").ToList();
        var nice = threads.Select(NiceOf).OfType<int>().ToList();
        output.WriteLine("nice of the threads: " + string.Join(",", nice));
        Assert.True(nice.Count > 5, "the process has its runtime's and the silo's threads");
        Assert.All(nice, n => Assert.Equal(10, n));

        var mine = CpusOf("/proc/thread-self");
        var expected = mine.Count < 2 ? mine : mine.Skip(mine.Count - Math.Max(1, mine.Count / 4)).ToList();
        var cpus = threads.Select(CpusOrNull).OfType<List<int>>().ToList();
        output.WriteLine($"CPUs of the threads (this test's: {string.Join(",", mine)}): " + string.Join(" ", cpus.Select(c => string.Join(",", c))));
        Assert.All(cpus, c => Assert.Equal(expected, c));
    }

    private static List<int>? CpusOrNull(string task)
    {
        try
        {
            return CpusOf(task);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // The CPUs a thread may run on: Cpus_allowed_list of its status, as "0-3,6".
    private static List<int> CpusOf(string task)
    {
        string list = File.ReadLines(Path.Combine(task, "status")).First(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))["Cpus_allowed_list:".Length..].Trim();
        var cpus = new List<int>();
        foreach (string range in list.Split(','))
        {
            string[] ends = range.Split('-');
            int first = int.Parse(ends[0], System.Globalization.CultureInfo.InvariantCulture);
            int last = int.Parse(ends[^1], System.Globalization.CultureInfo.InvariantCulture);
            cpus.AddRange(Enumerable.Range(first, last - first + 1));
        }

        return cpus;
    }

    // A thread's nice value: field 19 of /proc/PID/task/TID/stat, counted after the command name's closing parenthesis
    // (the name may hold spaces); null for a thread that ended meanwhile.
    private static int? NiceOf(string task)
    {
        try
        {
            string stat = File.ReadAllText(Path.Combine(task, "stat"));
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // A unit's parallel workers are processes on the server that the budget does not count: under --protect they would
    // take the live server's cores (an index build with 2 workers doubled pgbench's p95 on 2 cores). The archive's CHECK
    // passes only in a session that starts no parallel workers, so its rows load under --protect and not otherwise.
    [Fact]
    public async Task UnitsUnderAProtectingBudgetStartNoParallelWorkers()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await RestoreComparison.MakeArchiveAsync(server, _directory.FullName, "adaptive_serial", db => server.ExecuteAsync(db, """
            CREATE FUNCTION no_parallel_workers(v int) RETURNS boolean LANGUAGE sql STABLE AS
              $f$ SELECT current_setting('max_parallel_maintenance_workers') = '0' AND current_setting('max_parallel_workers_per_gather') = '0' $f$;
            SET max_parallel_maintenance_workers = 0;
            SET max_parallel_workers_per_gather = 0;
            CREATE TABLE t (id int PRIMARY KEY, v int CHECK (no_parallel_workers(v)));
            INSERT INTO t SELECT g, g FROM generate_series(1, 100) g;
            """));
        string protectedDb = await server.CreateDatabaseAsync("adaptive_serial_protect");
        string plainDb = await server.CreateDatabaseAsync("adaptive_serial_plain");
        try
        {
            var run = await CliRunner.RunAsync(server, ["restore", "-j", "2", "--host-budget", "auto:3", "--protect", "5000", "-d", protectedDb, archive], timeout: TimeSpan.FromMinutes(2));
            Assert.True(run.ExitCode == 0, run.Describe());
            Assert.Equal(100L, await server.ScalarAsync<long>(protectedDb, "SELECT count(*) FROM t"));

            var plain = await CliRunner.RunAsync(server, ["restore", "-j", "2", "--host-budget", "3", "-d", plainDb, archive], timeout: TimeSpan.FromMinutes(2));
            Assert.True(plain.ExitCode == 1, plain.Describe());
            Assert.Contains("violates check constraint", plain.Stderr, StringComparison.Ordinal);
            Assert.Equal(0L, await server.ScalarAsync<long>(plainDb, "SELECT count(*) FROM t"));
        }
        finally
        {
            await server.DropDatabaseAsync(protectedDb);
            await server.DropDatabaseAsync(plainDb);
        }
    }

    [Theory]
    [InlineData("--protect needs an adaptive budget: --host-budget auto[:MAX]", "--protect", "50")]
    [InlineData("--protect needs an adaptive budget: --host-budget auto[:MAX]", "--host-budget", "3", "--protect", "50")]
    [InlineData("--probe-sql needs --protect (the probe guards a latency)", "--host-budget", "auto", "--probe-sql", "SELECT 1")]
    [InlineData("--host-budget auto:1 with --protect leaves no session for units: the probe takes one (use auto:2 or more)", "--host-budget", "auto:1", "--protect", "50")]
    [InlineData("invalid --host-budget \"auto:x\": a number of at least 1, auto or auto:MAX", "--host-budget", "auto:x")]
    [InlineData("invalid --host-budget \"0\": a number of at least 1, auto or auto:MAX", "--host-budget", "0")]
    [InlineData("--protect must be a number of milliseconds above 0", "--host-budget", "auto", "--protect", "0")]
    public async Task WrongAdaptiveOptionsAreUsageErrors(string reason, params string[] options)
    {
        var run = await CliRunner.RunAsync(["restore", .. options, "-d", "db", "x.dump"], timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"restorecluster: error: {reason}", run.Stderr.Split('\n')[0]);
    }

    // pg_restore and ours with the options into fresh databases; ours must end as pg_restore does, identical. Returns
    // our run and the host object of each progress event.
    private async Task<(ProcessResult Run, List<JsonElement> Hosts)> RestoreAsync(
        PostgresServer server, string archive, string prefix, string[] options, IDictionary<string, string>? env = null)
    {
        string reference = await server.CreateDatabaseAsync(prefix + "_pg");
        string ours = await server.CreateDatabaseAsync(prefix + "_rc");
        try
        {
            (await server.RunToolAsync("pg_restore", ["-j", "2", "-d", reference, archive], timeout: TimeSpan.FromMinutes(3))).EnsureSuccess();
            var run = await CliRunner.RunAsync(server, ["restore", .. options, "--progress", "json", "-d", ours, archive], env, timeout: TimeSpan.FromMinutes(4));
            output.WriteLine(run.Describe());
            Assert.True(run.ExitCode == 0, run.Describe());
            Assert.Equal(await RestoreComparison.DumpAsync(server, reference), await RestoreComparison.DumpAsync(server, ours));
            var hosts = run.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement)
                .Where(e => e.TryGetProperty("host", out _))
                .Select(e => e.GetProperty("host").Clone())
                .ToList();
            Assert.NotEmpty(hosts);
            return (run, hosts);
        }
        finally
        {
            await server.DropDatabaseAsync(reference);
            await server.DropDatabaseAsync(ours);
        }
    }

    // Tables whose rows each take 10 ms to load (a CHECK constraint that sleeps): a table of 60 rows is a unit of 0.6 s.
    private Task<string> SlowTablesAsync(PostgresServer server, string prefix, int tables, int rowsPerTable) =>
        RestoreComparison.MakeArchiveAsync(server, _directory.FullName, prefix, db => server.ExecuteAsync(db, $$"""
            CREATE FUNCTION slow_ok(v int) RETURNS boolean LANGUAGE sql VOLATILE AS $f$ SELECT pg_sleep(0.01) IS NOT NULL $f$;
            DO $$
            BEGIN
              FOR i IN 1..{{tables}} LOOP
                EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v int CHECK (slow_ok(v)))', i);
                EXECUTE format('INSERT INTO t%s SELECT g, g FROM generate_series(1, {{rowsPerTable}}) g', i);
              END LOOP;
            END $$;
            """));
}
