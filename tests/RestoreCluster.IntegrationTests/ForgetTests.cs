using System.Text.RegularExpressions;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// <c>restorecluster forget -d TARGET</c>: the journal a killed restore left is described (archive, start,
/// units done), kept by <c>--dry-run</c>, and dropped, after which a new restore runs without --resume; no
/// journal, a journal a restore may still be using, and a bad target are one-line errors with exit code 1.
/// </summary>
public sealed partial class ForgetTests(ITestOutputHelper output)
{
    private const string Secret = "Sup3rSecretPw";

    // Small: the killed restore only needs to have committed some units, the fresh one to finish quickly.
    private static readonly WorkloadSpec Small = new(Tables: 2, TableMegabytes: 2, BigMegabytes: 24);

    [Fact]
    public async Task AJournalLeftByAKilledRestoreIsDescribedKeptByADryRunThenDroppedAndAFreshRestoreRunsWithoutResume()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync(Small);
        string target = await server.CreateDatabaseAsync("forget");
        try
        {
            int journaled = await KillWithSomeUnitsJournaledAsync(server, target, workload);
            output.WriteLine($"killed with {journaled} of {workload.ArchiveEntries} units journaled");
            string described = $"restorecluster_journal in {server.Host}:{server.Port}/{target} as {server.UserName}: an interrupted restore of {workload.CustomArchive}, started ";

            var dry = await CliRunner.RunAsync(server, ["forget", "--dry-run", "-d", target], timeout: TimeSpan.FromMinutes(1));
            output.WriteLine($"forget --dry-run: exit {dry.ExitCode}\n{dry.StdoutText}{dry.Stderr}");
            Assert.True(dry.ExitCode == 0, dry.Describe());
            Assert.Equal("", dry.Stderr);
            string[] dryLines = dry.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, dryLines.Length);
            AssertDescribes(dryLines[0], described, journaled);
            Assert.Equal("dry run: schema restorecluster_journal kept", dryLines[1]);
            Assert.True(await WorkloadChecks.JournalExistsAsync(server, target), "--dry-run dropped the journal");

            // The leftover journal is what stands in a new restore's way...
            string[] fresh = ["restore", "-c", "--if-exists", "-j", "2", "-d", target, workload.CustomArchive];
            string committed = await PublicRelationsAsync(server, target);
            output.WriteLine($"relations the killed restore made: {committed}");
            Assert.NotEqual("", committed);
            var refused = await CliRunner.RunAsync(server, fresh, timeout: TimeSpan.FromMinutes(2));
            Assert.True(refused.ExitCode == 1 && refused.Stderr.Contains("--resume", StringComparison.Ordinal), refused.Describe());

