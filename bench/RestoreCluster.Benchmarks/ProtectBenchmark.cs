using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using RestoreCluster.Grains;
using RestoreCluster.Planning;
using RestoreCluster.Testing;

namespace RestoreCluster.Benchmarks;

/// <summary>
/// Does an adaptive budget protect a live server? A rate-limited pgbench read/write workload (<c>pgbench -R</c>) runs
/// against one database of a private server while the bigtable dataset is restored into another, three ways: no
/// restore; <c>--host-budget 2</c>; <c>--host-budget auto:2 --protect MS</c> with MS = 1.5 × the p95 of a
/// <c>SELECT 1</c> probe measured during the quiet way. Reported: pgbench's latency average and p95 over the
/// transactions that completed while the restore ran (its per-transaction log, <c>-l</c>), and the restore's time.
/// </summary>
internal static class ProtectBenchmark
{
    private const int WorkloadScale = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchmarkArgs.Parse(args, "--rate", "--quiet-seconds", "--json");
        if (options is null)
        {
            return 2;
        }

        int rate = options.Int("--rate", 100);
        int quietSeconds = options.Int("--quiet-seconds", 20);
        string cli = Path.Combine(RepoPaths.RepoRoot, "src", "RestoreCluster.Cli", "bin", "Release", "net10.0", "restorecluster");
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine($"restorecluster is not built: {cli} is missing; run ./build.sh --target=Build (Release) first");
            return 2;
        }

        string load = MachineFacts.LoadAverage();
        Progress("starting a private PostgreSQL server");
        await using var server = await PostgresServer.StartAsync();
        var dataset = await RestoreDatasets.GetAsync(server, "bigtable", wideGigabytes: 0, CancellationToken.None);
        string workload = await server.CreateDatabaseAsync("protect_workload");
        (await ProcessRunner.RunAsync(
            RestoreDatasets.Pgbench(), ["-i", "-q", "-s", WorkloadScale.ToString(CultureInfo.InvariantCulture), workload],
            server.LibpqEnvironment(), timeout: TimeSpan.FromMinutes(10))).EnsureSuccess();

        // Untimed warm-up, which also sizes the workload's run: long enough to cover the slowest restore.
        Progress("warm-up restore (untimed)");
        var warm = await RestoreAsync(server, cli, dataset.ArchivePath, "warmup", ["--host-budget", "2"]);
        int workloadSeconds = (int)Math.Ceiling(warm.Seconds * 4) + 10;

        Progress($"quiet: pgbench -R {rate} for {quietSeconds} s, no restore, and the probe's latency");
        var quiet = await WorkloadAsync(server, workload, rate, quietSeconds, during: null);
        double probeP95 = quiet.ProbeP95Ms;
        double protectMs = Math.Round(1.5 * probeP95, 1);
        Progress(string.Create(CultureInfo.InvariantCulture, $"probe p95 {probeP95:F2} ms: --protect {protectMs}"));

        var ways = new List<WayResult> { new("no restore", null, quiet) };
        foreach (var (name, restoreOptions) in new (string, string[])[]
        {
            ("--host-budget 2", ["--host-budget", "2"]),
            (string.Create(CultureInfo.InvariantCulture, $"--host-budget auto:2 --protect {protectMs}"),
                ["--host-budget", "auto:2", "--protect", protectMs.ToString(CultureInfo.InvariantCulture)]),
        })
        {
            Progress($"{name}: pgbench -R {rate} while the restore runs");
            RestoreRun? restore = null;
            var measured = await WorkloadAsync(server, workload, rate, workloadSeconds, during: async () =>
            {
                restore = await RestoreAsync(server, cli, dataset.ArchivePath, ways.Count.ToString(CultureInfo.InvariantCulture), restoreOptions);
                return restore;
            });
            ways.Add(new WayResult(name, restore, measured));
        }

        var report = new
        {
            date = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            cores = MachineFacts.Cores,
            loadAverageAtStart = load,
            loadAverageAtEnd = MachineFacts.LoadAverage(),
            dataset = dataset.Description,
            rate,
            probeP95Ms = Math.Round(probeP95, 3),
            protectMs,
            ways = ways.Select(w => new
            {
                way = w.Name,
                restoreSeconds = w.Restore is { } r ? Math.Round(r.Seconds, 2) : (double?)null,
                transactions = w.Workload.Transactions,
                latencyAverageMs = Math.Round(w.Workload.AverageMs, 2),
                latencyP95Ms = Math.Round(w.Workload.P95Ms, 2),
            }).ToList(),
        };
        Console.WriteLine("| way | restore s | pgbench transactions | latency average ms | latency p95 ms |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var w in ways)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {w.Name} | {(w.Restore is { } r ? r.Seconds.ToString("F1", CultureInfo.InvariantCulture) : "-")} | {w.Workload.Transactions} | {w.Workload.AverageMs:F2} | {w.Workload.P95Ms:F2} |"));
        }

        string json = JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine();
        Console.WriteLine("```json");
        Console.WriteLine(json);
        Console.WriteLine("```");
        if (options.Text("--json") is { } path)
        {
            await File.WriteAllTextAsync(path, json + "\n");
        }

        return 0;
    }

    private sealed record RestoreRun(double Seconds, DateTimeOffset Started, DateTimeOffset Ended);

    private sealed record WorkloadFigures(int Transactions, double AverageMs, double P95Ms, double ProbeP95Ms);

    private sealed record WayResult(string Name, RestoreRun? Restore, WorkloadFigures Workload);

    private static async Task<RestoreRun> RestoreAsync(PostgresServer server, string cli, string archive, string tag, string[] options)
    {
        string database = await server.CreateDatabaseAsync("protect_" + tag);
        await server.ExecuteAsync("postgres", "CHECKPOINT");
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var run = await ProcessRunner.RunAsync(
            cli, ["restore", "-j", "2", .. options, "--progress", "none", "-d", database, archive], server.LibpqEnvironment(), timeout: TimeSpan.FromMinutes(60));
        clock.Stop();
        run.EnsureSuccess();
        return new RestoreRun(clock.Elapsed.TotalSeconds, started, DateTimeOffset.UtcNow);
    }

    // pgbench with its per-transaction log in a folder of its own; with `during`, the figures cover only the
    // transactions that completed while it ran (it starts 2 s into the workload). Without, the whole run, and a
    // SELECT 1 probe is timed every 100 ms beside it.
    private static async Task<WorkloadFigures> WorkloadAsync(PostgresServer server, string database, int rate, int seconds, Func<Task<RestoreRun>>? during)
    {
        string folder = Directory.CreateTempSubdirectory("restorecluster-protect-").FullName;
        try
        {
            var pgbench = ProcessRunner.RunAsync(
                RestoreDatasets.Pgbench(),
                ["-R", rate.ToString(CultureInfo.InvariantCulture), "-T", seconds.ToString(CultureInfo.InvariantCulture), "-c", "4", "-j", "2", "-l", "--log-prefix", Path.Combine(folder, "tx"), database],
                server.LibpqEnvironment(), timeout: TimeSpan.FromSeconds(seconds + 120));
            await Task.Delay(TimeSpan.FromSeconds(2));
            DateTimeOffset from = DateTimeOffset.MinValue, to = DateTimeOffset.MaxValue;
            var probes = new List<double>();
            if (during is not null)
            {
                var restore = await during();
                (from, to) = (restore.Started, restore.Ended);
            }
            else
            {
                // The budget's own probe (BudgetProbe: SELECT 1 every 100 ms on a session of its own), connecting as the
                // restore's does, so that --protect's limit is in the same measure as what it guards.
                var env = server.LibpqEnvironment();
                var target = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["host"] = env["PGHOST"], ["port"] = env["PGPORT"], ["user"] = env["PGUSER"], ["dbname"] = "postgres",
                };
                var probe = new BudgetProbe(target, "SELECT 1", message => Progress("probe failed: " + message));
                await pgbench;
                await probe.DisposeAsync();
                probes.AddRange(probe.Drain());
            }

            (await pgbench).EnsureSuccess();
            var latencies = ReadLog(folder, from, to);
            return new WorkloadFigures(latencies.Count, latencies.Count == 0 ? 0 : latencies.Average(), Latencies.P95(latencies) ?? 0, Latencies.P95(probes) ?? 0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // A -l line: client_id transaction_no time script_no time_epoch time_us [schedule_lag] (time: latency in µs).
    private static List<double> ReadLog(string folder, DateTimeOffset from, DateTimeOffset to)
    {
        var latencies = new List<double>();
        foreach (string file in Directory.EnumerateFiles(folder))
        {
            foreach (string line in File.ReadLines(file))
            {
                string[] f = line.Split(' ');
                if (f.Length < 6 || !long.TryParse(f[2], CultureInfo.InvariantCulture, out long micros)
                    || !long.TryParse(f[4], CultureInfo.InvariantCulture, out long epoch) || !long.TryParse(f[5], CultureInfo.InvariantCulture, out long us))
                {
                    continue;
                }

                var done = DateTimeOffset.FromUnixTimeSeconds(epoch).AddTicks(us * 10);
                if (done >= from && done <= to)
                {
                    latencies.Add(micros / 1000.0);
                }
            }
        }

        return latencies;
    }

    private static void Progress(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}
