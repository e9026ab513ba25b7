using RestoreCluster.Archive;
using RestoreCluster.Planning;
using static RestoreCluster.Benchmarks.Measurement;

namespace RestoreCluster.Benchmarks;

/// <summary>
/// Plans a synthetic TOC of about N units (tables with data, constraints, indexes, FKs, ACLs, comments and
/// sequences) and drives the schedule to the end with W simulated workers (lease, complete; no sleeping),
/// measuring wall and CPU time of each part.
/// </summary>
internal static class ScheduleBenchmark
{
    public static int Run(string[] args)
    {
        var options = BenchmarkArgs.Parse(args, "--units", "--workers", "--runs", "--seed");
        if (options is null)
        {
            return 2;
        }

        int units = options.Int("--units", 10_000), workers = options.Int("--workers", 8);
        int runs = options.Int("--runs", 5), seed = options.Int("--seed", 42);

        var toc = SyntheticToc(units, seed);
        Console.WriteLine($"schedule benchmark: {toc.Count} TOC entries, {workers} workers, {runs} measured runs (+1 warm-up)");

        // Warm-up (JIT), not reported.
        Drive(RestorePlan.Build(toc), workers, seed);

        for (int run = 1; run <= runs; run++)
        {
            var (planWall, planCpu, plan) = Measure(() => RestorePlan.Build(toc));
            var (driveWall, driveCpu, stats) = Measure(() => Drive(plan, workers, seed + run));
            int n = plan.Units.Count;
            Console.WriteLine(
                $"run {run}: units={n} prefork={plan.Prefork.Count} leases={stats.Leases} lock-deferrals={stats.EmptyLeases} " +
                $"maxConcurrent={stats.MaxConcurrent}");
            Console.WriteLine(
                $"  plan : wall {Ms(planWall)} ms, cpu {Ms(planCpu)} ms, cpu/unit {Us(planCpu, n)} us");
            Console.WriteLine(
                $"  drive: wall {Ms(driveWall)} ms, cpu {Ms(driveCpu)} ms, cpu/unit {Us(driveCpu, n)} us");
            Console.WriteLine(
                $"  total: cpu {Ms(planCpu + driveCpu)} ms, cpu/unit {Us(planCpu + driveCpu, n)} us (budget 1000 us)");
        }

        return 0;
    }

    private sealed record DriveStats(int Leases, int EmptyLeases, int MaxConcurrent);

    // W workers: each idle worker asks for a lease; then one running lease (picked at random) completes.
    private static DriveStats Drive(RestorePlan plan, int workers, int seed)
    {
        var random = new Random(seed);
        var schedule = new RestoreSchedule(plan);
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var ttl = TimeSpan.FromMinutes(5);
        var running = new List<WorkLease>(workers);
        int leases = 0, empty = 0, maxConcurrent = 0;
        while (!schedule.IsFinished)
        {
            while (running.Count < workers)
            {
                var lease = schedule.Lease($"w{running.Count}", now, ttl);
                if (lease is null)
                {
                    empty++;
                    break;
                }

                leases++;
                running.Add(lease);
            }

            maxConcurrent = Math.Max(maxConcurrent, running.Count);
            if (running.Count == 0)
            {
                throw new InvalidOperationException("schedule stalled with nothing leased");
            }

            int pick = random.Next(running.Count);
            var done = running[pick];
            running[pick] = running[^1];
            running.RemoveAt(running.Count - 1);
            now += TimeSpan.FromMilliseconds(1);
            if (schedule.Complete(done.UnitId, done.LeaseId) != CompletionResult.Accepted)
            {
                throw new InvalidOperationException($"completion of {done.UnitId} was not accepted");
            }
        }

        var progress = schedule.Progress;
        if (progress.DoneUnits != progress.TotalUnits)
        {
            throw new InvalidOperationException($"finished with {progress.DoneUnits} of {progress.TotalUnits} units done");
        }

        return new DriveStats(leases, empty, maxConcurrent);
    }

    // A dump-shaped TOC: schemas and tables (prefork), then data, then post-data, then ACLs.
    private static List<PlanEntry> SyntheticToc(int targetUnits, int seed)
    {
        var random = new Random(seed);
        int tables = Math.Max(1, targetUnits / 5);
        int id = 1;
        var pre = new List<PlanEntry>();
        var data = new List<PlanEntry>();
        var post = new List<PlanEntry>();
        var acl = new List<PlanEntry>();
        int schema = id++;
        pre.Add(Entry(schema, "SCHEMA", ArchiveSection.PreData, [], 0, "app"));
        var tableIds = new int[tables];
        var pkIds = new int[tables];
        for (int t = 0; t < tables; t++)
        {
            tableIds[t] = id++;
            pre.Add(Entry(tableIds[t], "TABLE", ArchiveSection.PreData, [schema], 0, $"t{t}"));
            pre.Add(Entry(id++, "COMMENT", ArchiveSection.None, [tableIds[t]], 0, $"TABLE t{t}"));
        }

        int units = 0;
        for (int t = 0; t < tables && units < targetUnits; t++)
        {
            // Sizes spread over several orders of magnitude, with ties.
            long size = (long)Math.Pow(10, random.Next(2, 9)) * random.Next(1, 10);
            data.Add(Entry(id++, "TABLE DATA", ArchiveSection.Data, [tableIds[t]], size, $"t{t}"));
            units++;
            if (t % 25 == 0)
            {
                data.Add(Entry(id++, "SEQUENCE SET", ArchiveSection.Data, [tableIds[t]], 0, $"t{t}_id_seq"));
                units++;
            }
        }

        for (int t = 0; t < tables && units < targetUnits; t++)
        {
            pkIds[t] = id++;
            post.Add(Entry(pkIds[t], "CONSTRAINT", ArchiveSection.PostData, [tableIds[t]], 0, $"t{t}_pkey"));
            post.Add(Entry(id++, "INDEX", ArchiveSection.PostData, [tableIds[t]], 0, $"t{t}_idx1"));
            units += 2;
            if (random.Next(2) == 0)
            {
                post.Add(Entry(id++, "INDEX", ArchiveSection.PostData, [tableIds[t]], 0, $"t{t}_idx2"));
                units++;
            }
        }

        for (int t = 1; t < tables && units < targetUnits; t++)
        {
            if (random.Next(10) < 6)
            {
                // Many FKs point at a few hub tables, which makes lock conflicts common.
                int target = random.Next(4) == 0 ? random.Next(Math.Min(t, 20)) : random.Next(t);
                post.Add(Entry(
                    id++, "FK CONSTRAINT", ArchiveSection.PostData, [tableIds[t], tableIds[target], pkIds[target]], 0, $"t{t}_fk"));
                units++;
            }
        }

        for (int t = 0; t < tables && units < targetUnits; t++)
        {
            acl.Add(Entry(id++, "ACL", ArchiveSection.None, [tableIds[t]], 0, $"TABLE t{t}"));
            units++;
        }

        while (units < targetUnits)
        {
            post.Add(Entry(id++, "TRIGGER", ArchiveSection.PostData, [tableIds[random.Next(tables)]], 0, $"trg{units}"));
            units++;
        }

        return [.. pre, .. data, .. post, .. acl];
    }

    private static PlanEntry Entry(int id, string desc, ArchiveSection section, int[] deps, long length, string tag)
    {
        var pass = desc == "ACL" ? RestorePass.Acl : RestorePass.Main;
        var parts = desc is "TABLE DATA" or "SEQUENCE SET" ? RestoreParts.Data : RestoreParts.Schema;
        return new PlanEntry(id, desc, section, deps, length, pass, parts, tag);
    }
}
