using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// A connection to a running cluster for one client command: the cluster database is checked first (reachable,
/// initialised, this build's schema), then the Orleans client finds a gateway there. Every failure is one line,
/// within seconds: an unreachable database, an uninitialised one, no silo running.
/// </summary>
internal sealed class ClusterClient : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTime = TimeSpan.FromSeconds(20);
    private readonly IHost _host;

    private ClusterClient(IHost host, ClusterDatabase database)
    {
        _host = host;
        Database = database;
        Grains = host.Services.GetRequiredService<IClusterClient>();
    }

    public ClusterDatabase Database { get; }

    public IClusterClient Grains { get; }

    public static async Task<ClusterClient> ConnectAsync(ClusterDatabase database, ClusterTls? tls = null)
    {
        await CheckDatabaseAsync(database);
        var host = ClusterHost.BuildClient(database, tls: tls);
        using var timeout = new CancellationTokenSource(ConnectTime);
        try
        {
            await host.StartAsync(timeout.Token);
        }
        catch (Exception e) when (e is OrleansException or SiloUnavailableException or OperationCanceledException or TimeoutException or Orleans.Runtime.Messaging.ConnectionFailedException)
        {
            host.Dispose();
            throw new CliError($"no silo of the cluster in {database} answers: {OneLine(e.Message)}");
        }

        return new ClusterClient(host, database);
    }

    /// <summary>The job's coordinator, after checking that the cluster knows the job.</summary>
    public async Task<(ICoordinatorGrain Coordinator, JobEntry Job)> FindJobAsync(string jobId)
    {
        var job = (await JobRegistry.ListAsync(Database, jobId)).FirstOrDefault()
            ?? throw new CliError($"no job \"{jobId}\" in the cluster in {Database}");
        return (Grains.GetGrain<ICoordinatorGrain>(jobId), job);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _host.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // A client that cannot say goodbye in time is left: the gateway drops it when the process exits.
        }

        _host.Dispose();
    }

    private static async Task CheckDatabaseAsync(ClusterDatabase database)
    {
        try
        {
            await ClusterSchema.RequireAsync(database);
        }
        catch (InvalidOperationException e)
        {
            throw new CliError(e.Message);
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new CliError($"could not connect to the cluster database {database}: {OneLine(e.Message)}");
        }
    }

    private static string OneLine(string message) => message.Split('\n')[0].Trim();
}
