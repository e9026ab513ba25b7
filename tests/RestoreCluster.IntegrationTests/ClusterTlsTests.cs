using System.Text.Json;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// The cluster's traffic over mutual TLS: two silo processes form one cluster with certificates of a test CA, a
/// status client with such a certificate sees both; a client without a certificate, or with one of another CA, is
/// refused in one line.
/// </summary>
public sealed class ClusterTlsTests
{
    [Fact]
    public async Task SilosAndAClientWithTheClustersCertificatesTalkOverTlsAndOthersAreRefused()
    {
        var server = await PostgresServer.GetSharedAsync();
        using var ca = new TestCertificates("cluster");
        using var rogue = new TestCertificates("rogue");
        var (siloCert, siloKey) = ca.Issue("silo");
        var (clientCert, clientKey) = ca.Issue("client");
        var (rogueCert, rogueKey) = rogue.Issue("client");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2, siloArgs: ["--tls-cert", siloCert, "--tls-key", siloKey, "--tls-ca", ca.AuthorityFile]);

        // Through the environment, as a machine's clients may share the setting with its silo.
        var status = await cluster.RunAsync(["status", "--json"], new Dictionary<string, string>
        {
            ["RESTORECLUSTER_TLS_CERT"] = clientCert,
            ["RESTORECLUSTER_TLS_KEY"] = clientKey,
            ["RESTORECLUSTER_TLS_CA"] = ca.AuthorityFile,
        });
        var plain = await cluster.RunAsync(["status"]);
        var foreign = await cluster.RunAsync(["status", "--tls-cert", rogueCert, "--tls-key", rogueKey, "--tls-ca", ca.AuthorityFile]);

        Assert.True(status.ExitCode == 0, status.Describe());
        var silos = JsonDocument.Parse(status.StdoutText).RootElement.GetProperty("silos").EnumerateArray().Select(s => s.GetProperty("name").GetString());
        Assert.Equal(["s0", "s1"], silos);
        foreach (var refused in (ProcessResult[])[plain, foreign])
        {
            Assert.True(refused.ExitCode == 1, refused.Describe());
            var line = Assert.Single(refused.Stderr.TrimEnd('\n').Split('\n'));
            Assert.StartsWith("restorecluster: error: no silo of the cluster in ", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AMissingOrBadCertificateFileIsOneLine()
    {
        var server = await PostgresServer.GetSharedAsync();
        using var ca = new TestCertificates("files");
        var (cert, _) = ca.Issue("nokey");

        var missing = await CliRunner.RunAsync(server, ["status", "--cluster", "Host=127.0.0.1;Port=1;Database=x;Username=u", "--tls-cert", Path.Combine(ca.Directory, "absent.pem")]);
        var noKey = await CliRunner.RunAsync(server, ["status", "--cluster", "Host=127.0.0.1;Port=1;Database=x;Username=u", "--tls-cert", cert]);
        var notCa = await CliRunner.RunAsync(server, ["status", "--cluster", "Host=127.0.0.1;Port=1;Database=x;Username=u", "--tls-cert", cert, "--tls-key", cert.Replace(".pem", ".key", StringComparison.Ordinal), "--tls-ca", Path.Combine(ca.Directory, "nokey.key")]);

        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith($"restorecluster: error: could not read the TLS certificate \"{Path.Combine(ca.Directory, "absent.pem")}\": ", missing.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, noKey.ExitCode);
        Assert.StartsWith("restorecluster: error: could not read the TLS certificate", noKey.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, notCa.ExitCode);
        Assert.StartsWith("restorecluster: error: could not read the TLS CA", notCa.Stderr, StringComparison.Ordinal);
        Assert.All((ProcessResult[])[missing, noKey, notCa], r => Assert.Single(r.Stderr.TrimEnd('\n').Split('\n')));
    }
}
