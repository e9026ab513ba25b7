using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// <c>demo --cluster</c> end to end: a local cluster of three silo processes with its database on the demo's own
/// server; one silo is killed while a table loads; the job finishes, its dump equals pg_restore's, the units
/// that ran again are shown, and no silo process or folder is left behind.
/// </summary>
public sealed partial class DemoClusterTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task DemoClusterKillsASiloWhileATableLoadsAndStillEndsIdenticalToPgRestore()
    {
        using var demo = DemoProcess.Start(["--cluster", "--scale", "40", "-j", "2"]);
        await demo.WaitForExitAsync();
        output.WriteLine(demo.Stdout);
        output.WriteLine(demo.Stderr);

        Assert.True(demo.ExitCode == 0, demo.Stderr);
        Assert.Matches(KilledLine(), demo.Stdout);
        var killed = KilledLine().Match(demo.Stdout).Groups[1].Value;
        Assert.Matches($@"the job finished without silo {killed}; units that ran again on the others: \d+", demo.Stdout);
        Assert.Contains("restorecluster, 3 silos", demo.Stdout, StringComparison.Ordinal);
        Assert.Contains("verified: identical", demo.Stdout, StringComparison.Ordinal);
        demo.AssertNothingLeftBehind();
        var pids = PidsLine().Match(demo.Stdout);
        Assert.True(pids.Success, demo.Stdout);
        foreach (string pid in pids.Groups[1].Value.Split(", "))
        {
            Assert.False(IsRunning(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture)), $"silo process {pid} is still running");
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"COPY into \S+ is running: killed silo (demo-\d) \(SIGKILL")]
    private static partial Regex KilledLine();

    [GeneratedRegex(@"3 silos joined in [0-9.]+ s \(pids ([0-9, ]+);")]
    private static partial Regex PidsLine();
}
