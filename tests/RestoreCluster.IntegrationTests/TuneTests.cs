using System.Buffers.Binary;
using System.Text.Json;
using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// <c>restorecluster tune ARCHIVE -d TARGET</c> on a real server: on a bigtable dataset (pgbench's tables with two
/// more indexes and a foreign key) and a many-tables dataset it prints one row per <c>-j</c>, writes the PNG plot,
/// recommends one of the <c>-j</c> it tried, and leaves no scratch database behind; <c>--json</c> is one object
/// with a run per <c>-j</c> in the order given; <c>--sample</c> loads a prefix of each table and counts the foreign
/// keys it breaks apart. One class: its tests run one after another, so no other tune's scratch database is about.
/// </summary>
public sealed partial class TuneTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-tune-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task OnABigTableDatasetTunePrintsARowPerJobsWritesThePlotRecommendsAJobCountAndDropsItsDatabases()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await DumpAsync(server, "tune_big", async db =>
        {
            (await server.RunToolAsync("pgbench", ["-i", "-s", "1", "-q", db], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
            await server.ExecuteAsync(db, """
                CREATE INDEX ON pgbench_accounts (bid);
                CREATE INDEX ON pgbench_accounts (abalance);
                ALTER TABLE pgbench_accounts ADD FOREIGN KEY (bid) REFERENCES pgbench_branches;
                """);
        });
        string plot = Path.Combine(_directory.FullName, "big.png");

        var run = await CliRunner.RunAsync(server, ["tune", archive, "-d", "postgres", "--jobs", "1,2", "--plot", plot], timeout: TimeSpan.FromMinutes(4));
        output.WriteLine(run.Describe());

        Assert.True(run.ExitCode == 0, run.Describe());
        string[] lines = run.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith($"tune of {archive} on ", lines[0], StringComparison.Ordinal);
        int head = Array.FindIndex(lines, l => l.StartsWith("-j  wall s", StringComparison.Ordinal));
        Assert.True(head > 0, run.StdoutText);
        Assert.Matches(@"^ *1 +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +0 ", lines[head + 1]);
        Assert.Matches(@"^ *2 +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +0 ", lines[head + 2]);
        var recommended = Regex.Match(run.StdoutText, @"^recommended: -j (\d) --host-budget (\d)$", RegexOptions.Multiline);
        Assert.True(recommended.Success, run.StdoutText);
        Assert.Contains(recommended.Groups[1].Value, (string[])["1", "2"]);
        Assert.Equal(recommended.Groups[1].Value, recommended.Groups[2].Value);
        Assert.Matches(@"(?m)^reason: .*(fastest|within 5%)", run.StdoutText);
        Assert.Contains($"plot: {plot}", lines);
        AssertPng(plot);
        await AssertNoScratchDatabaseAsync(server);
    }

    [Fact]
    public async Task OnAManyTablesDatasetJsonIsOneObjectWithARunPerJobsInTheOrderGiven()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await DumpAsync(server, "tune_many", db => server.ExecuteAsync(db, """
            DO $$
            BEGIN
              FOR i IN 1..60 LOOP
                EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', i);
                EXECUTE format('INSERT INTO t%s SELECT g, md5(g::text) FROM generate_series(1, 200) g', i);
                EXECUTE format('CREATE INDEX ON t%s (v)', i);
              END LOOP;
            END $$;
            """));
        string plot = Path.Combine(_directory.FullName, "many.png");

        var run = await CliRunner.RunAsync(server, ["tune", archive, "-d", "postgres", "--jobs", "2,1", "--json", "--plot", plot], timeout: TimeSpan.FromMinutes(4));
        output.WriteLine(run.Describe());

        Assert.True(run.ExitCode == 0, run.Describe());
        using var json = JsonDocument.Parse(run.StdoutText);
        var root = json.RootElement;
        var runs = root.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal([2, 1], runs.Select(r => r.GetProperty("jobs").GetInt32()));
        foreach (var r in runs)
        {
            Assert.Equal("succeeded", r.GetProperty("state").GetString());
            Assert.True(r.GetProperty("wallSeconds").GetDouble() > 0);
            Assert.Equal(60 * 200, r.GetProperty("rows").GetInt64());
            Assert.Equal(0, r.GetProperty("errors").GetInt32());
            Assert.True(r.GetProperty("phases").GetProperty("data").GetDouble() >= 0);
            Assert.True(r.GetProperty("server").GetProperty("walBytes").GetInt64() > 0, "a restore writes WAL");
            Assert.Equal("pg_stat_bgwriter+pg_stat_database", r.GetProperty("server").GetProperty("source").GetString());
            double shares = r.GetProperty("waits").EnumerateObject().Sum(w => w.Value.GetDouble());
            Assert.True(shares == 0 || Math.Abs(shares - 1) < 0.01, $"wait shares add up to {shares}");
        }

        Assert.False(root.GetProperty("sampled").GetBoolean());
        Assert.Contains(root.GetProperty("recommendedJobs").GetInt32(), (int[])[1, 2]);
        Assert.Equal(root.GetProperty("recommendedJobs").GetInt32(), root.GetProperty("recommendedHostBudget").GetInt32());
        Assert.NotEqual("", root.GetProperty("reason").GetString());
        Assert.Equal(plot, root.GetProperty("plot").GetString());
        // Progress lines are for people: with --json, stderr stays quiet.
        Assert.Equal("", run.Stderr);
        AssertPng(plot);
        await AssertNoScratchDatabaseAsync(server);
    }

    [Fact]
    public async Task ASampleLoadsAPrefixOfEachTableAndCountsTheForeignKeysItBreaksApart()
    {
        var server = await PostgresServer.GetSharedAsync();
        // The child's rows point at the parent's last rows: a prefix of the parent leaves them dangling.
        string archive = await DumpAsync(server, "tune_sample", db => server.ExecuteAsync(db, """
            CREATE TABLE parent (id int PRIMARY KEY, v text);
            INSERT INTO parent SELECT g, repeat('p', 40) FROM generate_series(1, 5000) g;
            CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent);
            INSERT INTO child SELECT g, 5001 - g FROM generate_series(1, 3000) g;
            """));
        string plot = Path.Combine(_directory.FullName, "sample.png");

        var run = await CliRunner.RunAsync(server, ["tune", archive, "-d", "postgres", "--jobs", "1", "--sample", "4kB", "--json", "--plot", plot], timeout: TimeSpan.FromMinutes(4));
        output.WriteLine(run.Describe());

        Assert.True(run.ExitCode == 0, run.Describe());
        using var json = JsonDocument.Parse(run.StdoutText);
        var root = json.RootElement;
        Assert.True(root.GetProperty("sampled").GetBoolean());
        Assert.Equal(4096, root.GetProperty("sampleBytes").GetInt64());
        var only = Assert.Single(root.GetProperty("runs").EnumerateArray());
        long rows = only.GetProperty("rows").GetInt64();
        Assert.True(rows > 0 && rows < 5000 + 3000, $"{rows} rows loaded");
        Assert.Equal(1, only.GetProperty("sampleErrors").GetInt32());
        Assert.Equal(0, only.GetProperty("errors").GetInt32());
        Assert.Equal(1, root.GetProperty("recommendedJobs").GetInt32());
        await AssertNoScratchDatabaseAsync(server);
    }

    [Fact]
    public async Task AnUnreachableTargetIsOneLineAndNothingIsMade()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await DumpAsync(server, "tune_unreachable", db => server.ExecuteAsync(db, "CREATE TABLE t (id int)"));

        var run = await CliRunner.RunAsync(
            server, ["tune", archive, "-d", "postgres", "-h", "127.0.0.1", "-p", "1", "--plot", Path.Combine(_directory.FullName, "none.png")],
            timeout: TimeSpan.FromMinutes(2));

        Assert.Equal(1, run.ExitCode);
        string error = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !l.Contains("retrying", StringComparison.Ordinal));
        Assert.StartsWith("restorecluster: error: ", error, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        Assert.Equal("", run.StdoutText);
        Assert.False(File.Exists(Path.Combine(_directory.FullName, "none.png")));
    }

    [Fact]
    public async Task APlotThatCannotBeWrittenIsSaidBeforeAnyTrial()
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await DumpAsync(server, "tune_noplot", db => server.ExecuteAsync(db, "CREATE TABLE t (id int)"));
        string plot = Path.Combine(_directory.FullName, "missing", "t.png");

        var run = await CliRunner.RunAsync(server, ["tune", archive, "-d", "postgres", "--plot", plot], timeout: TimeSpan.FromMinutes(2));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"restorecluster: error: could not write the plot \"{plot}\": its folder does not exist\n", run.Stderr);
        Assert.Equal("", run.StdoutText);
        await AssertNoScratchDatabaseAsync(server);
    }

    private Task<string> DumpAsync(PostgresServer server, string prefix, Func<string, Task> fill) =>
        RestoreComparison.MakeArchiveAsync(server, _directory.FullName, prefix, fill);

    private static async Task AssertNoScratchDatabaseAsync(PostgresServer server)
    {
        long left = await server.ScalarAsync<long>("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'restorecluster\\_tune\\_%'");
        Assert.Equal(0, left);
    }

    // A PNG file: its signature, then the IHDR chunk with the plot's size.
    private static void AssertPng(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal(960, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(640, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        Assert.True(bytes.Length > 10_000, $"a plot of {bytes.Length} bytes has nothing drawn");
    }
}
