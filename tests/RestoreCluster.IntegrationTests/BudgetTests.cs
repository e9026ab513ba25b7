using System.Diagnostics;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// --host-budget bounds the sessions a restore holds on its target, whatever -j asks for: sampled in
/// pg_stat_activity every 50 ms on a separate connection, counting every session named restorecluster in
/// the target database (idle ones too).
/// </summary>
[Collection(WorkloadCollection.Name)]
public sealed class BudgetTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SixJobsWithABudgetOfTwoNeverHoldMoreThanTwoSessionsAndRestoreWhatPgRestoreRestores()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        var reference = await WorkloadChecks.ReferenceAsync(server, workload.CustomArchive);
        output.WriteLine($"workload generated and dumped in {workload.GenerationTime.TotalSeconds:0.0} s; pg_restore -j 4 took {reference.Duration.TotalSeconds:0.0} s");
        string target = await server.CreateDatabaseAsync("budget2");
        try
        {
            var (result, samples) = await RestoreWhileSamplingAsync(server, target, ["-j", "6", "--host-budget", "2"], 2, workload.CustomArchive);
            Assert.True(result.ExitCode == 0, result.Describe());
            Assert.True(samples.Max <= 2, $"{samples.Max} sessions seen at once with --host-budget 2 ({samples})");
            Assert.True(samples.Max == 2, $"the budget of 2 was never used in full ({samples})");
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
            await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, target, workload.CustomArchive);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task FourJobsWithABudgetOfOneNeverHoldMoreThanOneSession()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        string target = await server.CreateDatabaseAsync("budget1");
        try
        {
            var (result, samples) = await RestoreWhileSamplingAsync(server, target, ["-j", "4", "--host-budget", "1"], 1, workload.CustomArchive);
            Assert.True(result.ExitCode == 0, result.Describe());
            Assert.True(samples.Max == 1, $"with --host-budget 1: {samples}");
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    private async Task<(ProcessResult Result, Samples Samples)> RestoreWhileSamplingAsync(
        PostgresServer server, string target, string[] options, int budget, string archive)
    {
        await using var monitor = await WorkloadChecks.OpenAsync(server, "postgres");
        var clock = Stopwatch.StartNew();
        var restore = CliRunner.RunAsync(server, ["restore", .. options, "-d", target, archive], timeout: TimeSpan.FromMinutes(3));
        var samples = new Samples();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (!restore.IsCompleted)
        {
            int sessions = await WorkloadChecks.SessionsAsync(monitor, target);
            samples.Add(sessions);
            if (sessions > budget && samples.Excess.Count < 5)
            {
                samples.Excess.Add(await WorkloadChecks.DescribeSessionsAsync(monitor, target));
            }

            await timer.WaitForNextTickAsync();
        }

        var result = await restore;
        output.WriteLine($"restore {string.Join(' ', options)}: exit {result.ExitCode} in {clock.Elapsed.TotalSeconds:0.0} s; sessions: {samples}");
        return (result, samples);
    }

    private sealed class Samples
    {
        private readonly int[] _histogram = new int[64];

        public int Max { get; private set; }

        /// <summary>pg_stat_activity at the first samples over the budget.</summary>
        public List<string> Excess { get; } = [];

        public int Count { get; private set; }

        public void Add(int sessions)
        {
            Max = Math.Max(Max, sessions);
            Count++;
            _histogram[Math.Min(sessions, _histogram.Length - 1)]++;
        }

        public override string ToString() =>
            $"max {Max} in {Count} samples; " + string.Join(", ", _histogram.Select((n, i) => (n, i)).Where(x => x.n > 0).Select(x => $"{x.i}: {x.n}x"))
            + string.Concat(Excess.Select(e => "\nover the budget:\n" + e));
    }
}
