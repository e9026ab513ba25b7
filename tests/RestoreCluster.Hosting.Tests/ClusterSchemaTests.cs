using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// cluster init's tables against Orleans' real AdoNet clustering provider: a silo joins, a client finds its
/// gateway, the membership rows appear and the silo leaves; init is idempotent and upgrades an older schema.
/// This process keeps Npgsql's rewriting off (the restore's setting): the provider works through IsolatedAdoNet.
/// </summary>
public sealed class ClusterSchemaTests
{
    [Fact]
    public async Task InitCreatesTheTablesOnceAndUpgradesAnOlderSchema()
    {
        var server = await PostgresServer.GetSharedAsync();
        var database = await NewClusterDatabaseAsync(server, "cluster_init");

        Assert.Empty(await ClusterSchema.InitAsync(database, upTo: 0));
        Assert.Equal(0, await server.ScalarAsync<int>(database.Target.Database, "SELECT count(*)::int FROM restorecluster_schema"));
        var first = await ClusterSchema.InitAsync(database, upTo: 1);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ClusterSchema.RequireAsync(database));
        var upgraded = await ClusterSchema.InitAsync(database);
        var again = await ClusterSchema.InitAsync(database);

        Assert.Equal([1], first);
        Assert.Contains("has schema version 1, this restorecluster needs", e.Message, StringComparison.Ordinal);
        Assert.Equal(ClusterSchema.Versions.Select(v => v.Version).Where(v => v > 1), upgraded);
        Assert.Empty(again);
        Assert.False(await server.ScalarAsync<bool>(database.Target.Database, "SELECT to_regclass('restorecluster_job') IS NULL"));
        Assert.Equal(ClusterSchema.Latest, await server.ScalarAsync<int>(database.Target.Database, "SELECT max(version) FROM restorecluster_schema"));
        Assert.Equal(1L, await server.ScalarAsync<long>(database.Target.Database, "SELECT count(*) FROM OrleansQuery WHERE QueryKey = 'CleanupDefunctSiloEntriesKey'"));
        await ClusterSchema.RequireAsync(database);
    }

    [Fact]
    public async Task InitUpgradesAVersion2SchemaTo3WithTheGrainStorage()
    {
        var server = await PostgresServer.GetSharedAsync();
        var database = await NewClusterDatabaseAsync(server, "cluster_v2");
        string db = database.Target.Database;
        Assert.Equal([1, 2], await ClusterSchema.InitAsync(database, upTo: 2));
        Assert.True(await server.ScalarAsync<bool>(db, "SELECT to_regclass('orleansstorage') IS NULL"));

        var upgraded = await ClusterSchema.InitAsync(database, upTo: 3);

        Assert.Equal([3], upgraded);
        Assert.False(await server.ScalarAsync<bool>(db, "SELECT to_regclass('orleansstorage') IS NULL"));
        Assert.Equal(3L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM OrleansQuery WHERE QueryKey IN ('ReadFromStorageKey', 'WriteToStorageKey', 'ClearStorageKey')"));
        Assert.Equal("cluster-003-storage", await server.ScalarAsync<string>(db, "SELECT description FROM restorecluster_schema WHERE version = 3"));
    }

    [Fact]
    public async Task InitUpgradesAVersion3SchemaTo4WithFleetsAndKeepsTheJobsSubmittedBefore()
    {
        var server = await PostgresServer.GetSharedAsync();
        var database = await NewClusterDatabaseAsync(server, "cluster_v3");
        string db = database.Target.Database;
        Assert.Equal([1, 2, 3], await ClusterSchema.InitAsync(database, upTo: 3));
        await server.ExecuteAsync(db, "INSERT INTO restorecluster_job (job_id, archive, target, host_key) VALUES ('job-old', '/a.dump', 'h:5432/d as u', 'pg:1:5432')");
        await Assert.ThrowsAsync<InvalidOperationException>(() => ClusterSchema.RequireAsync(database));

        var upgraded = await ClusterSchema.InitAsync(database);
        await FleetRegistry.AddAsync(database, "fleet-1", "/m.yaml", [new FleetHost("h:5432", "pg:1:5432", 3)]);
        await JobRegistry.AddAsync(database, new JobEntry("job-new", "/b.dump", "h:5432/e as u", "pg:1:5432", DateTimeOffset.UtcNow, "fleet-1", 7), fleetPosition: 0);

        Assert.Equal(4, ClusterSchema.Latest);
        Assert.Equal([4], upgraded);
        Assert.Equal("cluster-004-fleets", await server.ScalarAsync<string>(db, "SELECT description FROM restorecluster_schema WHERE version = 4"));
        var old = Assert.Single(await JobRegistry.ListAsync(database, "job-old"));
        Assert.Equal((null, 0), (old.FleetId, old.Priority));
        var fleet = Assert.Single(await JobRegistry.FleetAsync(database, "fleet-1"));
        Assert.Equal(("job-new", "fleet-1", 7), (fleet.JobId, fleet.FleetId, fleet.Priority));
        // budget set HOST:PORT finds the server by the manifest's name and by a job's target.
        Assert.Equal(["pg:1:5432"], await FleetRegistry.HostKeysAsync(database, "h:5432"));
        Assert.Empty(await FleetRegistry.HostKeysAsync(database, "other:5432"));
        await ClusterSchema.RequireAsync(database);
    }

    [Fact]
    public async Task AHostBudgetIsStoredInOrleansBinaryFormAndOutlivesItsSilo()
    {
        var server = await PostgresServer.GetSharedAsync();
        var database = await NewClusterDatabaseAsync(server, "cluster_store");
        await ClusterSchema.InitAsync(database);
        string db = database.Target.Database;

        // A first silo stores the budget (the grain's first write inserts its row, a change bumps its version).
        await using (var first = await StartSiloAsync(database, "silo-a"))
        {
            var budget = first.Grains.GetGrain<IHostBudgetGrain>("host-one");
            await budget.SetBudget(3);
            await budget.SetBudget(5);
            Assert.Equal(5, (await budget.Status()).Budget);
        }

        Assert.Equal(1L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM OrleansStorage WHERE GrainTypeString = 'budget'"));
        Assert.Equal(2, await server.ScalarAsync<int>(db, "SELECT version FROM OrleansStorage WHERE GrainTypeString = 'budget'"));
        Assert.Equal("host-one", await server.ScalarAsync<string>(db, "SELECT GrainIdExtensionString FROM OrleansStorage WHERE GrainTypeString = 'budget'"));
        // Orleans' binary form: no JSON, no type names.
        var payload = await server.ScalarAsync<byte[]>(db, "SELECT PayloadBinary FROM OrleansStorage WHERE GrainTypeString = 'budget'");
        Assert.NotEqual((byte)'{', payload![0]);
        Assert.DoesNotContain("HostBudgetState", System.Text.Encoding.UTF8.GetString(payload!), StringComparison.Ordinal);

        // A new silo (the first one is gone) reads the budget back: the server is not left unlimited.
        await using (var second = await StartSiloAsync(database, "silo-b"))
        {
            Assert.Equal(5, (await second.Grains.GetGrain<IHostBudgetGrain>("host-one").Status()).Budget);
            Assert.Equal(0, (await second.Grains.GetGrain<IHostBudgetGrain>("host-two").Status()).Budget);
        }
    }

    [Fact]
    public void TheStorageProviderLoadsBesideTheIsolatedNpgsqlAndTheProcessKeepsRewritingOff()
    {
        var builder = new FakeSiloBuilder();

        IsolatedAdoNet.UseGrainStorage(builder, "probe", "Host=127.0.0.1;Database=x;Username=y");

        var storage = IsolatedAdoNet.LoadContext.Assemblies.Select(a => a.GetName().Name).ToList();
        Assert.Contains("Orleans.Persistence.AdoNet", storage);
        Assert.Contains("Npgsql", storage);
        // The options the provider reads are the isolated assembly's type (Orleans' assembly scan may load another
        // copy into the default context for its metadata; that one is never configured, so never runs).
        var options = builder.Services.SelectMany(d => d.ServiceType.GetGenericArguments()).First(t => t.Name == "AdoNetGrainStorageOptions");
        Assert.Same(IsolatedAdoNet.LoadContext, System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(options.Assembly));
        Assert.True(AppContext.TryGetSwitch("Npgsql.EnableSqlRewriting", out bool rewriting) && !rewriting);
        Assert.Contains(builder.Services, d => d.ServiceKey is "probe" && d.ServiceType == typeof(Orleans.Storage.IGrainStorage));
    }

    private sealed class FakeSiloBuilder : ISiloBuilder
    {
        public IServiceCollection Services { get; } = new ServiceCollection();

        public Microsoft.Extensions.Configuration.IConfiguration Configuration { get; } = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build();
    }

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
        int port = FreePort();
        int gatewayPort = FreePort();
        while (gatewayPort == port)
        {
            gatewayPort = FreePort();
        }

        var host = ClusterHost.BuildSilo(new SiloSettings(database, name, 1, port, gatewayPort, IPAddress.Loopback), new TelemetryOptions(null, false));
        await host.StartAsync();
        return new RunningSilo(host);
    }

    [Fact]
    public async Task AnUninitialisedDatabaseIsOneLineError()
    {
        var server = await PostgresServer.GetSharedAsync();
        var database = await NewClusterDatabaseAsync(server, "cluster_bare");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ClusterSchema.RequireAsync(database));

        Assert.Contains("not initialised", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task ASiloJoinsAClientFindsItsGatewayAndTheSiloLeavesCleanly()
    {
        var server = await PostgresServer.GetSharedAsync();
        var database = await NewClusterDatabaseAsync(server, "cluster_join");
        await ClusterSchema.InitAsync(database);
        int port = FreePort();
        int gatewayPort = FreePort();
        while (gatewayPort == port)
        {
            // The system may hand the same free port out twice once its listener is closed.
            gatewayPort = FreePort();
        }

        var settings = new SiloSettings(database, "silo-a", 2, port, gatewayPort, IPAddress.Loopback);

        using var silo = ClusterHost.BuildSilo(settings, new TelemetryOptions(null, false));
        await silo.StartAsync();
        using (var client = ClusterHost.BuildClient(database))
        {
            await client.StartAsync();
            var info = await client.Services.GetRequiredService<IClusterClient>().GetGrain<IWorkerGrain>("silo-a").Info();
            Assert.Equal(("silo-a", 2, 0), (info.Silo, info.Slots, info.Running));
            await client.StopAsync();
        }

        string db = database.Target.Database;
        Assert.Equal(3, await server.ScalarAsync<int>(db, "SELECT status FROM OrleansMembershipTable WHERE siloname = 'silo-a'"));
        Assert.Equal("127.0.0.1", await server.ScalarAsync<string>(db, "SELECT address FROM OrleansMembershipTable WHERE siloname = 'silo-a'"));
        Assert.Equal(settings.GatewayPort, await server.ScalarAsync<int>(db, "SELECT proxyport FROM OrleansMembershipTable WHERE siloname = 'silo-a'"));
        Assert.True(await server.ScalarAsync<int>(db, "SELECT version FROM OrleansMembershipVersionTable") > 0);

        await silo.StopAsync();

        Assert.Equal(6, await server.ScalarAsync<int>(db, "SELECT status FROM OrleansMembershipTable WHERE siloname = 'silo-a'"));
    }

    internal static async Task<ClusterDatabase> NewClusterDatabaseAsync(PostgresServer server, string prefix)
    {
        string name = await server.CreateDatabaseAsync(prefix);
        return ClusterDatabase.Resolve(server.LibpqConnectionString(name), new Dictionary<string, string?>())!;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
