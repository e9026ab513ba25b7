using System.Text.RegularExpressions;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A restore into a server that lacks the archive's owner role (so some entries fail), killed with SIGKILL
/// after the failing units committed their journal rows, then resumed: the resumed run ends as the
/// uninterrupted pg_restore does (exit code 1, the same "errors ignored on restore: N"), and the database
/// dumps the same. With --no-data-for-failed-tables, the data of a table whose creation failed before the
/// kill is still skipped after it. The kill comes at a known point: a COPY waits inside the server for a
/// lock this test holds (the gate's CHECK function takes it for the table's last row).
/// </summary>
public sealed partial class KilledAfterErrorsTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const string Owner = "rc_killed_owner";
    private const int LockKey = 7_311_003;
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    private static readonly string Source = $"""
        CREATE FUNCTION public.gate_open(id integer) RETURNS boolean LANGUAGE plpgsql AS
        $$BEGIN IF id = 100 THEN PERFORM pg_advisory_xact_lock_shared({LockKey}); END IF; RETURN id > 0; END$$;
        CREATE TABLE public.owned (id integer PRIMARY KEY, name text);
        INSERT INTO public.owned SELECT g, 'owned ' || g FROM generate_series(1, 500) g;
        ALTER TABLE public.owned OWNER TO {Owner};
        CREATE TABLE public.owned_too (id integer, body text);
        INSERT INTO public.owned_too SELECT g, repeat('y', g % 30) FROM generate_series(1, 300) g;
        ALTER TABLE public.owned_too OWNER TO {Owner};
        CREATE TABLE public.plain (id integer PRIMARY KEY, name text);
        INSERT INTO public.plain SELECT g, 'plain ' || g FROM generate_series(1, 1000) g;
        GRANT SELECT ON public.plain TO {Owner};
        CREATE TABLE public.gate (id integer CONSTRAINT gate_open CHECK (public.gate_open(id)));
        INSERT INTO public.gate SELECT g FROM generate_series(1, 100) g;
        CREATE INDEX owned_name ON public.owned (name);
        """;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-killed-errors-");
    private PostgresServer? _bare;

    public async Task InitializeAsync() => _bare = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_bare is not null)
        {
            await _bare.DisposeAsync();
        }
    }

    public void Dispose() => _directory.Delete(recursive: true);

    [Theory]
    [InlineData("")]
    [InlineData("--no-data-for-failed-tables")]
    public async Task AResumeAfterAKillEndsWithTheUninterruptedErrorCountAndDatabase(string options)
    {
        string[] opts = options.Length == 0 ? [] : [options];
        string archive = await MakeArchiveAsync();
        var bare = _bare!;

        // pg_restore, uninterrupted (the gate is open).
        string reference = await bare.CreateDatabaseAsync("killed_err_pg");
        var pgRestore = await bare.RunToolAsync("pg_restore", [.. opts, "-d", reference, archive], timeout: TimeSpan.FromMinutes(2));
        int expected = Count(pgRestore.Stderr);
        Assert.True(pgRestore.ExitCode == 1 && expected > 0, $"pg_restore should ignore errors here:\n{pgRestore.Stderr}");

        string target = await bare.CreateDatabaseAsync("killed_err_rc");
        int failedBeforeKill = await KillAtTheGateAsync(bare, target, archive, opts);
        output.WriteLine($"killed with {failedBeforeKill} failed units journaled; pg_restore counts {expected} errors");
        if (options.Length > 0)
        {
            Assert.Equal(0L, await bare.ScalarAsync<long>(target, "SELECT count(*) FROM public.owned"));
        }

        var resumed = await CliRunner.RunAsync(bare, ["restore", "-j", "2", "--resume", .. opts, "-d", target, archive], timeout: TimeSpan.FromMinutes(2));
        output.WriteLine($"--resume: exit {resumed.ExitCode}\n{resumed.Stderr}");
        Assert.True(resumed.ExitCode == 1, resumed.Describe());
        Assert.DoesNotContain("   at ", resumed.Stderr, StringComparison.Ordinal);
        Assert.Contains($"restorecluster: warning: errors ignored on restore: {expected}\n", resumed.Stderr, StringComparison.Ordinal);
        Assert.Equal(expected, RestoreComparison.ErrorLines(resumed.Stderr, "restorecluster: error: from TOC entry "));
        Assert.False(await WorkloadChecks.JournalExistsAsync(bare, target), "the journal is left after the resumed restore ended");

        // The data of the tables whose creation failed is skipped with the option, loaded without it.
        Assert.Equal(options.Length > 0 ? 0L : 500L, await bare.ScalarAsync<long>(target, "SELECT count(*) FROM public.owned"));
        Assert.Equal(100L, await bare.ScalarAsync<long>(target, "SELECT count(*) FROM public.gate"));
        string ours = await RestoreComparison.DumpAsync(bare, target);
        string theirs = await RestoreComparison.DumpAsync(bare, reference);
        if (ours != theirs)
        {
            Assert.Fail("pg_dump of the resumed restore differs from pg_restore's:\n" + RestoreComparison.FirstDifference(theirs, ours));
        }
    }

    // Restores with -j 2 while the gate is shut, kills the process tree once the gate's COPY waits (the start,
    // with its failing entries, is committed by then), opens the gate and waits for the sessions to end. Returns the
    // number of journaled units that failed.
    private async Task<int> KillAtTheGateAsync(PostgresServer server, string target, string archive, string[] opts)
    {
        await using (var gate = await OpenAsync(server, target))
        {
            await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", gate))
            {
                await take.ExecuteNonQueryAsync();
            }

            using var cli = RunningCli.Start(server, ["restore", "-j", "2", "--progress", "none", .. opts, "-d", target, archive]);
            var process = cli.Process;
            try
            {
                await WorkloadChecks.WaitUntilAsync(
                    async () =>
                    {
                        Assert.False(process.HasExited, $"the restore ended (exit {(process.HasExited ? process.ExitCode : 0)}) before the gate:\n{(process.HasExited ? await cli.Stderr : "")}");
                        return await server.ScalarAsync<long>("postgres",
                            $"SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = '{target}' AND wait_event_type = 'Lock' AND wait_event = 'advisory'") > 0;
                    },
                    WaitLimit,
                    () => "the gate's COPY to wait for the lock");
            }
            finally
            {
                await cli.KillAsync();
            }
        }

        // Opened, the gate lets the COPY on: it then finds its client gone, and its transaction is rolled back.
        await using (var monitor = await WorkloadChecks.OpenAsync(server, "postgres"))
        {
            await WorkloadChecks.WaitUntilAsync(async () => await WorkloadChecks.SessionsAsync(monitor, target) == 0, WaitLimit, () => "the killed restore's sessions to end");
        }

        Assert.True(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is gone after SIGKILL");
        long failed = await server.ScalarAsync<long>(target, "SELECT count(*) FROM restorecluster_journal.unit WHERE errors > 0");
        Assert.True(failed > 0, "no failing unit was journaled before the kill");
        Assert.Equal(0L, await server.ScalarAsync<long>(target, "SELECT count(*) FROM public.gate"));
        return (int)failed;
    }

    // The source on the shared server, where the owner role exists; the bare server has no such role.
    private async Task<string> MakeArchiveAsync()
    {
        var shared = await PostgresServer.GetSharedAsync();
        await shared.ExecuteAsync("postgres", $"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{Owner}') THEN CREATE ROLE {Owner}; END IF; END $$");
        string source = await shared.CreateDatabaseAsync("killed_err_src");
        try
        {
            (await shared.RunToolAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", shared.LibpqConnectionString(source), "-c", Source])).EnsureSuccess();
            string path = Path.Combine(_directory.FullName, "killed-errors.dump");
            (await shared.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", path, "-d", shared.LibpqConnectionString(source)])).EnsureSuccess();
            return path;
        }
        finally
        {
            await shared.DropDatabaseAsync(source);
        }
    }

    private static async Task<NpgsqlConnection> OpenAsync(PostgresServer server, string database)
    {
        var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString(database)) { Pooling = false, ApplicationName = "restorecluster-tests" }.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    private static int Count(string pgRestoreStderr)
    {
        var m = ErrorsIgnored().Match(pgRestoreStderr);
        return m.Success ? int.Parse(m.Groups[1].Value) : 0;
    }

    [GeneratedRegex(@"errors ignored on restore: (\d+)")]
    private static partial Regex ErrorsIgnored();
}
