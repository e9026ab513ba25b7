using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A password never leaves the submitter: submit strips it from the target and says so in one line; the silos
/// log in to the target with their own password file (--pgpass); no client output, status, silo output or log file,
/// exported span, metric or log, or cluster table holds it (a minute with two silos and their drains: Slow).
/// </summary>
[Trait("Category", "Slow")]
public sealed class ClusterPasswordTests : IAsyncLifetime
{
    private const string Role = "pw_cluster";
    private const string Secret = "Cluster-Secret-9876";
    private PostgresServer? _server;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        await _server.ExecuteAsync("postgres", $"CREATE ROLE {Role} LOGIN SUPERUSER PASSWORD '{Secret}'");
        await _server.RequirePasswordOverTcpAsync(Role);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task SubmitStripsThePasswordAndTheSilosLogInWithTheirOwnPasswordFileAndNoOutputLogSpanOrClusterTableHoldsIt()
    {
        var server = _server!;
        var fixtures = await FixtureArchives.GetAsync();
        await fixtures.PrepareTargetRolesAsync(server);
        string target = await server.CreateDatabaseAsync("pw_target");
        string home = Directory.CreateTempSubdirectory("restorecluster-silo-").FullName;
        string pgpass = Path.Combine(home, "silo.pgpass");
        await File.WriteAllTextAsync(pgpass, $"127.0.0.1:{server.Port}:*:{Role}:{Secret}\n");
        if (!OperatingSystem.IsWindows())
        {
            // libpq (and Npgsql) ignore a password file others can read.
            File.SetUnixFileMode(pgpass, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // Every process exports its traces, metrics and logs to one collector; each silo also writes a log file.
        await using var collector = new OtlpCollector();
        var telemetry = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        };
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2, siloEnv: telemetry, siloArgs: ["--pgpass", pgpass, "--log-file", Path.Combine(home, "{silo}.log")]);
        string dsn = $"host=127.0.0.1 port={server.Port} user={Role} dbname={target} password={Secret}";

        var submit = await cluster.RunAsync(["submit", "-j", "2", "-d", dsn, fixtures["rich.custom"].Path], telemetry);
        string job = submit.StdoutText.TrimEnd('\n').Split('\n')[^1];
        var wait = await cluster.RunAsync(["wait", job], telemetry);
        var status = await cluster.RunAsync(["status", job], telemetry);
        var statusJson = await cluster.RunAsync(["status", "--json"], telemetry);
        var clusterTables = await server.RunToolAsync("pg_dump", ["--data-only", "-d", cluster.Database]);
        foreach (var silo in cluster.Silos)
        {
            // SIGTERM: the silos drain, flush their telemetry and log files, and leave.
            (await ProcessRunner.RunAsync("kill", ["-TERM", silo.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])).EnsureSuccess();
        }

        foreach (var silo in cluster.Silos)
        {
            Assert.Equal(0, await silo.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        Assert.True(submit.ExitCode == 0, submit.Describe());
        Assert.Equal(
            "restorecluster: warning: the target's password is not sent to the cluster: its silos connect with their own .pgpass, PGPASSFILE or --pgpass\n",
            submit.Stderr);
        Assert.True(wait.ExitCode == 0, wait.Describe());
        string reference = await server.CreateDatabaseAsync("pw_reference");
        var pgRestore = await server.RunToolAsync("pg_restore", ["-d", reference, fixtures["rich.custom"].Path]);
        Assert.True(wait.ExitCode == pgRestore.ExitCode, wait.Describe());
        Assert.Equal(await RestoreComparison.DumpAsync(server, reference), await RestoreComparison.DumpAsync(server, target));
        clusterTables.EnsureSuccess();
        // Every table of the cluster database, the grains' binary storage too (pg_dump writes bytea in hex).
        Assert.Contains("COPY public.orleansmembershiptable", clusterTables.StdoutText, StringComparison.Ordinal);
        Assert.Contains("COPY public.orleansstorage", clusterTables.StdoutText, StringComparison.Ordinal);
        Assert.Contains(job, clusterTables.StdoutText, StringComparison.Ordinal);
        string logs = string.Concat(await Task.WhenAll(cluster.Silos.Select((_, i) => File.ReadAllTextAsync(Path.Combine(home, $"s{i}.log")))));
        Assert.Contains(job, logs, StringComparison.Ordinal);
        string traces = collector.Payload("/v1/traces");
        Assert.Contains("restore unit", traces, StringComparison.Ordinal);
        string hex = Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(Secret)).ToLowerInvariant();
        foreach (var (what, text) in new[]
                 {
                     ("submit", submit.StdoutText + submit.Stderr), ("wait", wait.StdoutText + wait.Stderr),
                     ("status", status.StdoutText + status.Stderr), ("status --json", statusJson.StdoutText + statusJson.Stderr),
                     ("the cluster tables", clusterTables.StdoutText), ("the silos' log files", logs),
                     ("the exported spans", traces), ("the exported metrics", collector.Payload("/v1/metrics")), ("the exported logs", collector.Payload("/v1/logs")),
                     ("the silos' output", string.Join('\n', cluster.Silos.SelectMany(s => s.StdoutLines.Concat(s.StderrLines)))),
                 })
        {
            Assert.False(text.Contains(Secret, StringComparison.Ordinal), $"{what} holds the password:\n{text}");
            Assert.False(text.Contains(hex, StringComparison.OrdinalIgnoreCase), $"{what} holds the password in hex:\n{text}");
        }
    }
}
