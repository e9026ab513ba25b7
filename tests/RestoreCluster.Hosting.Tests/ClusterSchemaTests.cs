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
