using System.Text.Json;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>One server reached through its socket and through TCP is one host with one budget.</summary>
public sealed class HostIdentityTests
{
    [Fact]
    public async Task SocketAndTcpNamesOfOneServerShareTheBudgetKey()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        Assert.NotNull(server.SocketDirectory);
        string viaSocket = await server.CreateDatabaseAsync("hostkey_sock");
        string viaTcp = await server.CreateDatabaseAsync("hostkey_tcp");
        string archive = fixtures["latin1.custom"].Path;

        var socket = await CliRunner.RunAsync(["restore", "--progress", "json", "-d", $"host={server.SocketDirectory} port={server.Port} user={server.UserName} dbname={viaSocket}", archive]);
        var tcp = await CliRunner.RunAsync(["restore", "--progress", "json", "-d", $"postgresql://{server.UserName}@127.0.0.1:{server.Port}/{viaTcp}", archive]);

        string socketKey = HostKeyOf(socket);
        string tcpKey = HostKeyOf(tcp);
        Assert.StartsWith("pg:", socketKey, StringComparison.Ordinal);
        Assert.Equal(socketKey, tcpKey);
        Assert.EndsWith($":{server.Port}", socketKey, StringComparison.Ordinal);
    }

    private static string HostKeyOf(ProcessResult result)
    {
        Assert.True(result.ExitCode == 0, result.Describe());
        foreach (string line in result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.TryGetProperty("host", out var host))
            {
                return host.GetProperty("key").GetString()!;
            }
        }

        Assert.Fail("no progress event named the host:\n" + result.StdoutText);
        return "";
    }
}
