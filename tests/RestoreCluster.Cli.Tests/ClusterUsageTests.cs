using RestoreCluster.Cli.Cluster;
using RestoreCluster.Restore;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>The cluster commands' usage errors, and what of a target travels to the cluster.</summary>
public sealed class ClusterUsageTests
{
    [Theory]
    [InlineData("no cluster database: give --cluster CONNSTR or set RESTORECLUSTER_CLUSTER", "status", "--cluster", "")]
    [InlineData("invalid --cluster: unsupported keyword \"pooling\" in cluster connection string (host, port, database, username, password, passfile, sslmode)", "status", "--cluster", "Host=h;Pooling=false")]
    [InlineData("submit needs -d/--dbname (a job restores into a database)", "submit", "--cluster", "db", "x.dump")]
    [InlineData("submit needs -d/--dbname (a job restores into a database)", "submit", "--cluster", "db", "-f", "-", "x.dump")]
    [InlineData("--slots must be at least 1", "silo", "--cluster", "db", "--slots", "0")]
    [InlineData("budget must be in range 1..2147483647", "budget", "--cluster", "db", "set", "h:5432", "0")]
    [InlineData("invalid value \"x\" for option budget", "budget", "set", "h:5432", "x", "--cluster", "db")]
    [InlineData("--dry-run needs --manifest", "submit", "--cluster", "db", "--dry-run", "-d", "t", "x.dump")]
    [InlineData("--manifest takes each restore's options from the manifest: not with --jobs", "submit", "--cluster", "db", "--manifest", "m.yaml", "-j", "2")]
    [InlineData("--manifest takes the archives from the manifest: not with \"x.dump\"", "submit", "--cluster", "db", "--manifest", "m.yaml", "x.dump")]
    [InlineData("invalid --advertise address \"here\" (an IP address)", "silo", "--cluster", "db", "--advertise", "here")]
    [InlineData("--probe-timeout must be positive", "silo", "--cluster", "db", "--advertise", "127.0.0.1", "--probe-timeout", "0")]
    public void WrongUsageIsExitCodeTwoWithTheReason(string reason, params string[] args)
    {
        var stderr = new StringWriter();
        var io = new CliOutput(() => Stream.Null, stderr, () => Stream.Null);

        int exit = Program.Run(args, io);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal($"restorecluster: error: {reason}", stderr.ToString().Split('\n')[0]);
    }

    [Fact]
    public void AJobsTargetHasNoPasswordNorPasswordFile()
    {
        var target = ConnectionTarget.Resolve(
            "host=h dbname=d user=u password=hunter2 passfile=/home/u/.pgpass sslmode=require", null, null, null, new Dictionary<string, string?>());

        var shared = ClusterRestore.Shareable(target);

        Assert.Equal(["dbname", "host", "sslmode", "user"], shared.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("hunter2", string.Join(' ', shared.Values), StringComparison.Ordinal);
    }
}
