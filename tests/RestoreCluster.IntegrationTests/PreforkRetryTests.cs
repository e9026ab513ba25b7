using System.Text.Json;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// The serial prefork (the pre-data definitions, run before anything else) loses its session in the middle
/// of a batch: the batch is rolled back with the session and run again with the bounded backoff of any
/// unit, in the same run and journal; with -C the database is not dropped and created again. The restore
/// ends as pg_restore's does.
/// </summary>
public sealed class PreforkRetryTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-prefork-retry-");

    [Fact]
    public async Task APreforkBatchWhoseSessionIsTerminatedRunsAgainAndTheRestoreMatchesPgRestore()
    {
        var server = await PostgresServer.GetSharedAsync();
        var paused = await PausingArchiveAsync(server, "pf_plain");
        string reference = await server.CreateDatabaseAsync("pf_ref");
        string target = await server.CreateDatabaseAsync("pf_target");
        try
        {
            (await server.RunToolAsync("pg_restore", ["-d", reference, paused.Archive], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
            string expected = await RestoreComparison.DumpAsync(server, reference);

            var (result, _) = await RestoreTerminatingThePreforkAsync(server, paused, ["restore", "-j", "2", "--progress", "json", "-d", target, paused.Archive], target);

            AssertEndedWell(result);
            Assert.False(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is left after the restore ended");
            Assert.Equal(expected, await RestoreComparison.DumpAsync(server, target));
        }
        finally
        {
            await server.DropDatabaseAsync(paused.SourceDatabase);
            await server.DropDatabaseAsync(reference);
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task WithCreateDatabaseTheRetriedPreforkKeepsTheDatabaseItCreated()
    {
        // A server of its own: -C creates the archive's database under the source's name.
        await using var server = await PostgresServer.StartAsync();
        var paused = await PausingArchiveAsync(server, "pf_create");
        string created = paused.SourceDatabase;
        await DropAsync(server, created);
        string[] options = ["-C", "-c", "--if-exists"];
        (await server.RunToolAsync("pg_restore", [.. options, "-d", "postgres", paused.Archive], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
        string expected = await RestoreComparison.DumpAsync(server, created);
        await DropAsync(server, created);

        var (result, datid) = await RestoreTerminatingThePreforkAsync(
            server, paused, ["restore", .. options, "-j", "2", "--progress", "json", "-d", "postgres", paused.Archive], created);

        AssertEndedWell(result);
        // Created once: the database the prefork worked in when its session was lost is the one restored.
        Assert.Equal(datid, await server.ScalarAsync<uint>("postgres", $"SELECT oid FROM pg_catalog.pg_database WHERE datname = '{created}'"));
        Assert.False(await WorkloadChecks.JournalExistsAsync(server, created), "the journal is left after the restore ended");
        Assert.Equal(expected, await RestoreComparison.DumpAsync(server, created));
    }

    public void Dispose() => _directory.Delete(recursive: true);

    // The name comes back (-C creates it again): pooled connections to the dropped one must not be reused.
    private static async Task DropAsync(PostgresServer server, string database)
    {
        await server.DropDatabaseAsync(database);
        using var pooled = new NpgsqlConnection(server.ConnectionString(database));
        NpgsqlConnection.ClearPool(pooled);
    }

    private void AssertEndedWell(ProcessResult result)
    {
        output.WriteLine($"exit {result.ExitCode} in {result.Duration.TotalSeconds:0.0} s\nstderr:\n{result.Stderr}");
        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("session lost", result.Stderr, StringComparison.Ordinal);
        string[] lines = result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var end = JsonDocument.Parse(lines[^1]);
        output.WriteLine("end event: " + end.RootElement.GetRawText());
        Assert.Equal("succeeded", end.RootElement.GetProperty("state").GetString());
        Assert.Equal(0, end.RootElement.GetProperty("errors").GetInt32());
        Assert.True(end.RootElement.GetProperty("retries").GetInt32() >= 1, "no retry counted: " + end.RootElement.GetRawText());
    }

    /// <summary>
    /// Runs the restore with the pause role in place: once a restorecluster session in <paramref name="database"/>
    /// waits inside the prefork's CREATE AGGREGATE, its backend is terminated and the pause let go. Returns
    /// the result and the OID of the database the terminated session was in.
    /// </summary>
    private async Task<(ProcessResult Result, uint Datid)> RestoreTerminatingThePreforkAsync(
        PostgresServer server, PausingArchive paused, string[] args, string database)
    {
        await server.ExecuteAsync("postgres", $"CREATE ROLE {paused.PauseRole} NOLOGIN");
        try
        {
            var restore = CliRunner.RunAsync(server, args, timeout: TimeSpan.FromMinutes(2));
            await using var monitor = await WorkloadChecks.OpenAsync(server, "postgres");
            uint datid = 0;
            await WorkloadChecks.WaitUntilAsync(
                async () =>
                {
                    Assert.False(restore.IsCompleted, $"the restore ended before its prefork paused:\n{(restore.IsCompleted ? (await restore).Describe() : "")}");
                    await using var cmd = new NpgsqlCommand(
                        """
                        SELECT datid, pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
                        WHERE application_name = $1 AND datname = $2 AND state = 'active' AND query LIKE 'CREATE AGGREGATE%'
                        """,
                        monitor);
                    cmd.Parameters.Add(new NpgsqlParameter { Value = WorkloadChecks.ApplicationName });
                    cmd.Parameters.Add(new NpgsqlParameter { Value = database });
                    await using var r = await cmd.ExecuteReaderAsync();
                    if (!await r.ReadAsync())
                    {
                        return false;
                    }

                    datid = r.GetFieldValue<uint>(0);
                    Assert.True(r.GetBoolean(1), "pg_terminate_backend returned false");
                    return true;
                },
                TimeSpan.FromSeconds(60),
                () => "a restorecluster session paused in the prefork's CREATE AGGREGATE");
            await server.ExecuteAsync("postgres", $"DROP ROLE {paused.PauseRole}");
            return (await restore, datid);
        }
        finally
        {
            await server.ExecuteAsync("postgres", $"DROP ROLE IF EXISTS {paused.PauseRole}");
        }
    }

    private sealed record PausingArchive(string SourceDatabase, string Archive, string PauseRole);

    /// <summary>
    /// An archive by the real pg_dump whose pre-data holds an aggregate with an initial value of a domain
    /// type: CREATE AGGREGATE checks that value, which runs the domain's CHECK function, which waits as long
    /// as the pause role exists (a role is cluster-wide, so this works in a database -C has just created).
    /// Tables before and after it, with data, indexes and a foreign key.
    /// </summary>
    private async Task<PausingArchive> PausingArchiveAsync(PostgresServer server, string prefix)
    {
        string role = $"rc_pause_{Guid.NewGuid():N}"[..24];
        string source = await server.CreateDatabaseAsync(prefix);
        await server.ExecuteAsync(source, $"""
            CREATE TABLE public.alpha (id integer PRIMARY KEY, name text NOT NULL);
            INSERT INTO public.alpha SELECT g, 'alpha ' || g FROM generate_series(1, 500) g;
            CREATE FUNCTION public.wait_for_test(v text) RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN
                WHILE EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}') LOOP
                    PERFORM pg_catalog.pg_sleep(0.02);
                END LOOP;
                RETURN true;
            END $$;
            CREATE DOMAIN public.waiting_text AS text CHECK (public.wait_for_test(VALUE));
            CREATE FUNCTION public.keep_first(s public.waiting_text, v text) RETURNS public.waiting_text LANGUAGE sql IMMUTABLE AS 'SELECT s';
            CREATE AGGREGATE public.first_text(text) (SFUNC = public.keep_first, STYPE = public.waiting_text, INITCOND = 'start');
            CREATE TABLE public.omega (id integer PRIMARY KEY, alpha_id integer REFERENCES public.alpha, note public.waiting_text);
            INSERT INTO public.omega SELECT g, 1 + g % 500, 'note ' || g FROM generate_series(1, 500) g;
            CREATE INDEX omega_note_idx ON public.omega (note);
            """);
        string path = Path.Combine(_directory.FullName, $"{source}.dump");
        (await server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", path, "-d", server.LibpqConnectionString(source)], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
        return new PausingArchive(source, path, role);
    }
}
