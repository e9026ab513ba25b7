using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orleans.Configuration;
using RestoreCluster.Grains;

namespace RestoreCluster.Hosting;

/// <summary>
/// A single-node cluster inside the restorecluster process: localhost clustering on free ports with a
/// cluster id of its own (several restores on one machine never meet), in-memory grain state, the same
/// grains a real cluster runs.
/// </summary>
public sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly IHost _host;

    private EmbeddedCluster(IHost host, string siloName)
    {
        _host = host;
        SiloName = siloName;
        Grains = host.Services.GetRequiredService<IGrainFactory>();
    }

    public IGrainFactory Grains { get; }

    /// <summary>The silo's name, which is also its worker grain's key.</summary>
    public string SiloName { get; }

    /// <summary>
    /// Starts the silo. <paramref name="logging"/> sets where log records go (<see cref="RestoreLogs.AddTo"/>, or a
    /// test's capture); without it the silo has no log provider.
    /// </summary>
    public static async Task<EmbeddedCluster> StartAsync(TelemetryOptions telemetry, Action<ILoggingBuilder>? logging = null, CancellationToken cancellation = default)
    {
        string siloName = $"{Environment.MachineName}-{Environment.ProcessId}";
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Configuration.AddInMemoryCollection(TelemetryOptions.EnvironmentSettings());
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort(), serviceId: "restorecluster", clusterId: $"embedded-{Guid.NewGuid():N}");
            silo.Configure<SiloOptions>(o => o.SiloName = siloName);
            // Nothing outside this process talks to the embedded silo: no gateway to open.
            silo.Configure<EndpointOptions>(o => o.GatewayPort = 0);
            silo.AddMemoryGrainStorage("restore");
            silo.AddActivityPropagation();
            silo.Services.AddPlacementDirector<PinToSiloStrategy, PinToSiloDirector>();
        });
        builder.Services.AddRestoreTelemetry(telemetry, siloName);
        // The CLI owns Ctrl-C (it cancels the job and keeps the journal): the host must not stop the silo itself.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        var host = builder.Build();
        await host.StartAsync(cancellation).ConfigureAwait(false);
        return new EmbeddedCluster(host, siloName);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _host.StopAsync(timeout.Token).ConfigureAwait(false);
        // The exporters send on a timer; the last units, the job span and the final metric values must leave
        // before the process exits.
        _host.Services.GetService<TracerProvider>()?.ForceFlush(5000);
        _host.Services.GetService<MeterProvider>()?.ForceFlush(5000);
        _host.Dispose();
    }

    // A port nobody listens on now; the silo binds it a moment later.
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A host lifetime that leaves signals to the CLI.</summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
