using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Progress counts table data as it streams (archive bytes read), in every mode: --progress json, plain, and
/// the live display on a terminal. A blocked COPY stops the count: it comes from reads, not from the clock.
/// </summary>
[Collection(WorkloadCollection.Name)]
public sealed partial class LiveProgressTests
{
    // One big table whose COPY takes seconds, and one small table it references.
    private static readonly WorkloadSpec Spec = new(Tables: 1, TableMegabytes: 1, BigMegabytes: 64);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private const string BigData = "TABLE DATA public.big";

    [Fact]
    public async Task BytesDoneMovesDuringTheBigCopyAndTheEndEventCarriesTheSummary()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync(Spec);
        // The schema first, then the data paced to last about 3 s (the advisory lock is let go at once).
        await using var paced = await FrozenCopy.PrepareAsync(server, workload, workload.CustomArchive, "progress_stream", paced: true);
        await paced.ReleaseAsync();
        var result = await CliRunner.RunAsync(server, ["restore", "--data-only", "-j", "2", "--progress", "json", "-d", paced.Database, workload.CustomArchive], timeout: TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, result.Describe());
        var events = result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var end = events[^1];
        long total = end.GetProperty("bytesTotal").GetInt64();

        // While the big table's COPY runs, bytesDone takes many values between 5% and 95%.
        var midway = events.Where(e => e.GetProperty("event").GetString() == "progress" && Running(e).Any(u => u.Label == BigData))
            .Select(e => e.GetProperty("bytesDone").GetInt64())
            .Where(b => b > total * 0.05 && b < total * 0.95)
            .Distinct().ToList();
        Assert.True(midway.Count >= 5, $"only {midway.Count} distinct bytesDone values within 5–95% of {total} during the COPY:\n{result.StdoutText}");
        var big = events.SelectMany(Running).Where(u => u.Label == BigData).ToList();
        Assert.Contains(big, u => u.BytesRead > 0 && u.BytesRead < u.DataBytes);
        for (int i = 1; i < events.Count; i++)
        {
            Assert.True(events[i].GetProperty("bytesDone").GetInt64() >= events[i - 1].GetProperty("bytesDone").GetInt64());
        }

        var host = events[0].GetProperty("host");
        Assert.Equal($"{server.Host}:{server.Port}", host.GetProperty("name").GetString());
        Assert.StartsWith("pg:", host.GetProperty("key").GetString(), StringComparison.Ordinal);
        Assert.Contains(events, e => e.GetProperty("phase").GetString() == "data");

