using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using RestoreCluster.Hosting;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// <c>restorecluster silo --cluster CONNSTR ...</c>: one cluster member, hosting coordinators, its own worker (pinned
/// here, <c>--slots</c> units at a time per job) and budget grains, until SIGINT/SIGTERM: then it drains (no new
/// leases, the running units finish) and leaves the membership. Targets are reached with this silo's own
/// credentials (<c>--pgpass</c>, <c>PGPASSFILE</c>, <c>~/.pgpass</c>): jobs carry no passwords.
/// </summary>
internal sealed class SiloCommand
{
    private readonly Option<string?> _cluster = ClusterOption.Create();
    private readonly Option<string?> _name = new("--name") { HelpName = "NAME", Description = "this silo's name, unique in the cluster (default: the host name)" };
    private readonly Option<int> _slots = new("--slots") { HelpName = "N", Description = "most units this silo runs at once for one job", DefaultValueFactory = _ => Environment.ProcessorCount };
    private readonly Option<int> _port = new("--port") { HelpName = "P", Description = "silo-to-silo port", DefaultValueFactory = _ => 11111 };
    private readonly Option<int> _gatewayPort = new("--gateway-port") { HelpName = "G", Description = "port clients connect to", DefaultValueFactory = _ => 30000 };
    private readonly Option<string?> _advertise = new("--advertise") { HelpName = "ADDR", Description = "the IP address other silos and clients reach this silo at (default: the host's first IPv4 address)" };
    private readonly Option<string?> _pgpass = new("--pgpass") { HelpName = "FILE", Description = "the password file this silo uses for targets (default: PGPASSFILE, then ~/.pgpass)" };
    private readonly Option<string?> _logFile = new("--log-file") { HelpName = "FILE", Description = "append log records (information and above) to this file instead of warnings on stderr" };
    private readonly Option<double?> _probeTimeout = new("--probe-timeout") { HelpName = "SECONDS", Description = "failure detection: how long a probe of another silo may take (Orleans' default 5)" };
    private readonly Option<int?> _missedProbes = new("--missed-probes") { HelpName = "N", Description = "failure detection: missed probes before a silo is suspected (default 3)" };
    private readonly Option<int?> _deathVotes = new("--death-votes") { HelpName = "N", Description = "failure detection: votes that declare a silo dead (default 2)" };
    private readonly Option<double?> _tableRefresh = new("--table-refresh") { HelpName = "SECONDS", Description = "failure detection: how often the membership table is read (default 60)" };
    private readonly SiloWebOptions _web = new();
    private readonly Option<double?> _alivePublish = new("--alive-publish") { HelpName = "SECONDS", Description = "failure detection: how often this silo writes its heartbeat (default 30)" };

    public SiloCommand()
    {
        Command = new Command("silo", "run one cluster member until stopped (SIGINT/SIGTERM: drains, then leaves)")
        {
            _cluster, _name, _slots, _port, _gatewayPort, _advertise, _pgpass, _logFile,
            _probeTimeout, _missedProbes, _deathVotes, _tableRefresh, _alivePublish,
        };
        foreach (var option in _web.All)
        {
            Command.Options.Add(option);
        }
    }

    public Command Command { get; }

    public int Run(ParseResult p, CliOutput io)
    {
        var database = ClusterOption.Resolve(p, _cluster);
        string name = p.GetValue(_name) ?? Environment.MachineName;
        int slots = p.GetValue(_slots);
        if (slots < 1)
        {
            throw new CliError("--slots must be at least 1", ExitCodes.Usage);
        }

        var advertise = Advertise(p.GetValue(_advertise));
        if (p.GetValue(_pgpass) is { } pgpass)
        {
            if (!File.Exists(pgpass))
            {
                throw new CliError($"password file \"{pgpass}\" (--pgpass) does not exist");
            }

            // The silo's sessions read it as libpq tools read PGPASSFILE (ConnectionTarget.ToNpgsql).
            Environment.SetEnvironmentVariable("PGPASSFILE", Path.GetFullPath(pgpass));
        }

        var settings = new SiloSettings(database, name, slots, p.GetValue(_port), p.GetValue(_gatewayPort), advertise, FailureDetection(p), _web.Resolve(p), ClusterTlsOptions.Resolve(p));
        RunAsync(settings, p.GetValue(_logFile), io).GetAwaiter().GetResult();
        return ExitCodes.Success;
    }

    private static async Task RunAsync(SiloSettings settings, string? logFile, CliOutput io)
    {
        try
        {
            await ClusterSchema.RequireAsync(settings.Database);
        }
        catch (InvalidOperationException e)
        {
            throw new CliError(e.Message);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            throw new CliError($"could not connect to the cluster database {settings.Database}: {e.Message.Split('\n')[0].Trim()}");
        }

        RestoreLogs logs;
        try
        {
            var stderr = io.Error;
            logs = RestoreLogs.Open(logFile, line => { lock (stderr) { stderr.WriteLine(line); } }, stackTraces: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"could not open log file \"{logFile}\": {ex.Message}");
        }

        using (logs)
        {
            using var host = ClusterHost.BuildSilo(settings, TelemetryOptions.FromEnvironment(console: false), logs.AddTo);
            try
            {
                await host.StartAsync();
            }
            catch (Exception e) when (e is OrleansException or SocketException or IOException)
            {
                throw new CliError($"silo {settings.Name} could not join the cluster in {settings.Database}: {e.Message.Split('\n')[0].Trim()}");
            }

            using var stdout = new StreamWriter(io.OpenStdout(), new System.Text.UTF8Encoding(false)) { AutoFlush = true };
            await stdout.WriteLineAsync($"silo {settings.Name} joined the cluster in {settings.Database} (silo {settings.Advertise}:{settings.Port}, gateway {settings.Advertise}:{settings.GatewayPort}, {settings.Slots} slots)");
            if (settings.Web is { } web)
            {
                await stdout.WriteLineAsync(SiloWebOptions.Describe(settings.Name, settings.Advertise, web));
            }

            await host.WaitForShutdownAsync();
            await stdout.WriteLineAsync($"silo {settings.Name} left the cluster");
        }
    }

    private FailureDetection? FailureDetection(ParseResult p)
    {
        double? probe = p.GetValue(_probeTimeout);
        int? missed = p.GetValue(_missedProbes);
        int? votes = p.GetValue(_deathVotes);
        double? refresh = p.GetValue(_tableRefresh);
        double? alive = p.GetValue(_alivePublish);
        if (probe is null && missed is null && votes is null && refresh is null && alive is null)
        {
            return null;
        }

        // What is not given keeps Orleans' default (ClusterMembershipOptions).
        return new FailureDetection(
            TimeSpan.FromSeconds(Positive(probe ?? 5, "--probe-timeout")), (int)Positive(missed ?? 3, "--missed-probes"), (int)Positive(votes ?? 2, "--death-votes"),
            TimeSpan.FromSeconds(Positive(refresh ?? 60, "--table-refresh")), TimeSpan.FromSeconds(Positive(alive ?? 30, "--alive-publish")));
    }

    private static double Positive(double value, string name) =>
        value > 0 ? value : throw new CliError($"{name} must be positive", ExitCodes.Usage);

    private static IPAddress Advertise(string? value)
    {
        if (value is not null)
        {
            return IPAddress.TryParse(value, out var address)
                ? address
                : throw new CliError($"invalid --advertise address \"{value}\" (an IP address)", ExitCodes.Usage);
        }

        return Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? throw new CliError("no IPv4 address of this host to advertise: give --advertise ADDR");
    }
}
