using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RestoreCluster.Grains;
using RestoreCluster.Restore;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// The spans and metrics of a restore, collected in this process with OpenTelemetry's in-memory exporter.
/// The tests of this class run one after the other, so each one's providers see only its own restore.
/// </summary>
// The grains' meters are process-wide: tests that hold permits must not run while another reads them.
[Collection(InProcessMeters.Name)]
public sealed class InProcessTelemetryTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("restorecluster-hosting-tests-");

    [Fact]
    public void ThisProcessSendsStatementsUnrewritten()
    {
        Assert.True(AppContext.TryGetSwitch("Npgsql.EnableSqlRewriting", out bool enabled));
        Assert.False(enabled);
    }

    [Fact]
    public async Task UnitSpansCarryTheirEntryAndAreChildrenOfTheJobSpan()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await InProcessRestore.MakeArchiveAsync(server, _directory.FullName);
        string target = await server.CreateDatabaseAsync("spans_dst");
        var spans = new List<Activity>();
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(GrainInstruments.Name, RestoreInstruments.Name).AddInMemoryExporter(spans).Build())
        {
            var (exit, stderr) = await InProcessRestore.RunAsync(server, target, archive, jobs: 3);
            Assert.True(exit == 0, stderr);
            tracing.ForceFlush();
        }

        var job = Assert.Single(spans, s => s.OperationName == "restore job" && Equals(s.GetTagItem("restorecluster.archive"), archive));
        Assert.Equal(default, job.ParentSpanId);
        Assert.Equal(3, job.GetTagItem("restorecluster.jobs"));
        Assert.Equal(3, job.GetTagItem("restorecluster.host_budget"));
        Assert.StartsWith("job-", (string?)job.GetTagItem("restorecluster.job_id"), StringComparison.Ordinal);
        Assert.Equal("succeeded", job.GetTagItem("restorecluster.state"));

        var units = spans.Where(s => s.OperationName == "restore unit" && s.TraceId == job.TraceId).ToList();
        Assert.Equal(units.Count, spans.Count(s => s.OperationName == "restore unit"));
        Assert.All(units, u =>
        {
            Assert.Equal(job.SpanId, u.ParentSpanId);
            Assert.IsType<int>(u.GetTagItem("restorecluster.dump_id"));
            Assert.IsType<string>(u.GetTagItem("restorecluster.desc"));
            Assert.IsType<string>(u.GetTagItem("restorecluster.tag"));
            Assert.IsType<long>(u.GetTagItem("restorecluster.bytes"));
            Assert.IsType<long>(u.GetTagItem("restorecluster.rows"));
            Assert.True(u.StartTimeUtc + u.Duration <= job.StartTimeUtc + job.Duration);
        });

        // Serial (pre-data) entries and parallel ones alike get a span.
        Assert.Contains(units, u => Unit(u) == ("TABLE", "items"));
        Assert.Contains(units, u => Unit(u) == ("INDEX", "notes_id"));
        var items = Assert.Single(units, u => Unit(u) == ("TABLE DATA", "items"));
        Assert.Equal((long)InProcessRestore.Rows, items.GetTagItem("restorecluster.rows"));
        Assert.True((long)items.GetTagItem("restorecluster.bytes")! > 0);
        Assert.Equal(units.Count, units.Select(u => u.GetTagItem("restorecluster.dump_id")).Distinct().Count());
    }

    [Fact]
    public async Task MetersCountUnitsRowsAndPermitsPerHost()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await InProcessRestore.MakeArchiveAsync(server, _directory.FullName);
        string target = await server.CreateDatabaseAsync("meters_dst");
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(RestoreInstruments.Name).AddInMemoryExporter(spans).Build())
        using (var meters = Sdk.CreateMeterProviderBuilder().AddMeter(GrainInstruments.Name, RestoreInstruments.Name).AddInMemoryExporter(metrics).Build())
        {
            var (exit, stderr) = await InProcessRestore.RunAsync(server, target, archive, jobs: 2);
            Assert.True(exit == 0, stderr);
            tracing.ForceFlush();
            meters.ForceFlush();
        }

        int unitSpans = spans.Count(s => s.OperationName == "restore unit");
        Assert.Equal(unitSpans, Sum(metrics, "restorecluster.units"));
        Assert.Equal(InProcessRestore.Rows + 200, Sum(metrics, "restorecluster.copy.rows"));
        Assert.True(Sum(metrics, "restorecluster.copy.bytes") > 0);
        Assert.Equal(unitSpans, HistogramCount(metrics, "restorecluster.unit.duration"));
        Assert.True(HistogramCount(metrics, "restorecluster.permit.wait_time") > 0);

        // Every permit went back: the in-flight count of the target host is 0 again, and it names the host.
        var inFlight = Points(metrics, "restorecluster.host.in_flight").ToList();
        Assert.NotEmpty(inFlight);
        Assert.All(inFlight, p => Assert.Equal(0, p.GetSumLong()));
        Assert.All(inFlight, p => Assert.Contains(Tags(p), t => t.Key == GrainInstruments.HostTag && t.Value is string { Length: > 0 }));
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private static (string?, string?) Unit(Activity a) => ((string?)a.GetTagItem("restorecluster.desc"), (string?)a.GetTagItem("restorecluster.tag"));

    private static IEnumerable<MetricPoint> Points(List<Metric> metrics, string name)
    {
        // A provider's last export holds the cumulative values since it started.
        var metric = metrics.Last(m => m.Name == name);
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            yield return point;
        }
    }

    private static long Sum(List<Metric> metrics, string name) => Points(metrics, name).Sum(p => p.GetSumLong());

    private static long HistogramCount(List<Metric> metrics, string name) => Points(metrics, name).Sum(p => p.GetHistogramCount());

    private static List<KeyValuePair<string, object?>> Tags(MetricPoint point)
    {
        var tags = new List<KeyValuePair<string, object?>>();
        foreach (var tag in point.Tags)
        {
            tags.Add(tag);
        }

        return tags;
    }
}
