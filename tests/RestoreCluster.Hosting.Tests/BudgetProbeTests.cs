using System.Diagnostics;
using RestoreCluster.Grains;
using RestoreCluster.Planning;
using RestoreCluster.Restore;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// The adaptive budget's probe (<see cref="BudgetProbe"/>) against a real server whose answer does not come: a probe
/// query that sleeps ten minutes stands for a server that stopped answering, or a probe session that hangs.
/// </summary>
public sealed class BudgetProbeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // Before, the pacer heard only of answers: while none came, the COPYs kept the pace they had, full speed at the
    // start; the budget's window had no latency to judge; and stopping the probe waited for the answer.
    [Fact]
    public async Task AProbeWhoseAnswerDoesNotComeSlowsThePaceAtOnceCountsItsWaitInTheWindowAndIsCancelledWhenItStops()
    {
        var server = await PostgresServer.GetSharedAsync();
        string marker = "probe_" + Guid.NewGuid().ToString("N");
        string sql = $"SELECT pg_sleep(600) /* {marker} */";
        var pacer = new CopyPacer(limitMs: 50);
        var failures = new List<string>();
        var probe = new BudgetProbe(Target(server), sql, failures.Add, pacer);
        try
        {
            var deadline = Stopwatch.StartNew();
            while (pacer.Pace > CopyPacer.Slowest)
            {
                Assert.True(deadline.Elapsed < Patience, $"the pace was still {pacer.Pace} after {Patience.TotalSeconds} s with no answer");
                await Task.Delay(20);
            }

            // The pace fell while the query was still awaited, not through an answer.
            Assert.Equal(1L, await ProbeSessionsAsync(server, marker, "active"));

            List<double> window;
            while ((window = probe.Drain()).Count == 0)
            {
                Assert.True(deadline.Elapsed < Patience, "no window latency while the query was awaited");
                await Task.Delay(20);
            }

            var waited = Assert.Single(window);
            Assert.InRange(waited, BudgetProbe.Period.TotalMilliseconds, 600_000);
        }
        finally
        {
            var stopping = Stopwatch.StartNew();
            await probe.DisposeAsync();
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(20), $"stopping the probe took {stopping.Elapsed.TotalSeconds:F1} s");
        }

        // Its query was cancelled and its session closed, not left sleeping on the server.
        var gone = Stopwatch.StartNew();
        while (await ProbeSessionsAsync(server, marker, state: null) > 0)
        {
            Assert.True(gone.Elapsed < Patience, "the probe's session was still on the server after it stopped");
            await Task.Delay(50);
        }

        Assert.Empty(failures);
    }

    // Where the probe connects: the server's conninfo as a restore resolves it (no PG* variables of this process).
    private static IReadOnlyDictionary<string, string> Target(PostgresServer server) =>
        ConnectionTarget.Resolve(server.LibpqConnectionString("postgres"), null, null, null, new Dictionary<string, string?>()).Values;

    private static async Task<long> ProbeSessionsAsync(PostgresServer server, string marker, string? state) =>
        await server.ScalarAsync<long>(
            "postgres",
            $"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%{marker}%' AND pid <> pg_backend_pid()"
            + (state is null ? "" : $" AND state = '{state}'"));
}
