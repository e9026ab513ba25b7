using RestoreCluster.Archive;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// With -j, an explicit --transaction-size N caps the serial batches (the prefork here) at N units, as pg_restore 17's
/// leader commits every N objects; without it they grow to their own ceiling. Seen in the journal before the final
/// drop: a batch's unit rows share their transaction's now() (done_at).
/// </summary>
[Collection(InProcessMeters.Name)]
public sealed class TransactionSizeBatchTests : IAsyncLifetime
{
    private readonly List<string> _databases = [];
    private FixtureSet? _fixtures;
    private EmbeddedCluster? _cluster;

    public async Task InitializeAsync()
    {
        _fixtures = await FixtureArchives.GetAsync();
        _cluster = await EmbeddedCluster.StartAsync(new TelemetryOptions(null, false));
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        foreach (string database in _databases)
        {
            await _fixtures!.Server.DropDatabaseAsync(database);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(0)]
    public async Task TheSerialBatchesHoldAtMostTransactionSizeUnits(int size)
    {
        var server = _fixtures!.Server;
        string archive = _fixtures["rich.custom"].Path;
        string database = await server.CreateDatabaseAsync("txn_batches");
        _databases.Add(database);
        string jobId = $"txn-batches-{Guid.NewGuid():N}";
        var target = ConnectionTarget.Resolve(server.LibpqConnectionString(database), null, null, null, new Dictionary<string, string?>());
        var spec = new JobSpec(jobId, archive, target.Values, new RestoreOptions { TransactionSize = size }.ToJobOptions(), Order: null, Jobs: 2, HostBudget: 1, Resume: false, HostKey: jobId);
        await _cluster!.Grains.GetGrain<IHostBudgetGrain>(jobId).SetBudget(1);
        var coordinator = _cluster.Grains.GetGrain<ICoordinatorGrain>(jobId);
        Assert.Equal(JobState.Running, (await coordinator.Start(spec)).State);

        // Play the one worker: lease the prefork and run it; its batches have committed when Run returns.
        using var executor = new UnitExecutor(spec, PgArchive.Open(archive));
        var lease = Assert.Single(await coordinator.Lease("played/0", 1, TimeSpan.FromSeconds(5)));
        Assert.Equal(UnitKind.Prefork, lease.Kind);
        Assert.All(executor.Run([lease], CancellationToken.None), r => Assert.Null(r.Fatal));

        long units = await server.ScalarAsync<long>(database, "SELECT count(*) FROM restorecluster_journal.unit");
        long largest = await server.ScalarAsync<long>(database, "SELECT max(n) FROM (SELECT count(*) AS n FROM restorecluster_journal.unit GROUP BY done_at) b");
        long batches = await server.ScalarAsync<long>(database, "SELECT count(DISTINCT done_at) FROM restorecluster_journal.unit");
        Assert.True(units > 10, $"the prefork restored {units} units");
        if (size > 0)
        {
            Assert.True(largest <= size, $"a batch of {largest} units under --transaction-size={size}");
            Assert.True(batches >= (units + size - 1) / size, $"{batches} batches for {units} units under --transaction-size={size}");
        }
        else
        {
            // The control: without the option the definitions share batches larger than the sizes above.
            Assert.True(largest > 3, $"without --transaction-size the largest batch held {largest} units");
        }
    }
}
