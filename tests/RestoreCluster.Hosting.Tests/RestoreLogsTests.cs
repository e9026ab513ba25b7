using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using RestoreCluster.Grains;
using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// The two log destinations (docs/telemetry.md, "Logs"): stderr lines in the command line's form, a log file
/// with one timestamped record per line, and the filter of Orleans' two every-run false records.
/// </summary>
public sealed partial class RestoreLogsTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-logs-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void StderrGetsWarningsAndErrorsAsOneLineEachWithTheExceptionButNoStack()
    {
        var lines = new List<string>();
        using (var logs = RestoreLogs.Open(null, lines.Add, stackTraces: false))
        using (var factory = logs.CreateFactory())
        {
            var log = factory.CreateLogger("Orleans.Runtime.Catalog");
            log.LogInformation("activated");
            log.LogDebug("placed");
            log.LogWarning("slow\nactivation");
            log.LogError(Thrown(new TimeoutException("call timed out\nafter 30 s")), "grain call failed");
        }

        Assert.Equal(
        [
            "restorecluster: warning: Orleans.Runtime.Catalog: slow activation",
            "restorecluster: error: Orleans.Runtime.Catalog: grain call failed: TimeoutException: call timed out after 30 s",
        ], lines);
    }

    [Fact]
    public void WithVerboseTheStackFollowsTheErrorLine()
    {
        var lines = new List<string>();
        using (var logs = RestoreLogs.Open(null, lines.Add, stackTraces: true))
        using (var factory = logs.CreateFactory())
        {
            factory.CreateLogger<WorkerGrain>().LogError(Thrown(new InvalidOperationException("boom")), "slot failed");
        }

        Assert.Equal(2, lines.Count);
        Assert.Equal("restorecluster: error: RestoreCluster.Grains.WorkerGrain: slot failed: InvalidOperationException: boom", lines[0]);
        Assert.StartsWith("System.InvalidOperationException: boom", lines[1], StringComparison.Ordinal);
        Assert.Contains("   at ", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void TheUnitExecutorsWarningsAreTheRestoresOwnLinesAndOnlyItsErrorsReachStderr()
    {
        var lines = new List<string>();
        using (var logs = RestoreLogs.Open(null, lines.Add, stackTraces: false))
        using (var factory = logs.CreateFactory())
        {
            var log = factory.CreateLogger(typeof(UnitExecutor).FullName!);
            log.LogWarning("unit 5 (TABLE DATA t) retried: session lost");
            log.LogError("unexpected error in unit 5");
        }

        Assert.Equal(["restorecluster: error: RestoreCluster.Grains.UnitExecutor: unexpected error in unit 5"], lines);
    }

    [Fact]
    public void TheLogFileHasEveryRecordFromInformationOnOnePerLineWithTimeLevelCategoryAndTheIndentedException()
    {
        string path = Path.Combine(_directory.FullName, "restore.log");
        File.WriteAllText(path, "an earlier run\n");
        var stderr = new List<string>();
        using (var logs = RestoreLogs.Open(path, stderr.Add, stackTraces: false))
        using (var factory = logs.CreateFactory())
        {
            var log = factory.CreateLogger<CoordinatorGrain>();
            log.LogDebug(new EventId(102), "lease granted");
            log.LogInformation(new EventId(100), "job started\nwith two lines\n");
            log.LogWarning(new EventId(7), Thrown(new IOException("disk full")), "could not write");
            factory.CreateLogger("Polly").LogInformation("Execution attempt");
        }

        string[] lines = File.ReadAllLines(path);
        Assert.Empty(stderr);
        Assert.Equal("an earlier run", lines[0]);
        Assert.Matches(Record(), lines[1]);
        Assert.EndsWith(" info RestoreCluster.Grains.CoordinatorGrain[100]: job started", lines[1], StringComparison.Ordinal);
        Assert.Equal("    with two lines", lines[2]);
        Assert.Matches(Record(), lines[3]);
        Assert.EndsWith(" warning RestoreCluster.Grains.CoordinatorGrain[7]: could not write", lines[3], StringComparison.Ordinal);
        Assert.Equal("    System.IO.IOException: disk full", lines[4]);
        Assert.All(lines[5..], l => Assert.StartsWith("       at ", l, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("lease granted", StringComparison.Ordinal) || l.Contains("Polly", StringComparison.Ordinal));
    }

    [Fact]
    public void OrleansEveryRunFalseWarningsAreDroppedAndARealStallIsKept()
    {
        var gc = LoggerMessage.Define(LogLevel.Warning, new EventId(100405), "Note: Silo not running with ServerGC turned on");
        var stall = LoggerMessage.Define<TimeSpan>(
            LogLevel.Warning, new EventId(100000 + 1), "Participant check thread has not completed for {TimeSinceLastTick}, potentially indicating lock contention or deadlock, CPU starvation, or another execution anomaly.");
        var lines = new List<string>();
        string path = Path.Combine(_directory.FullName, "noise.log");
        using (var logs = RestoreLogs.Open(null, lines.Add, stackTraces: false))
        using (var factory = logs.CreateFactory())
        using (var fileLogs = RestoreLogs.Open(path, _ => { }, stackTraces: false))
        using (var fileFactory = fileLogs.CreateFactory())
        {
            foreach (var f in new[] { factory, fileFactory })
            {
                gc(f.CreateLogger("Orleans.Runtime.Silo"), null);
                // Longer than this process has lived (the machine's uptime, read from an unset timestamp): false.
                stall(f.CreateLogger("Orleans.Runtime.Watchdog"), TimeSpan.FromDays(3650), null);
                stall(f.CreateLogger("Orleans.Runtime.Watchdog"), TimeSpan.FromMilliseconds(20), null);
            }
        }

        string line = Assert.Single(lines);
        Assert.StartsWith("restorecluster: warning: Orleans.Runtime.Watchdog: Participant check thread has not completed for 00:00:00.0200000", line, StringComparison.Ordinal);
        string record = Assert.Single(File.ReadAllLines(path));
        Assert.Contains("Orleans.Runtime.Watchdog[100001]: Participant check thread has not completed for 00:00:00.0200000", record, StringComparison.Ordinal);
    }

    private static Exception Thrown(Exception e)
    {
        try
        {
            throw e;
        }
        catch (Exception caught)
        {
            return caught;
        }
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warning|error) ")]
    private static partial Regex Record();
}
