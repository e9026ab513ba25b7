using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;
using RestoreCluster.Restore;
using static RestoreCluster.Benchmarks.Measurement;

namespace RestoreCluster.Benchmarks;

/// <summary>
/// The coordinator grain's time per unit: a real pg_dump archive of N tables (TABLE DATA, CONSTRAINT and
/// INDEX units per table, after the prefork) is planned by <see cref="ICoordinatorGrain.Start"/> in an
/// embedded cluster and driven to the end by W simulated workers in this process, each leasing a unit and
/// completing it at once. No worker grain runs and nothing touches a database.
/// </summary>
internal static class CoordinatorBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchmarkArgs.Parse(args, "--tables", "--workers", "--runs");
        if (options is null)
        {
            return 2;
        }

        // 3,333 tables: 9,999 entry units, then the prefork (every TABLE) and the final journal drop: 10,001 leases.
        int tables = options.Int("--tables", 3_333), runs = options.Int("--runs", 3);
        var workerCounts = options.Ints("--workers", 4, 16);

        var (archive, generation) = await ManyTablesArchive.GetAsync(tables);
        Console.WriteLine(generation == TimeSpan.Zero
            ? $"archive: {archive} (cached)"
            : $"archive: {archive} (made in {generation.TotalSeconds:F1} s: server start, tables, pg_dump; not measured below)");
        Console.WriteLine(
            "cpu is this process's: the silo, the coordinator grain and the simulated workers' side of each call; " +
            "per unit = (plan + drive) / units leased (entries, the prefork and the final journal drop)");

        // Warm-up (JIT), not reported.
        await RunJobAsync(archive, workerCounts[0]);
        foreach (int workers in workerCounts)
        {
            for (int run = 1; run <= runs; run++)
            {
                var r = await RunJobAsync(archive, workers);
                Console.WriteLine(
                    $"W={workers} run {run}: units leased={r.Units}, lease calls={r.Units + r.NullLeases} (null {r.NullLeases}, each followed by a Status call)");
                Console.WriteLine($"  plan : wall {Ms(r.PlanWall)} ms, cpu {Ms(r.PlanCpu)} ms");
                Console.WriteLine($"  drive: wall {Ms(r.DriveWall)} ms, cpu {Ms(r.DriveCpu)} ms");
                Console.WriteLine(
                    $"  per unit: wall {Us(r.PlanWall + r.DriveWall, r.Units)} us, cpu {Us(r.PlanCpu + r.DriveCpu, r.Units)} us (budget 1000 us)");
                Console.WriteLine(r.ReadyToLease.Count == 0
                    ? "  ready to lease: no lease call had to wait"
                    : $"  ready to lease (lease calls that waited for a unit: {r.ReadyToLease.Count}): median {Percentile(r.ReadyToLease, 0.5) * 1000:F3} ms, p95 {Percentile(r.ReadyToLease, 0.95) * 1000:F3} ms, max {r.ReadyToLease.Max() * 1000:F3} ms (target: median under 1 ms)");
            }
        }

        return 0;
    }

    private sealed record JobResult(
        int Units, int NullLeases, TimeSpan PlanWall, TimeSpan PlanCpu, TimeSpan DriveWall, TimeSpan DriveCpu, IReadOnlyList<double> ReadyToLease);

    private static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(p * sorted.Count))];
    }

    private sealed record DriveCounts(int Leases, int NullLeases);

    // A cluster of its own per job, as the CLI runs one: a finished coordinator stays activated with its schedule.
    private static async Task<JobResult> RunJobAsync(string archive, int workers)
    {
        await using var cluster = await EmbeddedCluster.StartAsync(new TelemetryOptions(null, false));
        string jobId = $"bench-{Guid.NewGuid():N}";
        // As ParallelRestore builds it; the target is never connected to (no worker grain runs).
        var spec = new JobSpec(
            jobId, archive, new Dictionary<string, string> { ["host"] = "127.0.0.1", ["dbname"] = "unused" },
            new RestoreOptions().ToJobOptions(), Order: null, Jobs: workers, HostBudget: workers, Resume: false, HostKey: "bench");
        var coordinator = cluster.Grains.GetGrain<ICoordinatorGrain>(jobId);
        // The coordinator's own measure of how fast a waiting lease call gets a unit once one is ready.
        var readyToLease = new System.Collections.Concurrent.ConcurrentQueue<double>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument, GrainInstruments.ReadyToLease))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => readyToLease.Enqueue(value));
        listener.Start();

        var (planWall, planCpu, planned) = await MeasureAsync(() => coordinator.Start(spec));
        Require(planned.State == JobState.Running, $"the job did not start: {planned.State} {planned.Message}");
        var (driveWall, driveCpu, counts) = await MeasureAsync(async () =>
        {
            var all = await Task.WhenAll(Enumerable.Range(0, workers).Select(w => WorkAsync(coordinator, $"bench-worker-{w}")));
            return new DriveCounts(all.Sum(c => c.Leases), all.Sum(c => c.NullLeases));
        });

        var done = await coordinator.Status();
        Require(done.State == JobState.Succeeded && done.UnitsDone == done.UnitsTotal,
            $"the job ended {done.State} with {done.UnitsDone} of {done.UnitsTotal} units done");
        return new JobResult(counts.Leases, counts.NullLeases, planWall, planCpu, driveWall, driveCpu, [.. readyToLease]);
    }

    // One simulated worker: lease one unit, report it in the call that leases the next; when nothing is ready
    // the call itself waits (it returns as soon as a unit is ready) while the job runs.
    private static async Task<DriveCounts> WorkAsync(ICoordinatorGrain coordinator, string workerId)
    {
        int leases = 0, nullLeases = 0;
        IReadOnlyList<UnitReport> reports = [];
        while (true)
        {
            var leased = await coordinator.CompleteAndLease(reports, workerId, 1, TimeSpan.FromSeconds(1));
            reports = [];
            if (leased.Count == 0)
            {
                nullLeases++;
                if ((await coordinator.Status()).State != JobState.Running)
                {
                    return new DriveCounts(leases, nullLeases);
                }

                continue;
            }

            leases += leased.Count;
            reports = leased.Select(l => new UnitReport(l.LeaseId, l.UnitId, 0, [], [], null, 0, 0, [])).ToList();
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
