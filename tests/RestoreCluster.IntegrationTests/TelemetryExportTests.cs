using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>restorecluster restore -d exports its traces and metrics over OTLP/HTTP (protobuf) and flushes them before it exits.</summary>
public sealed class TelemetryExportTests
{
    [Fact]
    public async Task RestoreSendsTracesAndMetricsToTheOtlpEndpointBeforeExiting()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string target = await server.CreateDatabaseAsync("otlp");
        await using var collector = new OtlpCollector();

        var result = await CliRunner.RunAsync(
            server,
            ["restore", "-j", "3", "--progress", "none", "-d", target, fixtures["rich.custom"].Path],
            new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            },
            timeout: TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Contains("/v1/traces", collector.Paths);
        Assert.Contains("/v1/metrics", collector.Paths);

        // Protobuf carries strings as their UTF-8 bytes: span names and attribute keys show up as they are.
        string traces = collector.Payload("/v1/traces");
        foreach (string expected in new[]
                 {
                     "restore job", "restore unit", "RestoreCluster.Grains", "RestoreCluster.Restore",
                     "restorecluster.job_id", "restorecluster.archive", "restorecluster.jobs", "restorecluster.host_budget",
                     "restorecluster.dump_id", "restorecluster.desc", "restorecluster.tag", "restorecluster.bytes", "restorecluster.rows",
                 })
        {
            Assert.Contains(expected, traces, StringComparison.Ordinal);
        }

        string metrics = collector.Payload("/v1/metrics");
        foreach (string expected in new[]
                 {
                     "restorecluster.units", "restorecluster.copy.bytes", "restorecluster.copy.rows", "restorecluster.unit.duration",
                     "restorecluster.permit.wait_time", "restorecluster.host.in_flight", "restorecluster.host",
                 })
        {
            Assert.Contains(expected, metrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NoStatementTextLeavesInSpansSoAUserMappingsPasswordIsNotExported()
    {
        const string Secret = "Fdw5ecretInSpans";
        var server = await PostgresServer.GetSharedAsync();
        string source = await server.CreateDatabaseAsync("otlp_fdw_src");
        string target = await server.CreateDatabaseAsync("otlp_fdw");
        var directory = Directory.CreateTempSubdirectory("rc-otlp-fdw-");
        string archive = Path.Combine(directory.FullName, "fdw.dump");
        try
        {
            // A wrapper needs no handler to hold servers and user mappings: no extension is needed.
            await server.ExecuteAsync(source, $"""
                CREATE FOREIGN DATA WRAPPER rc_dummy_fdw;
                CREATE SERVER rc_remote FOREIGN DATA WRAPPER rc_dummy_fdw OPTIONS (host 'remote.example');
                CREATE USER MAPPING FOR CURRENT_USER SERVER rc_remote OPTIONS (user 'remote_user', password '{Secret}');
                CREATE TABLE public.plain (id integer PRIMARY KEY);
                INSERT INTO public.plain SELECT generate_series(1, 10);
                """);
            (await server.RunToolAsync("pg_dump", ["-Fc", "-f", archive, "-d", source], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
            await using var collector = new OtlpCollector();

            var result = await CliRunner.RunAsync(
                server,
                ["restore", "-j", "2", "--progress", "none", "-d", target, archive],
                new Dictionary<string, string>
                {
                    ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
                    ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                    ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                },
                timeout: TimeSpan.FromMinutes(2));

            Assert.True(result.ExitCode == 0, result.Describe());
            Assert.Equal(Secret, await server.ScalarAsync<string>(target, "SELECT option_value FROM pg_catalog.pg_options_to_table((SELECT umoptions FROM pg_catalog.pg_user_mapping LIMIT 1)) WHERE option_name = 'password'"));
            string traces = collector.Payload("/v1/traces");
            // Npgsql's spans are exported (named after the database), without the statements they ran.
            Assert.Contains("Npgsql", traces, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, traces, StringComparison.Ordinal);
            Assert.DoesNotContain("CREATE USER MAPPING", traces, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, collector.Payload("/v1/metrics"), StringComparison.Ordinal);
        }
        finally
        {
            await server.DropDatabaseAsync(source);
            await server.DropDatabaseAsync(target);
            directory.Delete(recursive: true);
        }
    }
}
