using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>The TLS options' usage errors: a key or CA without a certificate, on the silo and on a client; TLS on a restore without --cluster.</summary>
public sealed class ClusterTlsUsageTests
{
    [Theory]
    [InlineData("--tls-key needs --tls-cert (or RESTORECLUSTER_TLS_CERT)", "silo", "--cluster", "db", "--advertise", "127.0.0.1", "--tls-key", "k.pem")]
    [InlineData("--tls-ca needs --tls-cert (or RESTORECLUSTER_TLS_CERT)", "status", "--cluster", "db", "--tls-ca", "ca.pem")]
    [InlineData("--tls-ca needs --tls-cert (or RESTORECLUSTER_TLS_CERT)", "cancel", "--cluster", "db", "--tls-ca", "ca.pem", "job-1")]
    [InlineData("--tls-cert, --tls-key and --tls-ca need --cluster", "restore", "-d", "db", "--tls-cert", "c.pem", "x.dump")]
    public void AKeyOrCaWithoutACertificateIsExitCodeTwo(string reason, params string[] args)
    {
        var stderr = new StringWriter();
        var io = new CliOutput(() => Stream.Null, stderr, () => Stream.Null);

        int exit = Program.Run(args, io);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal($"restorecluster: error: {reason}", stderr.ToString().Split('\n')[0]);
    }
}
