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
}
