using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A target that cannot be reached is one clear error line and exit code 1, after one warning per retried
/// connect (a refused port may be a server restarting), and never shows the password; a target that is
/// wrong (a missing database) fails at once.
/// </summary>
public sealed class ConnectionFailureTests
{
    [Theory]
    [InlineData("host=127.0.0.1 port=1 dbname=x user=postgres password=Sup3rSecretPw", "")]
    [InlineData("postgresql://postgres:Sup3rSecretPw@127.0.0.1:1/x", "")]
    [InlineData("host=127.0.0.1 port=1 dbname=x user=postgres password=Sup3rSecretPw", "-1")]
    [InlineData("postgresql://postgres:Sup3rSecretPw@127.0.0.1:1/x", "-j4")]
    public async Task UnreachableTargetIsOneLineWithoutThePassword(string target, string option)
    {
        var fixtures = await FixtureArchives.GetAsync();
        string[] args = option.Length == 0
            ? ["restore", "-d", target, fixtures["rich.custom"].Path]
            : ["restore", option, "-d", target, fixtures["rich.custom"].Path];

        var result = await CliRunner.RunAsync(args, timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(1, result.ExitCode);
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        const string Failed = "connection to server at 127.0.0.1:1/x as postgres failed: ";
        Assert.True(lines.Length == 6, result.Stderr);
        for (int i = 0; i < 5; i++)
        {
            Assert.StartsWith("restorecluster: warning: " + Failed, lines[i], StringComparison.Ordinal);
            Assert.EndsWith($" (attempt {i + 2} of 6)", lines[i], StringComparison.Ordinal);
        }

        Assert.StartsWith("restorecluster: error: " + Failed, lines[5], StringComparison.Ordinal);
        Assert.EndsWith("; gave up after 6 attempts", lines[5], StringComparison.Ordinal);
        Assert.DoesNotContain("Sup3rSecretPw", result.Stderr + result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingDatabaseIsOneLine()
    {
        var fixtures = await FixtureArchives.GetAsync();

        var result = await CliRunner.RunAsync(fixtures.Server, ["restore", "-d", "no_such_database_here", fixtures["rich.custom"].Path]);

        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("no_such_database_here", result.Stderr, StringComparison.Ordinal);
    }

    // A restore through the grains starts its silo while it reads the archive and reaches the target (EarlySilo): a
    // target that turns out to be wrong still ends in one line, and the silo it started is stopped once started.
    [Fact]
    public async Task AWrongTargetStopsTheSiloStartedWhileTheArchiveWasRead()
    {
        var fixtures = await FixtureArchives.GetAsync();
        string log = Path.Combine(Path.GetTempPath(), $"rc-early-silo-{Guid.NewGuid():N}.log");
        try
        {
            var result = await CliRunner.RunAsync(fixtures.Server, ["restore", "-j", "2", "--log-file", log, "-d", "no_such_database_early", fixtures["rich.custom"].Path]);

            Assert.Equal(1, result.ExitCode);
            Assert.StartsWith("restorecluster: error: connection to server at ", Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
            string records = await File.ReadAllTextAsync(log);
            int started = records.IndexOf("Orleans Silo started.", StringComparison.Ordinal);
            int stopped = records.IndexOf("Orleans Silo stopped.", StringComparison.Ordinal);
            Assert.True(started >= 0 && stopped > started, records);
            Assert.DoesNotContain("no_such_database_early", records[..stopped], StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(log);
        }
    }
}
