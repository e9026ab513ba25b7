using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A cluster of real <c>restorecluster silo</c> processes on loopback (<c>--advertise 127.0.0.1</c>, free ports, fast
/// failure detection) with its own cluster database on the test server, initialised by <c>cluster init</c>. The
/// silos are killed when it is disposed.
/// </summary>
internal sealed class SiloCluster : IAsyncDisposable
{
    private static readonly TimeSpan JoinLimit = TimeSpan.FromSeconds(60);
    private readonly List<WatchedCli> _silos = [];
    private readonly Dictionary<string, string> _siloEnv;

    private SiloCluster(PostgresServer server, string database, IDictionary<string, string>? siloEnv)
    {
        Server = server;
        Database = database;
        _siloEnv = siloEnv is null ? [] : new Dictionary<string, string>(siloEnv);
        // Npgsql's form of a connection string: the libpq environment (PGPASSWORD, when the server has one) fills the rest.
        Connection = $"Host={server.Host};Port={server.Port};Username={server.UserName};Database={database}";
    }

    public PostgresServer Server { get; }

    /// <summary>The cluster database's name on <see cref="Server"/>.</summary>
    public string Database { get; }

    /// <summary>The <c>--cluster</c> value.</summary>
    public string Connection { get; }

    public IReadOnlyList<WatchedCli> Silos => _silos;

    /// <summary>
    /// Creates the cluster database, runs cluster init, starts <paramref name="silos"/> silos named s0, s1, ... and waits until
    /// each joined. A silo named in <paramref name="hidden"/> runs in a mount namespace of its own where an empty folder is
    /// mounted over the folder given (as a shared filesystem that is not mounted on that machine): it cannot see what is there.
    /// "{silo}" in <paramref name="siloArgs"/> is each silo's name (a log file of its own, say).
    /// With <paramref name="defaultFailureDetection"/> the silos run Orleans' failure detection as production does (no
    /// tuning options); otherwise fast, so that a dead silo is declared dead within seconds.
    /// </summary>
    public static async Task<SiloCluster> StartAsync(
        PostgresServer server, int silos, int slots = 2, IDictionary<string, string>? siloEnv = null, IReadOnlyList<string>? siloArgs = null,
        IReadOnlyDictionary<string, string>? hidden = null, bool defaultFailureDetection = false)
    {
        string database = await server.CreateDatabaseAsync("cluster");
        var cluster = new SiloCluster(server, database, siloEnv) { _hidden = hidden ?? new Dictionary<string, string>(), _defaultFailureDetection = defaultFailureDetection };
        var init = await cluster.RunAsync(["cluster", "init"]);
        Assert.True(init.ExitCode == 0, init.Describe());
        cluster._slots = slots;
        cluster._siloArgs = siloArgs ?? [];
        for (int i = 0; i < silos; i++)
        {
            cluster.StartSilo($"s{i}", slots, cluster._siloArgs);
        }

        foreach (var silo in cluster._silos)
        {
            await WaitJoinedAsync(silo);
        }

        return cluster;
    }

    /// <summary>Starts the silo <paramref name="name"/> again (new ports, same name) after it exited, and waits until it joined.</summary>
    public async Task RestartAsync(string name)
    {
        int index = int.Parse(name[1..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(_silos[index].Process.HasExited, $"silo {name} still runs");
        _silos[index].Dispose();
        StartSilo(name, _slots, _siloArgs, index);
        await WaitJoinedAsync(_silos[index]);
    }

    private int _slots;
    private IReadOnlyList<string> _siloArgs = [];
    private IReadOnlyDictionary<string, string> _hidden = new Dictionary<string, string>();
    private string? _empty;
    private bool _defaultFailureDetection;

    private static readonly string[] FastFailureDetection = ["--probe-timeout", "1", "--missed-probes", "2", "--death-votes", "1", "--table-refresh", "2", "--alive-publish", "5"];

    private static Task WaitJoinedAsync(WatchedCli silo) =>
        silo.WaitUntilAsync(() => silo.StdoutLines.Any(l => l.Contains(" joined the cluster ", StringComparison.Ordinal)), JoinLimit, "the silo to join");

    /// <summary>Runs a client command with <c>--cluster</c> added.</summary>
    public Task<ProcessResult> RunAsync(IReadOnlyList<string> args, IDictionary<string, string>? env = null) =>
        CliRunner.RunAsync(Server, [.. args, "--cluster", Connection], env, timeout: TimeSpan.FromMinutes(4));

    /// <summary>
    /// Submits <paramref name="archive"/> into <paramref name="database"/> with -j 2 and a budget for two silos'
    /// slots at once (so the silo without the coordinator runs units too), over TCP, so that each session's client
    /// port names the silo process that opened it; returns the job id (submit's last line).
    /// </summary>
    public async Task<string> SubmitOverTcpAsync(string database, string archive)
    {
        string dsn = $"host=127.0.0.1 port={Server.Port} dbname={database}";
        var submit = await RunAsync(["submit", "-j", "2", "--host-budget", "4", "-d", dsn, archive]);
        Assert.True(submit.ExitCode == 0, submit.Describe());
        return submit.StdoutText.TrimEnd('\n').Split('\n')[^1];
    }

    /// <summary>status --json, parsed.</summary>
    public async Task<JsonElement> StatusAsync(string? job = null)
    {
        var status = await RunAsync(job is null ? ["status", "--json"] : ["status", "--json", job]);
        Assert.True(status.ExitCode == 0, status.Describe());
        return JsonDocument.Parse(status.StdoutText).RootElement.Clone();
    }

    /// <summary>The silo process named <paramref name="name"/>.</summary>
    public WatchedCli Silo(string name) => _silos[int.Parse(name[1..], System.Globalization.CultureInfo.InvariantCulture)];

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            silo.Dispose();
        }

        if (_empty is not null)
        {
            Directory.Delete(_empty);
        }

        await Server.DropDatabaseAsync(Database);
    }

    private void StartSilo(string name, int slots, IReadOnlyList<string> extra, int? index = null)
    {
        var start = new System.Diagnostics.ProcessStartInfo(RepoPaths.DotnetHost);
        if (_hidden.TryGetValue(name, out string? folder))
        {
            // unshare(1) makes a private mount namespace; the shell mounts the empty folder over the hidden one there and
            // becomes the silo (exec), so the process id stays the silo's.
            _empty ??= Directory.CreateTempSubdirectory("restorecluster-empty-").FullName;
            start = new System.Diagnostics.ProcessStartInfo("unshare");
            foreach (string arg in (string[])["--mount", "--propagation", "private", "--", "sh", "-c", "mount --bind \"$1\" \"$2\" && shift 2 && exec \"$@\"", "sh", _empty, folder, RepoPaths.DotnetHost])
            {
                start.ArgumentList.Add(arg);
            }
        }

        foreach (string arg in (string[])[
                     RepoPaths.CliDll, "silo", "--cluster", Connection, "--name", name, "--slots", slots.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--gateway-port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--advertise", "127.0.0.1",
                     .. _defaultFailureDetection ? [] : FastFailureDetection, .. extra.Select(a => a.Replace("{silo}", name, StringComparison.Ordinal))])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in Server.LibpqEnvironment())
        {
            start.Environment[key] = value;
        }

        foreach (var (key, value) in _siloEnv)
        {
            start.Environment[key] = value;
        }

        if (index is { } i)
        {
            _silos[i] = WatchedCli.Start(start);
        }
        else
        {
            _silos.Add(WatchedCli.Start(start));
        }
    }

    // A port nobody listens on now and that no silo of this test process was given before: the system may hand
    // out a port again once its listener is closed, and two silos given the same port evict each other.
    private static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (Given)
            {
                if (Given.Add(port))
                {
                    return port;
                }
            }
        }
    }

    private static readonly HashSet<int> Given = [];
}
