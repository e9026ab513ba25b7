using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A batch of the prefork that fails (one of its tables is already in the target) is rolled back, and with
/// it every SET the batch sent: the session's user (--use-set-session-authorization) and default table
/// access method are again what they were before it. The units run again one by one, and each must set what
/// it needs again rather than trust what the emitter remembers of the rolled-back attempt (nor of the user
/// it set before each attempt switched to the login role for the journal): the owners and access methods
/// are pg_restore's. The archive is the real pg_dump's, of objects owned by two roles and tables of two
/// access methods, in an order where the last SETs of the failed batch are what units after it need.
/// (Its search_path is the session's, from the archive's SEARCHPATH entry, untouched by rollbacks.)
/// </summary>
public sealed class SessionStateTests(ITestOutputHelper output) : IDisposable
{
    private const string Alice = "rc_state_alice";
    private const string Bob = "rc_state_bob";

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-session-state-");

    [Theory]
    [InlineData("")]
    [InlineData("--use-set-session-authorization")]
    public async Task UnitsRunAgainAfterARolledBackBatchRunAsTheirOwnersWithTheirAccessMethods(string option)
    {
        var server = await PostgresServer.GetSharedAsync();
        string archive = await ArchiveAsync(server);
        string[] options = option.Length > 0 ? [option] : [];
        string reference = await TargetAsync(server, "state_pg");
        string target = await TargetAsync(server, "state_rc");
        try
        {
            var pgRestore = await server.RunToolAsync("pg_restore", [.. options, "-d", reference, archive], timeout: TimeSpan.FromMinutes(1));
            var ours = await CliRunner.RunAsync(server, ["restore", "-j", "2", .. options, "-d", target, archive], timeout: TimeSpan.FromMinutes(1));
            output.WriteLine($"pg_restore: exit {pgRestore.ExitCode}\n{pgRestore.Stderr}\nrestorecluster: exit {ours.ExitCode}\n{ours.Stderr}");

            // The table already there fails in both, once: in our prefork's first batch, which then ran again unit by unit.
            Assert.Equal(1, pgRestore.ExitCode);
            Assert.True(ours.ExitCode == 1, ours.Describe());
            Assert.Contains("relation \"c_clash\" already exists", ours.Stderr, StringComparison.Ordinal);
            Assert.EndsWith("restorecluster: warning: errors ignored on restore: 1\n", ours.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", ours.Stderr, StringComparison.Ordinal);

            string expected = await RestoreComparison.DumpAsync(server, reference);
            string actual = await RestoreComparison.DumpAsync(server, target);
            Assert.Contains($"ALTER TABLE bobs.e_table OWNER TO {Bob};", expected, StringComparison.Ordinal);
            Assert.Contains("SET default_table_access_method = rc_state_heap;", expected, StringComparison.Ordinal);
            if (actual != expected)
            {
                Assert.Fail("pg_dump of the restore differs from pg_restore's:\n" + RestoreComparison.FirstDifference(expected, actual));
            }
        }
        finally
        {
            await server.DropDatabaseAsync(reference);
            await server.DropDatabaseAsync(target);
        }
    }

    public void Dispose() => _directory.Delete(recursive: true);

    // A target with the table the archive's c_clash entry creates (Bob's, so its data still loads as Bob):
    // that CREATE TABLE fails, in both restores.
    // Alice and Bob may create schemas, and tables in public (as themselves, with --use-set-session-authorization).
    private static async Task<string> TargetAsync(PostgresServer server, string prefix)
    {
        string database = await server.CreateDatabaseAsync(prefix);
        await server.ExecuteAsync(database, $"""
            CREATE TABLE public.c_clash (id integer, note text);
            ALTER TABLE public.c_clash OWNER TO {Bob};
            GRANT CREATE ON SCHEMA public TO {Alice}, {Bob};
            GRANT CREATE ON DATABASE "{database}" TO {Alice}, {Bob};
            """);
        return database;
    }

    /// <summary>
    /// pg_dump of: a schema of Bob's with a type and a function of his (two units in a row that need Bob, and
    /// create no table), a table access method (an alias of heap), and tables in pg_dump's order bobs.e_table
    /// (Bob, rc_state_heap), a_first (Alice, rc_state_heap), b_second (Bob, heap), c_clash (Bob, heap),
    /// d_last (Alice, rc_state_heap). The failed batch's last SETs are Alice and rc_state_heap.
    /// </summary>
    private async Task<string> ArchiveAsync(PostgresServer server)
    {
        await server.ExecuteAsync("postgres", $"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{Alice}') THEN CREATE ROLE {Alice} NOLOGIN; END IF;
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{Bob}') THEN CREATE ROLE {Bob} NOLOGIN; END IF;
            END $$
            """);
        string source = await server.CreateDatabaseAsync("state_src");
        try
        {
            await server.ExecuteAsync(source, $"""
                CREATE ACCESS METHOD rc_state_heap TYPE TABLE HANDLER heap_tableam_handler;
                CREATE SCHEMA bobs AUTHORIZATION {Bob};
                CREATE TYPE bobs.mood AS ENUM ('sad', 'ok', 'happy');
                CREATE FUNCTION bobs.cheer(m bobs.mood) RETURNS bobs.mood LANGUAGE sql AS 'SELECT ''happy''::bobs.mood';
                ALTER TYPE bobs.mood OWNER TO {Bob};
                ALTER FUNCTION bobs.cheer(bobs.mood) OWNER TO {Bob};
                CREATE TABLE bobs.e_table (id integer, note text) USING rc_state_heap;
                CREATE TABLE public.a_first (id integer, note text) USING rc_state_heap;
                CREATE TABLE public.b_second (id integer, note text) USING heap;
                CREATE TABLE public.c_clash (id integer, note text) USING heap;
                CREATE TABLE public.d_last (id integer, note text) USING rc_state_heap;
                ALTER TABLE bobs.e_table OWNER TO {Bob};
                ALTER TABLE public.a_first OWNER TO {Alice};
                ALTER TABLE public.b_second OWNER TO {Bob};
                ALTER TABLE public.c_clash OWNER TO {Bob};
                ALTER TABLE public.d_last OWNER TO {Alice};
                INSERT INTO bobs.e_table VALUES (1, 'e');
                INSERT INTO public.a_first VALUES (1, 'a');
                INSERT INTO public.d_last VALUES (1, 'd');
                """);
            string path = Path.Combine(_directory.FullName, "state.dump");
            (await server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", path, "-d", server.LibpqConnectionString(source)], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
            return path;
        }
        finally
        {
            await server.DropDatabaseAsync(source);
        }
    }
}
