using Xunit;

namespace RestoreCluster.Cli.Tests;

public sealed class CliOutputTests
{
    [Fact]
    public void ErrorsAndWarningsQuotingArchiveTextWithLineBreaksStayOneLine()
    {
        // An entry tag may hold a newline (the nasty fixture's table "line\nbreak"); messages quote tags.
        var stderr = new StringWriter();
        var io = new CliOutput(() => Stream.Null, stderr, () => Stream.Null);

        io.Fail("corrupt gzip data (dump ID 3476, TABLE DATA line\nbreak, file \"x\")");
        io.Warn("odd\r\nname");

        Assert.Equal(
            "restorecluster: error: corrupt gzip data (dump ID 3476, TABLE DATA line break, file \"x\")\n"
            + "restorecluster: warning: odd name\n",
            stderr.ToString().ReplaceLineEndings("\n"));
    }
}
