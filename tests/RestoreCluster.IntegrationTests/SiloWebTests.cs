using System.Net;
using System.Net.Sockets;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A silo process's HTTP side: <c>/healthz</c> answers 200 while the silo is active and 503 once SIGTERM makes it
/// drain; the Orleans Dashboard answers at <c>/dashboard/</c> on its own port, which does not serve the health path.
/// </summary>
public sealed class SiloWebTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task SiloServesHealthAndTheDashboardThenSaysDrainingAfterSigterm()
    {
        var server = await PostgresServer.GetSharedAsync();
        int healthPort = FreePort();
        int dashboardPort = FreePort();
        await using var cluster = await SiloCluster.StartAsync(server, silos: 1, siloArgs:
        [
            "--health-port", healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--dashboard-port", dashboardPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]);
        var silo = cluster.Silo("s0");
        // The silo writes this line just after the one its start waits for: it may not have been read yet (a CI run saw
        // only the first).
        bool Described(string l) => l.Contains($"health at http://127.0.0.1:{healthPort}/healthz", StringComparison.Ordinal)
                                    && l.Contains($"the dashboard at http://127.0.0.1:{dashboardPort}/dashboard/", StringComparison.Ordinal);
        await silo.WaitUntilAsync(() => silo.StdoutLines.Any(Described), TimeSpan.FromSeconds(30), "the silo to say where its health and dashboard are");
        Assert.Contains(silo.StdoutLines, Described);

        using var health = await Http.GetAsync(new Uri($"http://127.0.0.1:{healthPort}/healthz"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("active", (await health.Content.ReadAsStringAsync()).Trim());

        using var dashboard = await Http.GetAsync(new Uri($"http://127.0.0.1:{dashboardPort}/dashboard/"));
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("<html", await dashboard.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        using var crossed = await Http.GetAsync(new Uri($"http://127.0.0.1:{dashboardPort}/healthz"));
        Assert.Equal(HttpStatusCode.NotFound, crossed.StatusCode);

        (await ProcessRunner.RunAsync("kill", ["-TERM", silo.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])).EnsureSuccess();
        var answers = new List<string>();
        await silo.WaitUntilAsync(async () =>
        {
            try
            {
                using var r = await Http.GetAsync(new Uri($"http://127.0.0.1:{healthPort}/healthz"));
                answers.Add($"{(int)r.StatusCode} {(await r.Content.ReadAsStringAsync()).Trim()}");
                return false;
            }
            catch (HttpRequestException)
            {
                answers.Add("refused");
                return silo.Process.HasExited;
            }
        }, TimeSpan.FromSeconds(60), "the silo to exit");

        // With nothing running the drain takes no time, so a poll may or may not see its 503 (SiloDrainHealthTests,
        // Slow, holds a COPY to see it for sure); what it sees is in order: active, then draining, then nothing.
        string seen = string.Join(", ", answers);
        Assert.Matches("^(200 active, )*(503 draining, )*(refused(, )?)+$", seen);
        Assert.Equal(0, await silo.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