        Assert.Equal("succeeded", end.GetProperty("state").GetString());
        Assert.Equal("done", end.GetProperty("phase").GetString());
        Assert.Equal(total, end.GetProperty("bytesDone").GetInt64());
        var summary = end.GetProperty("summary");
        long rows = workload.RowCounts.Values.Sum();
        Assert.Equal(rows, summary.GetProperty("rows").GetInt64());
        Assert.Equal(rows, end.GetProperty("rows").GetInt64());
        Assert.Equal(total, summary.GetProperty("bytes").GetInt64());
        Assert.Equal(end.GetProperty("unitsTotal").GetInt32(), summary.GetProperty("units").GetInt32());
        Assert.Equal(0, summary.GetProperty("errors").GetInt32());
        Assert.Equal(0, summary.GetProperty("retries").GetInt32());
        double wall = summary.GetProperty("wallSeconds").GetDouble();
        var phases = summary.GetProperty("phases");
        double pre = phases.GetProperty("preData").GetDouble(), data = phases.GetProperty("data").GetDouble(), post = phases.GetProperty("postData").GetDouble();
        // A data-only restore has only its (empty) prefork batch as pre-data, and the journal drop as post-data.
        Assert.True(pre >= 0 && data > 1 && post >= 0 && pre + data + post <= wall, $"phases {pre}/{data}/{post} of {wall} s");
        var slowest = summary.GetProperty("slowest").EnumerateArray().ToList();
        Assert.InRange(slowest.Count, 1, 5);
        Assert.True(slowest.Zip(slowest.Skip(1)).All(p => p.First.GetProperty("seconds").GetDouble() >= p.Second.GetProperty("seconds").GetDouble()));
        var bigSlow = Assert.Single(slowest, s => s.GetProperty("unit").GetString() == BigData);
        Assert.Equal(workload.RowCounts[workload.BigTable], bigSlow.GetProperty("rows").GetInt64());
        Assert.True(bigSlow.GetProperty("bytes").GetInt64() > total / 2);
        Assert.True(bigSlow.GetProperty("seconds").GetDouble() > 1);
    }

    [Fact]
    public async Task BytesDoneStopsWhileTheCopyIsBlockedAndReachesTheTotalOnceReleased()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync(Spec);
        await using var frozen = await FrozenCopy.PrepareAsync(server, workload, workload.DirectoryArchive, "progress_frozen");
        using var cli = WatchedCli.Start(server, ["restore", "--data-only", "-j", "2", "--progress", "json", "-d", frozen.Database, workload.DirectoryArchive]);

        long total = 0;
        long Last()
        {
            var last = cli.Events.LastOrDefault(e => e.GetProperty("event").GetString() == "progress");
            if (last.ValueKind != JsonValueKind.Object)
            {
                return 0;
            }

            total = last.GetProperty("bytesTotal").GetInt64();
            return last.GetProperty("bytesDone").GetInt64();
        }

        await cli.WaitUntilAsync(async () => Last() > total * 0.05 && await frozen.CopyIsWaitingAsync(), Patience, "the COPY blocked past 5% of the data");

        // The client may still fill the socket's buffers for a moment after the server blocked: then nothing moves.
        long held = -1;
        var since = Stopwatch.StartNew();
        await cli.WaitUntilAsync(
            () =>
            {
                long now = Last();
                if (now != held)
                {
                    held = now;
                    since.Restart();
                }

                return since.Elapsed >= TimeSpan.FromSeconds(2);
            },
            TimeSpan.FromSeconds(30),
            "bytesDone to stay unchanged for 2 s while the COPY is blocked");
        Assert.False(cli.Process.HasExited, cli.Describe());
        Assert.True(await frozen.CopyIsWaitingAsync());
        Assert.InRange(held, (long)(total * 0.05), (long)(total * 0.95));
        Assert.Equal(held, Last());

        await frozen.ReleaseAsync();
        Assert.True(await cli.WaitForExitAsync(Patience) == 0, cli.Describe());
        var end = cli.Events[^1];
        Assert.Equal("end", end.GetProperty("event").GetString());
        Assert.Equal(end.GetProperty("bytesTotal").GetInt64(), end.GetProperty("bytesDone").GetInt64());
        Assert.True(end.GetProperty("bytesDone").GetInt64() > held);
    }

    [Fact]
    public async Task ARestoreThatMakesNoProgressSaysSoOnceAndNamesWhatRuns()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync(Spec);
        await using var frozen = await FrozenCopy.PrepareAsync(server, workload, workload.DirectoryArchive, "progress_stall");
        using var cli = WatchedCli.Start(server, ["restore", "--data-only", "-j", "2", "--progress", "none", "--stall-warning", "2", "-d", frozen.Database, workload.DirectoryArchive]);

        static bool IsStall(string line) => line.StartsWith("restorecluster: warning: no progress for ", StringComparison.Ordinal);
        await cli.WaitUntilAsync(() => cli.StderrLines.Any(IsStall), Patience, "a warning that the restore makes no progress");
        Assert.True(await frozen.CopyIsWaitingAsync());
        var stall = Assert.Single(cli.StderrLines, IsStall);
        Assert.Contains($"running: {BigData}", stall, StringComparison.Ordinal);

        // Once per stall: a while later there is still just the one.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Single(cli.StderrLines, IsStall);

        await frozen.ReleaseAsync();
        Assert.True(await cli.WaitForExitAsync(Patience) == 0, cli.Describe());
    }

    [Fact]
    public async Task LiveDisplayInATerminalShowsTheRunningTableItsProgressAndTheHostAsGiven()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync(Spec);
        await using var frozen = await FrozenCopy.PrepareAsync(server, workload, workload.CustomArchive, "progress_tmux");
        string host = server.SocketDirectory ?? server.Host;
        string dir = Directory.CreateTempSubdirectory("restorecluster-tmux-").FullName;
        string socket = $"rcprogress{Environment.ProcessId}";
        string script = Path.Combine(dir, "run.sh");
        string exitFile = Path.Combine(dir, "exit");
        await File.WriteAllTextAsync(script, string.Join('\n',
            "unset PGHOST PGPORT PGDATABASE",
            $"'{RepoPaths.DotnetHost}' '{RepoPaths.CliDll}' restore --data-only -j 2 -h '{host}' -p {server.Port} -U '{server.UserName}' -d '{frozen.Database}' '{workload.CustomArchive}'",
            $"echo $? > '{exitFile}.tmp' && mv '{exitFile}.tmp' '{exitFile}'",
            ""));
        try
        {
            var env = server.LibpqEnvironment();
            (await ProcessRunner.RunAsync("tmux", ["-L", socket, "new-session", "-d", "-s", "restore", "-x", "150", "-y", "45", $"sh '{script}'"], env)).EnsureSuccess();
            string screen = "";
            int percent = 0;
            var watch = new Stopwatch();
            watch.Start();
            while (true)
            {
                screen = (await ProcessRunner.RunAsync("tmux", ["-L", socket, "capture-pane", "-p", "-t", "restore"])).StdoutText;
                var m = TableDataPercent().Match(screen);
                percent = m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
                if (percent > 0 && screen.Contains(BigData, StringComparison.Ordinal) && await frozen.CopyIsWaitingAsync())
                {
                    break;
                }

                Assert.False(File.Exists(exitFile), $"the restore ended before the COPY was blocked:\n{screen}");
                Assert.True(watch.Elapsed < Patience, $"no live display of the blocked COPY:\n{screen}");
                await Task.Delay(100);
            }

            Assert.Contains($"{host}:{server.Port}", screen, StringComparison.Ordinal);
            Assert.DoesNotContain("pg:", screen, StringComparison.Ordinal);
            Assert.Matches(@$"{Regex.Escape(BigData)} \d+% ", screen);
            Assert.Contains("phase       data", screen, StringComparison.Ordinal);

            await frozen.ReleaseAsync();
            while (!File.Exists(exitFile))
            {
                Assert.True(watch.Elapsed < Patience * 2, "the restore did not end after the COPY was released");
                await Task.Delay(100);
            }

            Assert.Equal("0", (await File.ReadAllTextAsync(exitFile)).Trim());
        }
        finally
        {
            await ProcessRunner.RunAsync("tmux", ["-L", socket, "kill-server"]);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task PlainLinesShowTheCopyMidwayAndTheSummaryComesAtTheEnd()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync(Spec);
        await using var frozen = await FrozenCopy.PrepareAsync(server, workload, workload.CustomArchive, "progress_plain");
        using var cli = WatchedCli.Start(server, ["restore", "--data-only", "-j", "2", "--progress", "plain", "-d", frozen.Database, workload.CustomArchive]);

        bool Midway() => cli.StderrLines.Any(l =>
            l.StartsWith("restorecluster: progress:", StringComparison.Ordinal) && l.Contains($"running: {BigData}", StringComparison.Ordinal)
            && PlainDataPercent().Match(l) is { Success: true } m && int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) is > 5 and < 95);
        await cli.WaitUntilAsync(async () => Midway() && await frozen.CopyIsWaitingAsync(), Patience, "a plain line showing the blocked COPY midway");

        await frozen.ReleaseAsync();
        Assert.True(await cli.WaitForExitAsync(Patience) == 0, cli.Describe());
        var lines = cli.StderrLines;
        int at = lines.ToList().FindIndex(l => l.StartsWith("restorecluster: summary: succeeded in ", StringComparison.Ordinal));
        Assert.True(at >= 0, cli.Describe());
        string summary = string.Join('\n', lines.Skip(at));
        Assert.Matches(@"phases +pre-data [\d.]+ s, data [\d.]+ s, post-data [\d.]+ s", summary);
        Assert.Contains($"rows        {workload.RowCounts.Values.Sum()}\n", summary, StringComparison.Ordinal);
        Assert.Matches(@$"slowest +[\d.]+ s  {Regex.Escape(BigData)}", summary);
        Assert.Contains("errors      0, retries 0", summary, StringComparison.Ordinal);
    }

    private static IEnumerable<(string Label, long BytesRead, long DataBytes)> Running(JsonElement e) =>
        e.TryGetProperty("running", out var running)
            ? running.EnumerateArray().Select(u => (u.GetProperty("label").GetString()!, u.GetProperty("bytesRead").GetInt64(), u.GetProperty("dataBytes").GetInt64())).ToList()
            : [];

    [GeneratedRegex(@"table data\s+\S*\s*(\d+)%")]
    private static partial Regex TableDataPercent();

    [GeneratedRegex(@", data (\d+)% ")]
    private static partial Regex PlainDataPercent();
}
