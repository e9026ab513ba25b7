using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>Wrong usage is exit code 2 with the reason on one line (cli.md), before anything is read.</summary>
public sealed class UsageTests
{
    [Theory]
    [InlineData("unrecognized option \"-Q\"", "restore", "-Q", "x.dump")]
    [InlineData("unrecognized option \"--bogus\"", "restore", "-f", "-", "--bogus", "x.dump")]
    [InlineData("one of -d/--dbname and -f/--file must be specified", "restore", "x.dump")]
    [InlineData("options -d/--dbname and -f/--file cannot be used together", "restore", "-d", "db", "-f", "-", "x.dump")]
    [InlineData("options -c/--clean and -a/--data-only cannot be used together", "restore", "-a", "-c", "-f", "-", "x.dump")]
    [InlineData("options -s/--schema-only and -a/--data-only cannot be used together", "restore", "-a", "-s", "-f", "-", "x.dump")]
    [InlineData("option --if-exists requires option -c/--clean", "restore", "--if-exists", "-f", "-", "x.dump")]
    [InlineData("cannot specify both --single-transaction and multiple jobs", "restore", "-1", "-j", "2", "-d", "db", "x.dump")]
    [InlineData("options -C/--create and -1/--single-transaction cannot be used together", "restore", "-C", "-1", "-d", "db", "x.dump")]
    [InlineData("invalid number of parallel jobs", "restore", "-j", "0", "-d", "db", "x.dump")]
    [InlineData("unrecognized section name: \"middle\"", "restore", "--section=middle", "-f", "-", "x.dump")]
    [InlineData("invalid restrict key", "restore", "--restrict-key=a-b", "-f", "-", "x.dump")]
    [InlineData("option -d/--dbname must be specified", "forget")]
    [InlineData("option -d/--dbname must be specified", "forget", "--dry-run", "-U", "someone")]
    [InlineData("unrecognized option \"--bogus\"", "forget", "-d", "db", "--bogus")]
    public void WrongUsageIsExitCodeTwoWithTheReason(string reason, params string[] args)
    {
        var stderr = new StringWriter();
        var io = new CliOutput(() => Stream.Null, stderr, () => Stream.Null);

        int exit = Program.Run(args, io);

        Assert.Equal(ExitCodes.Usage, exit);
        string first = stderr.ToString().Split('\n')[0];
        Assert.Equal($"restorecluster: error: {reason}", first);
        Assert.DoesNotContain("   at ", stderr.ToString(), StringComparison.Ordinal);
    }
}
