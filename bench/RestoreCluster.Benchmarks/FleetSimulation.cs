using System.Globalization;
using RestoreCluster.Planning;

namespace RestoreCluster.Benchmarks;

/// <summary>
/// The fleet scheduling policy (FleetPolicy) on synthetic fleets, in simulated time (docs/performance.md, "Fleets"):
/// each job is a restore's shape (a serial prefork, table data units of heavy-tailed durations, an index after each
/// table, a last unit), on one of the target servers, each with its budget; a number of worker slots over all silos.
/// Whenever a slot is free, it takes the ready unit FleetPolicy picks (each unit's remaining work: the longest chain
/// from it to its job's end); a server at its budget gets no more. The makespan is compared with the lower bound
/// max(busiest server's work / its budget, the longest chain, total work / slots), and with a first-come baseline
/// (jobs in manifest order, each job's units in order) on the same fleets.
/// </summary>
internal static class FleetSimulation
{
    public static int Run(string[] args)
    {
        var options = BenchmarkArgs.Parse(args, "--seeds", "--limit");
        if (options is null)
        {
            return 2;
        }

        int seeds = options.Int("--seeds", 20);
        double limit = options.Int("--limit", 15) / 100.0;
        (string Name, int Jobs, int[] Budgets, int Slots)[] fleets =
        [
            ("12 jobs, budgets 1/2/3, 2 silos x 3 slots", 12, [1, 2, 3], 6),
            ("30 jobs, budgets 2/4/4/8, 3 silos x 4 slots", 30, [2, 4, 4, 8], 12),
            ("60 jobs, budgets 4 x 8, 4 silos x 8 slots", 60, [4, 4, 4, 4, 4, 4, 4, 4], 32),
            ("8 jobs, one server of budget 8, 8 slots", 8, [8], 8),
        ];
        Console.WriteLine($"fleet simulation: {seeds} synthetic fleets per shape; makespan / lower bound (policy, and first-come for comparison)");
        bool ok = true;
        foreach (var (name, jobs, budgets, slots) in fleets)
        {
            var policy = new List<double>();
            var fifo = new List<double>();
            for (int seed = 1; seed <= seeds; seed++)
            {
                var fleet = Synthetic(jobs, budgets.Length, new Random(seed));
                double bound = LowerBound(fleet, budgets, slots);
                policy.Add(Simulate(fleet, budgets, slots, firstCome: false) / bound);
                fifo.Add(Simulate(fleet, budgets, slots, firstCome: true) / bound);
            }

            bool within = policy.Max() <= 1 + limit;
            ok &= within;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name}: policy mean {policy.Average():0.000} worst {policy.Max():0.000}; first-come mean {fifo.Average():0.000} worst {fifo.Max():0.000}; {(within ? "within" : "OVER")} {limit:P0}"));
        }

