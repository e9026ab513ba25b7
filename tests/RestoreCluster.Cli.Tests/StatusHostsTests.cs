using System.Text.Json;
using RestoreCluster.Cli.Cluster;
using RestoreCluster.Grains.Abstractions;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// How <c>status</c> shows a host's budget (text and <c>--json</c>): an adaptive one with its setting, the reason of its
/// last change and, while it slows the COPYs, their pace; a fixed one with its numbers only.
/// </summary>
public sealed class StatusHostsTests
{
    private const string Reason = "probe p95 120.5 ms over 50 ms: halved from 2 to 1 (units pause: only the probe runs)";

    private static ClusterSnapshot Snapshot(params HostStatus[] hosts) =>
        new([], hosts.Select(h => (h.Host, (HostStatus?)h)).ToList(), []);

    [Fact]
    public void AnAdaptiveHostShowsItsSettingTheReasonOfItsLastChangeAndTheCopyPace()
    {
        var snapshot = Snapshot(
            new HostStatus("pg:1:5432", Budget: 0, InFlight: 1, Waiting: 2, Adaptive: "auto:3, protect 50 ms", Reason: Reason, CopyPacePercent: 25),
            new HostStatus("pg:2:5432", Budget: 4, InFlight: 3, Waiting: 0));

        string[] lines = StatusCommand.Text(snapshot).Split('\n');

        Assert.Contains($"  pg:1:5432  budget 0  in flight 1  waiting 2  (auto:3, protect 50 ms; last change: {Reason})  COPY pace 25%", lines);
        Assert.Contains("  pg:2:5432  budget 4  in flight 3  waiting 0", lines);

        using var json = JsonDocument.Parse(StatusCommand.Json(snapshot));
        var hosts = json.RootElement.GetProperty("hosts").EnumerateArray().ToList();
        Assert.Equal(2, hosts.Count);
        Assert.Equal("auto:3, protect 50 ms", hosts[0].GetProperty("adaptive").GetString());
        Assert.Equal(Reason, hosts[0].GetProperty("reason").GetString());
        Assert.Equal(25, hosts[0].GetProperty("copyPace").GetInt32());
        Assert.False(hosts[1].TryGetProperty("adaptive", out _));
    }

    [Fact]
    public void AnAdaptiveHostBeforeItsFirstChangeAndAtFullPaceShowsItsSettingOnly()
    {
        var snapshot = Snapshot(new HostStatus("pg:1:5432", Budget: 1, InFlight: 1, Waiting: 0, Adaptive: "auto:2, protect 50 ms"));

        Assert.Contains("  pg:1:5432  budget 1  in flight 1  waiting 0  (auto:2, protect 50 ms)", StatusCommand.Text(snapshot).Split('\n'));
    }
}