            var forget = await CliRunner.RunAsync(server, ["forget", "-d", target], timeout: TimeSpan.FromMinutes(1));
            output.WriteLine($"forget: exit {forget.ExitCode}\n{forget.StdoutText}{forget.Stderr}");
            Assert.True(forget.ExitCode == 0, forget.Describe());
            Assert.Equal("", forget.Stderr);
            string[] lines = forget.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            AssertDescribes(lines[0], described, journaled);
            Assert.Equal("dropped schema restorecluster_journal", lines[1]);
            Assert.False(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is still there after forget");
            // What the killed restore committed stays.
            Assert.Equal(committed, await PublicRelationsAsync(server, target));

            // ...and without it the new restore runs, without --resume.
            var restored = await CliRunner.RunAsync(server, fresh, timeout: TimeSpan.FromMinutes(2));
            output.WriteLine($"fresh restore: exit {restored.ExitCode} in {restored.Duration.TotalSeconds:0.0} s\n{restored.Stderr}");
            Assert.True(restored.ExitCode == 0, restored.Describe());
            Assert.False(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is left after the fresh restore");
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task ATargetWithoutAJournalHasNothingToForget()
    {
        var server = await PostgresServer.GetSharedAsync();
        string target = await server.CreateDatabaseAsync("forget_none");
        try
        {
            var result = await CliRunner.RunAsync(server, ["forget", "-d", target], timeout: TimeSpan.FromMinutes(1));

            Assert.Equal(1, result.ExitCode);
            Assert.Equal("", result.StdoutText);
            Assert.Equal(
                $"restorecluster: error: nothing to forget in {server.Host}:{server.Port}/{target} as {server.UserName}: it holds no restorecluster journal (schema restorecluster_journal)\n",
                result.Stderr);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Theory]
    [InlineData("no started_at", "CREATE TABLE restorecluster_journal.job (job_key text PRIMARY KEY, archive_path text NOT NULL); INSERT INTO restorecluster_journal.job VALUES ('restore', '/old/archive.dump');", ": an interrupted restore of /old/archive.dump, 3 units done")]
    [InlineData("no job row", "CREATE TABLE restorecluster_journal.job (job_key text PRIMARY KEY, archive_path text NOT NULL, started_at timestamptz NOT NULL DEFAULT now());", ": an interrupted restore of an unknown archive (the journal has no job row), 3 units done")]
    public async Task AJournalOfAnotherLayoutIsDescribedWithWhatItHasAndDropped(string layout, string jobSql, string expected)
    {
        var server = await PostgresServer.GetSharedAsync();
        string target = await server.CreateDatabaseAsync("forget_layout");
        try
        {
            await server.ExecuteAsync(target, $"""
                CREATE SCHEMA restorecluster_journal;
                {jobSql}
                CREATE TABLE restorecluster_journal.unit (job_key text NOT NULL, unit_id integer NOT NULL, errors integer NOT NULL);
                INSERT INTO restorecluster_journal.unit VALUES ('restore', 1, 0), ('restore', 2, 0), ('restore', 3, 1);
                """);

            var result = await CliRunner.RunAsync(server, ["forget", "-d", target], timeout: TimeSpan.FromMinutes(1));

            output.WriteLine($"{layout}: exit {result.ExitCode}\n{result.StdoutText}{result.Stderr}");
            Assert.True(result.ExitCode == 0, result.Describe());
            Assert.Equal(
                $"restorecluster_journal in {server.Host}:{server.Port}/{target} as {server.UserName}{expected}\ndropped schema restorecluster_journal\n",
                result.StdoutText);
            Assert.False(await WorkloadChecks.JournalExistsAsync(server, target));
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task AJournalWithRestoreSessionsOnItsDatabaseIsKept()
    {
        var server = await PostgresServer.GetSharedAsync();
        string target = await server.CreateDatabaseAsync("forget_busy");
        try
        {
            await server.ExecuteAsync(target, "CREATE SCHEMA restorecluster_journal; CREATE TABLE restorecluster_journal.unit (job_key text, unit_id integer, errors integer)");
            // A session named as restore sessions are: a restore that still runs there.
            var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString(target)) { ApplicationName = WorkloadChecks.ApplicationName, Pooling = false };
            await using var running = new NpgsqlConnection(builder.ConnectionString);
            await running.OpenAsync();

            var result = await CliRunner.RunAsync(server, ["forget", "-d", target], timeout: TimeSpan.FromMinutes(1));

            Assert.Equal(1, result.ExitCode);
            string[] errors = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(errors);
            Assert.Equal(
                $"restorecluster: error: {server.Host}:{server.Port}/{target} as {server.UserName} has 1 other restorecluster session(s): a restore may still be running there; stop it before forgetting its journal",
                errors[0]);
            Assert.True(await WorkloadChecks.JournalExistsAsync(server, target), "forget dropped the journal of a running restore");
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task AMissingDatabaseIsOneLineWithoutThePassword()
    {
        var server = await PostgresServer.GetSharedAsync();
        string target = $"host={server.Host} port={server.Port} user={server.UserName} dbname=rc_forget_no_such_db password={Secret}";

        var result = await CliRunner.RunAsync(["forget", "-d", target], timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            $"restorecluster: error: connection to server at {server.Host}:{server.Port}/rc_forget_no_such_db as {server.UserName} failed: FATAL:  database \"rc_forget_no_such_db\" does not exist\n",
            result.Stderr);
        Assert.DoesNotContain(Secret, result.Stderr + result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableTargetIsRetriedThenOneErrorLineWithoutThePassword()
    {
        var result = await CliRunner.RunAsync(["forget", "-d", $"postgresql://postgres:{Secret}@127.0.0.1:1/x"], timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(1, result.ExitCode);
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 6, result.Stderr);
        Assert.All(lines[..5], l => Assert.StartsWith("restorecluster: warning: connection to server at 127.0.0.1:1/x as postgres failed: ", l, StringComparison.Ordinal));
        Assert.StartsWith("restorecluster: error: connection to server at 127.0.0.1:1/x as postgres failed: ", lines[5], StringComparison.Ordinal);
        Assert.EndsWith("; gave up after 6 attempts", lines[5], StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Stderr + result.StdoutText, StringComparison.Ordinal);
    }

    private static async Task<string> PublicRelationsAsync(PostgresServer server, string database) =>
        await server.ScalarAsync<string>(database,
            "SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') FROM pg_catalog.pg_class WHERE relnamespace = 'public'::pg_catalog.regnamespace") ?? "";

    private static void AssertDescribes(string line, string described, int journaled)
    {
        Assert.StartsWith(described, line, StringComparison.Ordinal);
        var m = StartAndUnits().Match(line[described.Length..]);
        Assert.True(m.Success, line);
        var started = DateTimeOffset.ParseExact(m.Groups[1].Value, "yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(started, DateTimeOffset.Now.AddMinutes(-10), DateTimeOffset.Now);
        Assert.Equal(journaled, int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    // Leaves the journal of a killed restore -j 2: once some units are journaled, a SHARE lock on the
    // journal's unit table holds back every later commit (and the final drop of the journal); the restore is
    // killed, then the lock let go. Returns the units journaled.
    private static async Task<int> KillWithSomeUnitsJournaledAsync(PostgresServer server, string target, Workload workload)
    {
        using var cli = RunningCli.Start(server, ["restore", "-j", "2", "-d", target, workload.CustomArchive]);
        await using var holder = await WorkloadChecks.OpenAsync(server, target);
        int journaled;
        await using (var hold = await WorkloadChecks.PauseTheJournalAsync(holder, cli))
        {
            journaled = await WorkloadChecks.JournaledUnitsAsync(holder);
            await cli.KillAsync();
        }

        await WorkloadChecks.WaitUntilAsync(
            async () => await WorkloadChecks.SessionsAsync(holder, target) == 0,
            TimeSpan.FromSeconds(60),
            () => "the killed restore's sessions to end");
        // A unit held back at its journal row may still commit once the lock goes: its whole transaction,
        // COMMIT included, was already sent (pipelined) when its client died. Nothing else can.
        int after = await WorkloadChecks.JournaledUnitsAsync(holder);
        // Units are not entries (a key built in steps is two units), so entries bound nothing here.
        Assert.True(journaled >= 1 && after >= journaled, $"{journaled} units journaled when held, {after} after");
        return after;
    }


    [GeneratedRegex(@"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d), (\d+) units? done$")]
    private static partial Regex StartAndUnits();
}
