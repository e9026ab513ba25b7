using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// A coordinator's state in the cluster database, through Orleans' real AdoNet storage provider: a job started on
/// one silo is taken up by another silo after the first one is gone, with no unit treated as a first run; the
/// stored state holds no password; a job that ended shows how it ended and hands out nothing.
/// </summary>
public sealed class CoordinatorTakeUpTests
{
    [Fact]
    public async Task AJobStartedOnAGoneSiloIsTakenUpElsewhereWithNoFirstRunAndNoStoredPasswordAndRanAgainNamesOnlyUnitsThatRanAgain()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        var database = await ClusterSchemaTests.NewClusterDatabaseAsync(server, "cluster_takeup");
        await ClusterSchema.InitAsync(database);
        string archive = fixtures["rich.custom"].Path;
        string jobId = $"takeup-{Guid.NewGuid():N}";
        const string Password = "never-stored-7f3a";
        var target = new Dictionary<string, string>(ConnectionTarget.Resolve(server.LibpqConnectionString("postgres"), null, null, null, new Dictionary<string, string?>()).Values)
        {
            ["password"] = Password,
        };
        var spec = new JobSpec(jobId, archive, target, new RestoreOptions().ToJobOptions(), Order: null, Jobs: 2, HostBudget: 1, Resume: false, HostKey: jobId);
        JobStatus started;
        await using (var first = await StartSiloAsync(database, "silo-a"))
        {
            var coordinator = first.Grains.GetGrain<ICoordinatorGrain>(jobId);
            started = await coordinator.Start(spec);
            Assert.Equal(JobState.Running, started.State);
            // The first activation's first lease is a first run.
            Assert.True(Assert.Single(await coordinator.Lease("w/0", 1, TimeSpan.Zero)).FirstRun);
        }

        string db = database.Target.Database;
        var payload = await server.ScalarAsync<byte[]>(db, "SELECT PayloadBinary FROM OrleansStorage WHERE GrainTypeString = 'coordinator'");
        Assert.NotNull(payload);
        Assert.Contains(jobId, System.Text.Encoding.UTF8.GetString(payload), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, System.Text.Encoding.UTF8.GetString(payload), StringComparison.Ordinal);

        await using (var second = await StartSiloAsync(database, "silo-b"))
        {
            var coordinator = second.Grains.GetGrain<ICoordinatorGrain>(jobId);
            var status = await coordinator.Status();
            Assert.Equal(JobState.Running, status.State);
            Assert.Equal(started.UnitsTotal, status.UnitsTotal);
            Assert.Equal("silo-b", await coordinator.Silo());
            Assert.False((await coordinator.Spec())!.Target.ContainsKey("password"));

            // Taken up: the prefork runs again, and not as a first run (it may have committed, or left rows).
            var lease = Assert.Single(await coordinator.Lease("w/0", 1, TimeSpan.Zero));
            Assert.False(lease.FirstRun);
            Assert.Empty((await coordinator.Status()).RanAgain!);
            // It ran again (no journal row stopped it): "ran again" names it. A unit found done in the journal did not.
            await coordinator.Complete([Ran(lease)]);
            var next = Assert.Single(await coordinator.Lease("w/0", 1, TimeSpan.Zero));
            await coordinator.Complete([Ran(next) with { AlreadyDone = true }]);
            Assert.StartsWith("pre-data (", Assert.Single((await coordinator.Status()).RanAgain!), StringComparison.Ordinal);
        }

        await using (var third = await StartSiloAsync(database, "silo-c"))
        {
            // Taken up once more: the list is the stored one, and the units found done in the journal do not grow it.
            var coordinator = third.Grains.GetGrain<ICoordinatorGrain>(jobId);
            foreach (var lease in await coordinator.Lease("w/0", 1, TimeSpan.Zero))
            {
                await coordinator.Complete([Ran(lease) with { AlreadyDone = true }]);
            }

            Assert.StartsWith("pre-data (", Assert.Single((await coordinator.Status()).RanAgain!), StringComparison.Ordinal);
            await coordinator.Cancel();
        }

        await using (var fourth = await StartSiloAsync(database, "silo-d"))
        {
            var coordinator = fourth.Grains.GetGrain<ICoordinatorGrain>(jobId);
            var status = await coordinator.Status();
            Assert.Equal(JobState.Cancelled, status.State);
            Assert.Equal(started.UnitsTotal, status.UnitsTotal);
            Assert.Single(status.RanAgain!);
            Assert.Empty(await coordinator.Lease("w/0", 1, TimeSpan.Zero));
        }
    }

    [Theory]
    [InlineData(JobState.NotStarted, RecoveryAction.None)]
    [InlineData(JobState.Running, RecoveryAction.Continue)]
    [InlineData(JobState.Succeeded, RecoveryAction.ShowEnded)]
    [InlineData(JobState.CompletedWithErrors, RecoveryAction.ShowEnded)]
    [InlineData(JobState.Failed, RecoveryAction.ShowEnded)]
    [InlineData(JobState.Cancelled, RecoveryAction.ShowEnded)]
    public void AnActivationContinuesOnlyARunningJob(JobState state, RecoveryAction action)
    {
        var spec = new JobSpec("j", "/a", new Dictionary<string, string>(), new RestoreOptions().ToJobOptions(), null, 1, 1, false);

        Assert.Equal(action, CoordinatorRecovery.OnActivation(new CoordinatorState { Spec = spec, State = state }));
        Assert.Equal(RecoveryAction.None, CoordinatorRecovery.OnActivation(new CoordinatorState { State = state }));
    }

    [Theory]
    [InlineData(1, false, false, true)]
    [InlineData(2, false, false, false)]
    [InlineData(1, true, false, false)]
    [InlineData(1, false, true, false)]
    public void OnlyAFirstAttemptOfAFreshRunIsAFirstRun(int attempt, bool resume, bool takenUp, bool firstRun) =>
        Assert.Equal(firstRun, CoordinatorRecovery.FirstRun(attempt, resume, takenUp));

    [Fact]
    public void TheStoredTargetLosesItsPasswordAndPassfile()
    {
        var stored = CoordinatorState.WithoutSecrets(new Dictionary<string, string> { ["host"] = "h", ["password"] = "p", ["PassFile"] = "/f" });

        Assert.Equal(["host"], stored.Keys);
    }

    // The report of a unit that ran without errors.
    private static UnitReport Ran(UnitLease lease) => new(lease.LeaseId, lease.UnitId, 0, [], [], null, 0, 0, []);

    private sealed class RunningSilo(IHost host) : IAsyncDisposable
    {
        public IGrainFactory Grains { get; } = host.Services.GetRequiredService<IGrainFactory>();

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    private static async Task<RunningSilo> StartSiloAsync(ClusterDatabase database, string name)
    {
        int port = ClusterSchemaTests.FreePort();
        int gatewayPort = ClusterSchemaTests.FreePort();
        while (gatewayPort == port)
        {
            gatewayPort = ClusterSchemaTests.FreePort();
        }

        var host = ClusterHost.BuildSilo(new SiloSettings(database, name, 1, port, gatewayPort, IPAddress.Loopback), new TelemetryOptions(null, false));
        await host.StartAsync();
        return new RunningSilo(host);
    }
}
