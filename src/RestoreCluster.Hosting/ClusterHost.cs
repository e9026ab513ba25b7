using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Storage;
using RestoreCluster.Grains;
using RestoreCluster.Restore;

namespace RestoreCluster.Hosting;

/// <summary>
/// Settings of one cluster member (<c>restorecluster silo</c>): its name (its worker's key), slots, ports, the
/// address it advertises, failure detection (null: Orleans' defaults), its HTTP endpoints (health, dashboard) and TLS.
/// </summary>
public sealed record SiloSettings(
    ClusterDatabase Database, string Name, int Slots, int Port, int GatewayPort, IPAddress Advertise, FailureDetection? FailureDetection = null,
    SiloWeb? Web = null, ClusterTls? Tls = null);

/// <summary>
/// Orleans' failure detection (<c>ClusterMembershipOptions</c>): how long a probe may take, how many may be
/// missed, how many votes declare a silo dead, how often the table is read and the silo's heartbeat written.
/// </summary>
public sealed record FailureDetection(TimeSpan ProbeTimeout, int MissedProbes, int DeathVotes, TimeSpan TableRefresh, TimeSpan AlivePublish);

/// <summary>Silo and client hosts of a cluster on PostgreSQL (AdoNet clustering, docs/cluster.md).</summary>
public static class ClusterHost
{
    /// <summary>Orleans' cluster and service id of every restorecluster cluster: one cluster per database.</summary>
    public const string ClusterId = "restorecluster";

    /// <summary>The grain storage the grains' persistent state names (<c>[PersistentState(..., "restore")]</c>).</summary>
    public const string StorageName = "restore";

    /// <summary>A silo host (not started): coordinators, workers (the worker pinned here) and budget grains.</summary>
    public static IHost BuildSilo(SiloSettings settings, TelemetryOptions telemetry, Action<ILoggingBuilder>? logging = null)
    {
        var builder = SiloWebHost.CreateBuilder(settings);
        // Without it a silo's spans and metrics went to the SDK's default endpoint, whatever OTEL_EXPORTER_OTLP_ENDPOINT said.
        builder.Configuration.AddInMemoryCollection(TelemetryOptions.EnvironmentSettings());
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(10));
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ClusterId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = settings.Name);
            silo.ConfigureEndpoints(settings.Advertise, settings.Port, settings.GatewayPort, listenOnAnyHostAddress: false);
            IsolatedAdoNet.UseClustering(silo, settings.Database.ToNpgsql());
            if (settings.FailureDetection is { } fd)
            {
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = fd.ProbeTimeout;
                    o.NumMissedProbesLimit = fd.MissedProbes;
                    o.NumVotesForDeathDeclaration = fd.DeathVotes;
                    o.TableRefreshTimeout = fd.TableRefresh;
                    o.IAmAliveTablePublishTimeout = fd.AlivePublish;
                });
            }

            // The coordinators' and host budgets' state outlives the silo that held it (docs/cluster.md, "What is
            // persisted"): in the cluster database, in Orleans' binary form ([Id]s, not type names), so a renamed
            // type still reads.
            IsolatedAdoNet.UseGrainStorage(silo, StorageName, settings.Database.ToNpgsql());
            silo.Services.AddSingleton<IGrainStorageSerializer>(sp => new OrleansGrainStorageSerializer(sp.GetRequiredService<Orleans.Serialization.Serializer>()));
            silo.AddActivityPropagation();
            silo.Services.AddPlacementDirector<PinToSiloStrategy, PinToSiloDirector>();
            silo.Services.Configure<WorkerOptions>(o => o.Slots = settings.Slots);
            // Orleans' default directory loses the entries a departed silo held, and the next call to such a grain
            // (a job's coordinator on a surviving silo, say) makes a new, empty activation beside the live one; the
            // distributed directory hands its ranges over and keeps every live activation found (cluster.md).
#pragma warning disable ORLEANSEXP003 // experimental in Orleans 10.4.2
            silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
            SiloWebHost.ConfigureSilo(silo, settings.Web);
            if (settings.Tls is { } tls)
            {
                silo.UseTls(tls.Certificate, tls.Configure);
            }
        });
        builder.Services.AddRestoreTelemetry(telemetry, settings.Name);
        // Registered after Orleans, so stopped before it: the worker drains while the silo still runs.
        builder.Services.AddHostedService(sp => new SiloDrain(sp.GetRequiredService<IGrainFactory>(), settings.Name));
        // Started after Orleans: the silo is a member when its worker joins the jobs already running.
        builder.Services.AddHostedService(sp => new SiloJoin(sp.GetRequiredService<IGrainFactory>(), settings.Database, settings.Name, sp.GetRequiredService<ILogger<SiloJoin>>()));
        return SiloWebHost.Build(builder, settings);
    }

    /// <summary>A client host (not started) that finds the gateways in the cluster database (over TLS with <paramref name="tls"/>).</summary>
    public static IHost BuildClient(ClusterDatabase database, Action<ILoggingBuilder>? logging = null, ClusterTls? tls = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ClusterId;
            });
            IsolatedAdoNet.UseClustering(client, database.ToNpgsql());
            // An unreachable or empty cluster fails within seconds instead of retrying for long.
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(30));
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            client.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
            client.AddActivityPropagation();
            if (tls is not null)
            {
                client.UseTls(tls.Certificate, tls.Configure);
            }
        });
        return builder.Build();
    }
}

/// <summary>
/// A silo's stop (SIGTERM, SIGINT): its worker leases no more units, and the stop waits until the units running
/// have finished; then Orleans stops the silo, which leaves the membership.
/// </summary>
internal sealed class SiloDrain(IGrainFactory grains, string siloName) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var worker = grains.GetGrain<RestoreCluster.Grains.Abstractions.IWorkerGrain>(siloName);
        await worker.Drain().ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested && await worker.Running().ConfigureAwait(false) > 0)
        {
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }
}
