using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using RestoreCluster.Grains;
using RestoreCluster.Planning;
using RestoreCluster.Restore;
using RestoreCluster.Testing;

namespace RestoreCluster.Benchmarks;

/// <summary>
/// Does an adaptive budget protect a live server? A rate-limited pgbench read/write workload (<c>pgbench -R</c>) runs
/// against one database of a private server while the bigtable dataset is restored into another, three ways: no
/// restore; <c>--host-budget 2</c>; <c>--host-budget auto:2 --protect MS</c> with MS = 1.5 × the p95 of the budget's
/// probe (its default query, or <c>--probe-sql</c>) measured during the quiet way. Reported: pgbench's latency average
/// and p95 over the transactions that completed while the restore ran (its per-transaction log, <c>-l</c>), the ratio
/// of that p95 to the quiet way's, the share of its transactions over 1.5 × the quiet p95 (the bound holds while it is at
/// most 5%), the p95 of the probe timed beside the restore and the share of its answers over MS (what the restore's own
/// probe saw), and the restore's time; for each of <c>--rounds</c> rounds (3), each measuring the
/// three ways in turn, then the median and the largest ratio over the rounds.
/// </summary>
internal static class ProtectBenchmark
{
    private const int WorkloadScale = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchmarkArgs.Parse(args, "--rate", "--quiet-seconds", "--rounds", "--cli", "--probe-sql", "--json");
        if (options is null)
        {
            return 2;
        }

