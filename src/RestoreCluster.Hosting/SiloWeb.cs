using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Dashboard;

namespace RestoreCluster.Hosting;

/// <summary>
/// A silo's HTTP side: <c>GET /healthz</c> on <see cref="HealthPort"/> (at the advertised address and on loopback)
/// and the Orleans Dashboard under <c>/dashboard/</c> on <see cref="DashboardPort"/> at
/// <see cref="DashboardAddress"/>. Either port may be absent; with neither the silo serves no HTTP.
/// </summary>
public sealed record SiloWeb(int? HealthPort, int? DashboardPort, IPAddress DashboardAddress)
{
    /// <summary>Where the dashboard is mapped.</summary>
    public const string DashboardPath = "/dashboard";

    public bool Serves => HealthPort is not null || DashboardPort is not null;
}

/// <summary>
/// Builds a silo's host with or without Kestrel. Both HTTP endpoints share one Kestrel server in the silo's own
/// host: the dashboard reads the silo's services, and the health answer is the silo's own membership status.
/// </summary>
internal static class SiloWebHost
{
    /// <summary>A web host (Kestrel only, no defaults) when the silo serves HTTP, else a plain host.</summary>
    public static IHostApplicationBuilder CreateBuilder(SiloSettings settings)
    {
        if (settings.Web is not { Serves: true } web)
        {
            return Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRouting();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var endpoint in Endpoints(settings.Advertise, web))
            {
                kestrel.Listen(endpoint);
            }
        });
        return builder;
    }

    /// <summary>The dashboard's silo part, on every silo that serves it.</summary>
    public static void ConfigureSilo(ISiloBuilder silo, SiloWeb? web)
    {
        if (web?.DashboardPort is not null)
        {
            silo.AddDashboard(o =>
            {
                // Traces would put every grain call on the page; counters once a second are plenty for a person.
                o.HideTrace = true;
                o.CounterUpdateIntervalMs = 1000;
            });
        }
    }

    public static IHost Build(IHostApplicationBuilder builder, SiloSettings settings)
    {
        if (builder is not WebApplicationBuilder webBuilder || settings.Web is not { } web)
        {
            return ((HostApplicationBuilder)builder).Build();
        }

        // The web host's server is stopped first of all hosted services (it is registered last, at Build), which would
        // close /healthz before the drain: the drain runs before any service stops instead, while /healthz says 503.
        webBuilder.Services.AddHostedService(sp => new DrainBeforeStop(new SiloDrain(sp.GetRequiredService<IGrainFactory>(), settings.Name)));
        var app = webBuilder.Build();
        if (web.HealthPort is { } healthPort)
        {
            app.MapGet("/healthz", (HttpContext context) => Health(context.RequestServices)).RequireHost($"*:{healthPort}");
        }

        if (web.DashboardPort is { } dashboardPort)
        {
            // The dashboard has no authentication (docs/cluster.md): it listens on loopback unless told otherwise.
            app.MapOrleansDashboard(SiloWeb.DashboardPath).RequireHost($"*:{dashboardPort}");
        }

        return app;
    }

    /// <summary>The listening endpoints: health at the advertised address and on loopback, the dashboard where told.</summary>
    internal static IReadOnlyList<IPEndPoint> Endpoints(IPAddress advertise, SiloWeb web)
    {
        var endpoints = new List<IPEndPoint>();
        if (web.HealthPort is { } health)
        {
            endpoints.Add(new IPEndPoint(advertise, health));
            if (!IPAddress.IsLoopback(advertise) && !advertise.Equals(IPAddress.Any))
            {
                endpoints.Add(new IPEndPoint(IPAddress.Loopback, health));
            }
        }

        if (web.DashboardPort is { } dashboard)
        {
            var endpoint = new IPEndPoint(web.DashboardAddress, dashboard);
            if (!endpoints.Contains(endpoint))
            {
                endpoints.Add(endpoint);
            }
        }

        return endpoints;
    }

    private static IResult Health(IServiceProvider services)
    {
        var membership = services.GetRequiredService<IClusterMembershipService>();
        var self = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        bool stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested;
        var state = SiloHealth.Of(membership.CurrentSnapshot.GetSiloStatus(self), stopping);
        return Results.Text(SiloHealth.Describe(state) + "\n", statusCode: state == SiloHealthState.Active ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}

/// <summary>Runs a silo's drain in the host's stopping phase, before any hosted service (the web server) stops.</summary>
internal sealed class DrainBeforeStop(SiloDrain drain) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => drain.StopAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
