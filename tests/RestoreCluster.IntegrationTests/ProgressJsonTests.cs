using System.Text;
using System.Text.Json;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>restore --progress json: one JSON object per line on stdout, as docs/progress-json.md describes.</summary>
public sealed class ProgressJsonTests
{
    [Theory]
    [InlineData("rich.custom", "1")]
    [InlineData("rich.directory", "4")]
    public async Task ProgressStreamParsesLineByLineAndEndsWithEverythingDone(string archive, string jobs)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string target = await server.CreateDatabaseAsync("progress");

        var result = await CliRunner.RunAsync(server, ["restore", "-j", jobs, "--progress", "json", "-d", target, fixtures[archive].Path], timeout: TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.Describe());
        string stdout = Encoding.UTF8.GetString(result.Stdout);
        Assert.EndsWith("\n", stdout, StringComparison.Ordinal);
        var events = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.NotEmpty(events);

        var end = events[^1];
        Assert.Equal("end", end.GetProperty("event").GetString());
        Assert.All(events[..^1], e => Assert.Equal("progress", e.GetProperty("event").GetString()));
        Assert.Single(events.Select(e => e.GetProperty("job").GetString()).Distinct());

        // In order: the elapsed time and the counts done never go back; the totals never change.
        for (int i = 1; i < events.Count; i++)
        {
            Assert.True(events[i].GetProperty("elapsedSeconds").GetDouble() >= events[i - 1].GetProperty("elapsedSeconds").GetDouble());
            Assert.True(events[i].GetProperty("unitsDone").GetInt32() >= events[i - 1].GetProperty("unitsDone").GetInt32());
            Assert.True(events[i].GetProperty("bytesDone").GetInt64() >= events[i - 1].GetProperty("bytesDone").GetInt64());
            Assert.Equal(events[0].GetProperty("unitsTotal").GetInt32(), events[i].GetProperty("unitsTotal").GetInt32());
            Assert.Equal(events[0].GetProperty("bytesTotal").GetInt64(), events[i].GetProperty("bytesTotal").GetInt64());
        }

        foreach (var e in events[..^1])
        {
            var host = e.GetProperty("host");
            Assert.True(host.GetProperty("inFlight").GetInt32() <= host.GetProperty("budget").GetInt32());
        }

        Assert.Equal("succeeded", end.GetProperty("state").GetString());
        Assert.Equal(end.GetProperty("unitsTotal").GetInt32(), end.GetProperty("unitsDone").GetInt32());
        Assert.Equal(end.GetProperty("bytesTotal").GetInt64(), end.GetProperty("bytesDone").GetInt64());
        Assert.True(end.GetProperty("bytesTotal").GetInt64() > 0);
        Assert.Equal(0, end.GetProperty("errors").GetInt32());
        Assert.False(end.TryGetProperty("host", out _));
    }
}