        return ok ? 0 : 1;
    }

    /// <summary>A unit of a synthetic job: its duration (seconds) and the units that wait for it.</summary>
    internal sealed record Unit(int Job, double Seconds, List<Unit> Next)
    {
        public int Waiting { get; set; }

        /// <summary>The longest chain from this unit to its job's end, itself included.</summary>
        public double Chain { get; set; }
    }

    internal sealed record Job(int Id, int Host, int Priority, IReadOnlyList<Unit> Units);

    internal static List<Job> Synthetic(int jobs, int hosts, Random random)
    {
        var fleet = new List<Job>();
        for (int j = 0; j < jobs; j++)
        {
            var units = new List<Unit>();
            var prefork = new Unit(j, 0.5 + random.NextDouble(), []);
            var finish = new Unit(j, 0.1, []);
            units.Add(prefork);
            // Jobs differ in size by 20 times: a few big databases among small ones, as in a real fleet.
            double scale = Math.Exp(random.NextDouble() * Math.Log(20));
            int tables = 3 + random.Next(12);
            for (int t = 0; t < tables; t++)
            {
                // Heavy-tailed table sizes: most small, a few large.
                double data = scale * Math.Exp(random.NextDouble() * 3) * 0.5;
                var load = new Unit(j, data, []);
                var index = new Unit(j, data * 0.3, [finish]);
                load.Next.Add(index);
                prefork.Next.Add(load);
                units.Add(load);
                units.Add(index);
            }

            units.Add(finish);
            fleet.Add(new Job(j, j % hosts, 0, units));
        }

        return fleet;
    }

    internal static double LowerBound(IReadOnlyList<Job> fleet, int[] budgets, int slots)
    {
        Reset(fleet);
        double total = fleet.Sum(j => j.Units.Sum(u => u.Seconds));
        double chain = fleet.Max(j => j.Units[0].Chain);
        double busiest = fleet.GroupBy(j => j.Host).Max(g => g.Sum(j => j.Units.Sum(u => u.Seconds)) / budgets[g.Key]);
        return Math.Max(busiest, Math.Max(chain, total / slots));
    }

    /// <summary>The fleet's makespan with <paramref name="slots"/> slots and the servers' budgets.</summary>
    internal static double Simulate(IReadOnlyList<Job> fleet, int[] budgets, int slots, bool firstCome)
    {
        Reset(fleet);
        var ready = fleet.Select(j => (Unit: j.Units[0], Since: 0.0)).ToList();
        var running = new PriorityQueue<Unit, double>();
        var inFlight = new int[budgets.Length];
        double now = 0;
        int free = slots;
        while (ready.Count > 0 || running.Count > 0)
        {
            while (free > 0 && ready.Count > 0)
            {
                int pick = firstCome ? FirstCome(ready, fleet, inFlight, budgets) : FleetPolicy.Choose(ready.Select(r => Candidate(r.Unit, r.Since, fleet, inFlight, budgets, now)).ToList());
                if (pick < 0)
                {
                    break;
                }

                var unit = ready[pick].Unit;
                ready.RemoveAt(pick);
                inFlight[fleet[unit.Job].Host]++;
                free--;
                running.Enqueue(unit, now + unit.Seconds);
            }

            running.TryDequeue(out var done, out double end);
            now = end;
            inFlight[fleet[done!.Job].Host]--;
            free++;
            foreach (var next in done.Next)
            {
                if (--next.Waiting == 0)
                {
                    ready.Add((next, now));
                }
            }
        }

        return now;
    }

    private static FleetCandidate Candidate(Unit unit, double since, IReadOnlyList<Job> fleet, int[] inFlight, int[] budgets, double now)
    {
        var job = fleet[unit.Job];
        return new FleetCandidate(job.Id.ToString(CultureInfo.InvariantCulture), job.Priority, job.Host.ToString(CultureInfo.InvariantCulture),
            inFlight[job.Host] < budgets[job.Host], unit.Chain, TimeSpan.FromSeconds(now - since));
    }

    // The baseline: the first ready unit in manifest order whose server has room.
    private static int FirstCome(List<(Unit Unit, double Since)> ready, IReadOnlyList<Job> fleet, int[] inFlight, int[] budgets)
    {
        int best = -1;
        for (int i = 0; i < ready.Count; i++)
        {
            var job = fleet[ready[i].Unit.Job];
            if (inFlight[job.Host] < budgets[job.Host] && (best < 0 || ready[i].Unit.Job < ready[best].Unit.Job))
            {
                best = i;
            }
        }

        return best;
    }

    // The units' waits and chains, before each run.
    private static void Reset(IReadOnlyList<Job> fleet)
    {
        foreach (var job in fleet)
        {
            foreach (var unit in job.Units)
            {
                unit.Waiting = 0;
            }

            foreach (var unit in job.Units)
            {
                foreach (var next in unit.Next)
                {
                    next.Waiting++;
                }
            }

            // Units are listed so that every unit comes before those that wait for it: chains from the end back.
            for (int i = job.Units.Count - 1; i >= 0; i--)
            {
                var unit = job.Units[i];
                unit.Chain = unit.Seconds + unit.Next.Select(n => n.Chain).DefaultIfEmpty().Max();
            }
        }
    }
}