        int rate = options.Int("--rate", 100);
        int quietSeconds = options.Int("--quiet-seconds", 20);
        int rounds = options.Int("--rounds", 3);
        string probeSql = options.Text("--probe-sql") ?? AdaptiveBudget.DefaultProbeSql;
        string cli = options.Text("--cli")
            ?? Path.Combine(RepoPaths.RepoRoot, "src", "RestoreCluster.Cli", "bin", "Release", "net10.0", "restorecluster");
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine($"restorecluster is not built: {cli} is missing; run ./build.sh --target=Build (Release) first");
            return 2;
        }

        if (rounds < 1)
        {
            Console.Error.WriteLine("--rounds must be at least 1");
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

        // Untimed warm-up, which also sizes the workload's runs: long enough to cover each way's restore (a restore
        // that outlasts it is an error, not a figure). A protected restore may be paced down to a twentieth of the
        // COPY's speed (CopyPacer.Slowest), so its workload runs longer.
        Progress("warm-up restore (untimed)");
        var warm = await RestoreAsync(server, cli, dataset.ArchivePath, "warmup", ["--host-budget", "2"]);
        int WorkloadSeconds(int warmUps) => (int)Math.Ceiling(warm.Seconds * warmUps) + 10;

        // Without this step, the first round's quiet way came out slower than the next rounds' in each of five runs (the
        // probe's p95 2–3.5 × theirs), also after a checkpoint and with no autovacuum running: most likely the probe's
        // own first use in this process (its code not yet compiled to its final tier). So the probe runs untimed first.
        Progress("settling: a checkpoint, and the probe untimed for 15 s");
        await server.ExecuteAsync("postgres", "CHECKPOINT");
        await using (var untimed = new BudgetProbe(ProbeTarget(server), probeSql, message => Progress("probe failed: " + message)))
        {
            await Task.Delay(TimeSpan.FromSeconds(15));
        }

        // Each round measures the three ways one after another, the quiet one first, so that a round's figures are
        // taken under the same conditions of the machine; the rounds show how much they move.
        // The two ways that restore: their label over the rounds, how many warm-up restores long their workload runs,
        // and a round's name and options from its MS.
        var restoring = new (string Label, int WarmUps, Func<double, (string Name, string[] Options)> For)[]
        {
            ("--host-budget 2", 3, _ => ("--host-budget 2", ["--host-budget", "2"])),
            ("--host-budget auto:2 --protect MS", 12, ms => (
                string.Create(CultureInfo.InvariantCulture, $"--host-budget auto:2 --protect {ms}"),
                ["--host-budget", "auto:2", "--protect", ms.ToString(CultureInfo.InvariantCulture), "--probe-sql", probeSql])),
        };
        var results = new List<RoundResult>();
        for (int round = 1; round <= rounds; round++)
        {
            Progress($"round {round}/{rounds}, quiet: pgbench -R {rate} for {quietSeconds} s, no restore, and the probe's latency");
            var quiet = await WorkloadAsync(server, workload, rate, quietSeconds, probeSql, during: null);
            double protectMs = Math.Round(1.5 * quiet.ProbeP95Ms, 1);
            Progress(string.Create(CultureInfo.InvariantCulture, $"probe p95 {quiet.ProbeP95Ms:F2} ms: --protect {protectMs}"));
            var ways = new List<WayResult> { new("no restore", quiet) };
            foreach (var (warmUps, (name, restoreOptions)) in restoring.Select(way => (way.WarmUps, way.For(protectMs))))
            {
                Progress($"round {round}/{rounds}, {name}: pgbench -R {rate} while the restore runs");
                string tag = string.Create(CultureInfo.InvariantCulture, $"r{round}w{ways.Count}");
                var measured = await WorkloadAsync(server, workload, rate, WorkloadSeconds(warmUps), probeSql, during: () => RestoreAsync(server, cli, dataset.ArchivePath, tag, restoreOptions));
                ways.Add(new WayResult(name, measured));
            }

            results.Add(new RoundResult(round, quiet.ProbeP95Ms, protectMs, ways));
        }

        var report = new
        {
            date = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            cores = MachineFacts.Cores,
            loadAverageAtStart = load,
            loadAverageAtEnd = MachineFacts.LoadAverage(),
            dataset = dataset.Description,
            rate,
            probeSql,
            rounds = results.Select(r => new
            {
                r.Round,
                probeP95Ms = Math.Round(r.ProbeP95Ms, 3),
                r.ProtectMs,
                ways = r.Ways.Select(w => new
                {
                    way = w.Name,
                    restoreSeconds = w.Restore is { } run ? Math.Round(run.Seconds, 2) : (double?)null,
                    transactions = w.Workload.Transactions,
                    latencyAverageMs = Math.Round(w.Workload.AverageMs, 2),
                    latencyP95Ms = Math.Round(w.Workload.P95Ms, 2),
                    p95OverQuiet = Math.Round(r.Ratio(w), 2),
                    transactionsOverBound = Math.Round(r.ShareOverBound(w), 4),
                    probeAnswers = w.Workload.ProbeMs.Count,
                    probeP95Ms = Math.Round(w.Workload.ProbeP95Ms, 3),
                    probeOverProtect = Math.Round(w.Workload.ProbeShareOver(r.ProtectMs), 4),
                }).ToList(),
            }).ToList(),
            // A round's ways: the quiet one, then the restoring ones in order.
            summary = restoring.Select((way, k) => new
            {
                way = way.Label,
                p95OverQuietMedian = Math.Round(Measurement.Median(results.Select(r => r.Ratio(r.Ways[k + 1]))), 2),
                p95OverQuietMax = Math.Round(results.Max(r => r.Ratio(r.Ways[k + 1])), 2),
                restoreSecondsMedian = Math.Round(Measurement.Median(results.Select(r => r.Ways[k + 1].Restore!.Seconds)), 2),
            }).ToList(),
        };
        Console.WriteLine("| round | way | restore s | pgbench transactions | latency average ms | latency p95 ms | p95 / quiet | transactions over 1.5 × quiet p95 | probe p95 ms | probe answers over MS |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            foreach (var w in r.Ways)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.Round} | {w.Name} | {(w.Restore is { } run ? run.Seconds.ToString("F1", CultureInfo.InvariantCulture) : "-")} | {w.Workload.Transactions} | {w.Workload.AverageMs:F2} | {w.Workload.P95Ms:F2} | {r.Ratio(w):F2} | {r.ShareOverBound(w):P1} | {w.Workload.ProbeP95Ms:F2} | {w.Workload.ProbeShareOver(r.ProtectMs):P1} |"));
            }
        }

        Console.WriteLine();
        foreach (var s in report.summary)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.way}: p95 / quiet median {s.p95OverQuietMedian:F2}, max {s.p95OverQuietMax:F2} over {results.Count} rounds; restore median {s.restoreSecondsMedian:F1} s"));
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

    private sealed record RoundResult(int Round, double ProbeP95Ms, double ProtectMs, List<WayResult> Ways)
    {
        /// <summary>A way's pgbench p95 over the round's quiet one.</summary>
        public double Ratio(WayResult way) => Ways[0].Workload.P95Ms > 0 ? way.Workload.P95Ms / Ways[0].Workload.P95Ms : 0;

        /// <summary>A way's share of transactions over the bound (1.5 × the round's quiet p95): at most 5% meets it.</summary>
        public double ShareOverBound(WayResult way) => way.Workload.ShareOver(1.5 * Ways[0].Workload.P95Ms);
    }

    private sealed record RestoreRun(double Seconds, DateTimeOffset Started, DateTimeOffset Ended);

    /// <summary>A way's pgbench latencies (ms, of the transactions in its window) and the probe's beside it.</summary>
    private sealed record WorkloadFigures(List<double> TransactionMs, List<double> ProbeMs, RestoreRun? Restore)
    {
        public int Transactions => TransactionMs.Count;

        public double AverageMs => TransactionMs.Count == 0 ? 0 : TransactionMs.Average();

        public double P95Ms => Latencies.P95(TransactionMs) ?? 0;

        public double ProbeP95Ms => Latencies.P95(ProbeMs) ?? 0;

        /// <summary>The share of the transactions slower than <paramref name="ms"/>.</summary>
        public double ShareOver(double ms) => Share(TransactionMs, ms);

        /// <summary>The share of the probe's answers slower than <paramref name="ms"/>.</summary>
        public double ProbeShareOver(double ms) => Share(ProbeMs, ms);

        private static double Share(List<double> latencies, double overMs) =>
            latencies.Count == 0 ? 0 : (double)latencies.Count(l => l > overMs) / latencies.Count;
    }

    private sealed record WayResult(string Name, WorkloadFigures Workload)
    {
        public RestoreRun? Restore => Workload.Restore;
    }

    private static async Task<RestoreRun> RestoreAsync(PostgresServer server, string cli, string archive, string tag, string[] options)
    {
        string database = await server.CreateDatabaseAsync("protect_" + tag);
        await server.ExecuteAsync("postgres", "CHECKPOINT");
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var run = await ProcessRunner.RunAsync(
            cli, ["restore", "-j", "2", .. options, "--progress", "none", "-d", database, archive], server.LibpqEnvironment(), timeout: TimeSpan.FromMinutes(60));
        clock.Stop();
        var ended = DateTimeOffset.UtcNow;
        run.EnsureSuccess();
        // Each restore leaves a copy of the dataset: dropped (after its window), so that rounds do not fill the disk.
        await server.DropDatabaseAsync(database);
        return new RestoreRun(clock.Elapsed.TotalSeconds, started, ended);
    }

    // pgbench with its per-transaction log in a folder of its own; with `during`, the figures cover only the
    // transactions that completed while it ran (it starts 2 s into the workload). Without, the whole run, and the
    // budget's probe is timed every 100 ms beside it.
    private static async Task<WorkloadFigures> WorkloadAsync(PostgresServer server, string database, int rate, int seconds, string probeSql, Func<Task<RestoreRun>>? during)
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
            RestoreRun? restore = null;

            // The budget's own probe (BudgetProbe: its query every 100 ms on a session of its own), connecting as the
            // restore's does, so that --protect's limit is in the same measure as what it guards. Timed beside the
            // whole quiet way, and beside each restore, to see what the restore's probe saw.
            var probe = new BudgetProbe(ProbeTarget(server), probeSql, message => Progress("probe failed: " + message));
            if (during is not null)
            {
                try
                {
                    restore = await during();
                }
                finally
                {
                    await probe.DisposeAsync();
                }

                if (pgbench.IsCompleted)
                {
                    throw new InvalidOperationException($"the workload ({seconds} s) ended before the restore ({restore.Seconds:F1} s): its figures would not cover it");
                }

                (from, to) = (restore.Started, restore.Ended);
            }
            else
            {
                await pgbench;
                await probe.DisposeAsync();
            }

            var probes = probe.Drain();

            (await pgbench).EnsureSuccess();
            var latencies = ReadLog(folder, from, to);
            return new WorkloadFigures(latencies, probes, restore);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // Where the probe connects: the server's conninfo as the restore resolves it.
    private static IReadOnlyDictionary<string, string> ProbeTarget(PostgresServer server) =>
        ConnectionTarget.Resolve(server.LibpqConnectionString("postgres"), null, null, null, new Dictionary<string, string?>()).Values;

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
