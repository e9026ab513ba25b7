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
    [InlineData("invalid size \"12XB\" for --split-larger-than: give bytes or a number with kB, MB, GB or TB", "restore", "--split-larger-than", "12XB", "-d", "db", "x.dump")]
    [InlineData("invalid size \"-1\" for --split-larger-than: give bytes or a number with kB, MB, GB or TB", "restore", "--split-larger-than=-1", "-d", "db", "x.dump")]
    [InlineData("options -f/--file and --analyze cannot be used together", "restore", "--analyze", "-f", "-", "x.dump")]
    [InlineData("options -l/--list and --analyze cannot be used together", "restore", "--analyze", "-l", "x.dump")]
    [InlineData("options -f/--file and --host-memory cannot be used together", "restore", "--host-memory", "1GB", "-f", "-", "x.dump")]
    [InlineData("--host-memory sizes the units of a restore through the grains: not with -1, --transaction-size without -j, or from standard input", "restore", "-1", "--host-memory", "1GB", "-d", "db", "x.dump")]
    [InlineData("--host-memory sizes the units of a restore through the grains: not with -1, --transaction-size without -j, or from standard input", "restore", "--transaction-size", "10", "--host-memory", "1GB", "-d", "db", "x.dump")]
    [InlineData("invalid size \"lots\" for --host-memory: give bytes or a number with kB, MB, GB or TB", "restore", "--host-memory", "lots", "-d", "db", "x.dump")]
    [InlineData("option -d/--dbname must be specified", "forget")]
    [InlineData("option -d/--dbname must be specified", "forget", "--dry-run", "-U", "someone")]
    [InlineData("unrecognized option \"--bogus\"", "forget", "-d", "db", "--bogus")]
    [InlineData("invalid --jobs list \"1,x\": \"x\" is not a number of jobs from 1 to 1024", "tune", "--jobs", "1,x", "-d", "db", "x.dump")]
    [InlineData("invalid --jobs list \"0\": \"0\" is not a number of jobs from 1 to 1024", "tune", "--jobs", "0", "-d", "db", "x.dump")]
    [InlineData("invalid --jobs list \"2,4,2\": 2 is given twice", "tune", "--jobs", "2,4,2", "-d", "db", "x.dump")]
    [InlineData("invalid size \"12XB\" for --sample: give bytes or a number with kB, MB, GB or TB", "tune", "--sample", "12XB", "-d", "db", "x.dump")]
    [InlineData("invalid size \"0MB\" for --sample: give bytes or a number with kB, MB, GB or TB", "tune", "--sample", "0MB", "-d", "db", "x.dump")]
    [InlineData("option -d/--dbname must be specified", "tune", "x.dump")]
    [InlineData("tune needs an archive file or directory (it restores it several times)", "tune", "-d", "db")]
    [InlineData("unrecognized option \"--bogus\"", "tune", "-d", "db", "--bogus")]
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
