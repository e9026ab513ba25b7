using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>The silo's HTTP options' usage errors: ports in range, an IP address for the dashboard, and no address without a port.</summary>
public sealed class SiloWebUsageTests
{
    [Theory]
    [InlineData("--health-port must be a port number (1-65535)", "--health-port", "0")]
    [InlineData("--dashboard-port must be a port number (1-65535)", "--dashboard-port", "70000")]
    [InlineData("invalid --dashboard-address \"anywhere\" (an IP address)", "--dashboard-port", "8080", "--dashboard-address", "anywhere")]
    [InlineData("--dashboard-address needs --dashboard-port", "--dashboard-address", "0.0.0.0")]
    public void WrongHttpOptionsAreExitCodeTwoWithTheReason(string reason, params string[] options)
    {
        var stderr = new StringWriter();
        var io = new CliOutput(() => Stream.Null, stderr, () => Stream.Null);

        int exit = Program.Run(["silo", "--cluster", "db", "--advertise", "127.0.0.1", .. options], io);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal($"restorecluster: error: {reason}", stderr.ToString().Split('\n')[0]);
    }
}
