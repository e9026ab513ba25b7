using System.CommandLine;
using System.Net;
using RestoreCluster.Hosting;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// The silo's HTTP options: <c>--health-port</c> (<c>GET /healthz</c>: 200 while active, 503 while starting or
/// draining) and <c>--dashboard-port</c> / <c>--dashboard-address</c> (the Orleans Dashboard, which has no
/// authentication: loopback unless an address is given).
/// </summary>
internal sealed class SiloWebOptions
{
    private readonly Option<int?> _healthPort = new("--health-port") { HelpName = "P", Description = "serve GET /healthz on this port (200 when active, 503 while starting or draining)" };
    private readonly Option<int?> _dashboardPort = new("--dashboard-port") { HelpName = "P", Description = "serve the Orleans Dashboard at /dashboard/ on this port (no authentication)" };
    private readonly Option<string?> _dashboardAddress = new("--dashboard-address") { HelpName = "ADDR", Description = "the IP address the dashboard listens on (default 127.0.0.1)" };

    public IEnumerable<Option> All => [_healthPort, _dashboardPort, _dashboardAddress];

    public SiloWeb? Resolve(ParseResult p)
    {
        int? health = Port(p.GetValue(_healthPort), "--health-port");
        int? dashboard = Port(p.GetValue(_dashboardPort), "--dashboard-port");
        string? address = p.GetValue(_dashboardAddress);
        var dashboardAddress = IPAddress.Loopback;
        if (address is not null && !IPAddress.TryParse(address, out dashboardAddress))
        {
            throw new CliError($"invalid --dashboard-address \"{address}\" (an IP address)", ExitCodes.Usage);
        }

        if (address is not null && dashboard is null)
        {
            throw new CliError("--dashboard-address needs --dashboard-port", ExitCodes.Usage);
        }

        return health is null && dashboard is null ? null : new SiloWeb(health, dashboard, dashboardAddress!);
    }

    private static int? Port(int? value, string name) =>
        value is null or (> 0 and < 65536) ? value : throw new CliError($"{name} must be a port number (1-65535)", ExitCodes.Usage);

    /// <summary>The silo's line saying where it serves HTTP.</summary>
    public static string Describe(string silo, IPAddress advertise, SiloWeb web)
    {
        var parts = new List<string>();
        if (web.HealthPort is { } health)
        {
            parts.Add($"health at http://{new IPEndPoint(advertise, health)}/healthz");
        }

        if (web.DashboardPort is { } dashboard)
        {
            parts.Add($"the dashboard at http://{new IPEndPoint(web.DashboardAddress, dashboard)}{SiloWeb.DashboardPath}/");
        }

        return $"silo {silo} serves {string.Join(" and ", parts)}";
    }
}
