using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A foreign key restored in steps (docs/restore.md, "Keys and foreign keys"), killed between them: the restore is
/// killed after the key's <c>ADD ... NOT VALID</c> committed and before its VALIDATE could, and <c>restore --resume</c>
/// goes to the end with the key validated, the exit code and error count of an uninterrupted run, and pg_restore's
/// database. Held deterministically: the child table's CHECK waits on an advisory lock the test holds while it takes
/// the validation's journal row (dump ID + 2^30) in a transaction of its own; then it lets the data go, so the ADD
/// commits and the VALIDATE's first statement, its journal row, waits behind the test's.
/// </summary>
public sealed partial class KeysResumeTests(ITestOutputHelper output)
{
    // UnitSession.ValidationUnitId: the FK CONSTRAINT entry's dump ID + 2^30.
    private const int ValidationIdBase = 1 << 30;

    [Fact]
    public async Task ARestoreKilledBetweenAForeignKeysAddAndItsValidationResumesToAValidatedKeyAndPgRestoresDatabase()
    {
        var server = await PostgresServer.GetSharedAsync();
        string directory = Directory.CreateTempSubdirectory("rc-keys-resume-").FullName;
        string target = await server.CreateDatabaseAsync("keys_resume");
        string reference = await server.CreateDatabaseAsync("keys_resume_pg");
        try
        {
            string archive = await RestoreComparison.MakeArchiveAsync(server, directory, "keys_resume_source", db => server.ExecuteAsync(db, Schema));
            var list = await server.RunToolAsync("pg_restore", ["-l", archive], timeout: TimeSpan.FromMinutes(1));
            list.EnsureSuccess();
            int fk = int.Parse(ForeignKeyLine().Match(list.StdoutText).Groups[1].Value, CultureInfo.InvariantCulture);

            var theirs = await server.RunToolAsync("pg_restore", ["-j", "2", "-d", reference, archive], timeout: TimeSpan.FromMinutes(2));
            Assert.Equal(0, theirs.ExitCode);

            await server.ExecuteAsync("postgres", $"ALTER DATABASE {target} SET rc_keys.gate = 'on'");
            string[] restore = ["restore", "-j", "2", "-d", target, archive];
            await using (var gate = await WorkloadChecks.OpenAsync(server, target))
            await using (var holder = await WorkloadChecks.OpenAsync(server, target))
            {
                await ExecAsync(gate, "SELECT pg_catalog.pg_advisory_lock(4242, 11)");
                using var cli = RunningCli.Start(server, restore);
                await WorkloadChecks.WaitUntilAsync(
                    async () =>
                    {
                        Assert.False(cli.Process.HasExited, "the restore ended before the child's data waited on the gate");
                        return await WorkloadChecks.JournaledUnitsAsync(holder) > 0 && await WaitingAsync(holder, target, "advisory");
                    },
                    TimeSpan.FromSeconds(60),
                    () => "the child's data waiting on the gate");

                // The validation's journal row, taken first by the test: the VALIDATE's transaction waits behind it.
                await using var hold = await holder.BeginTransactionAsync();
                await using (var take = new NpgsqlCommand("INSERT INTO restorecluster_journal.unit (job_key, unit_id) SELECT job_key, $1 FROM restorecluster_journal.job", holder))
                {
                    take.Parameters.Add(new NpgsqlParameter { Value = fk + ValidationIdBase });
                    Assert.Equal(1, await take.ExecuteNonQueryAsync());
                }

                await ExecAsync(gate, "SELECT pg_catalog.pg_advisory_unlock(4242, 11)");
                await WorkloadChecks.WaitUntilAsync(
                    async () =>
                    {
                        Assert.False(cli.Process.HasExited, "the restore ended before the validation waited");
                        return await ValidatedAsync(gate) == false && await WaitingAsync(gate, target, "transactionid");
                    },
                    TimeSpan.FromSeconds(60),
                    () => "the key added NOT VALID and its validation waiting on its journal row");
                await cli.KillAsync();
                await ExecAsync(gate, $"SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE datname = '{target}' AND application_name = '{WorkloadChecks.ApplicationName}'");
                await WorkloadChecks.WaitUntilAsync(async () => await WorkloadChecks.SessionsAsync(gate, target) == 0, TimeSpan.FromSeconds(30), () => "the killed restore's sessions to end");
                await hold.RollbackAsync();
                Assert.False(await ValidatedAsync(gate), "the key is not NOT VALID after the kill");
            }

            var resumed = await CliRunner.RunAsync(server, [.. restore, "--resume"], timeout: TimeSpan.FromMinutes(2));
            output.WriteLine(resumed.Describe());
            Assert.True(resumed.ExitCode == 0, resumed.Describe());
            Assert.DoesNotContain("errors ignored", resumed.Stderr, StringComparison.Ordinal);
            await using (var check = await WorkloadChecks.OpenAsync(server, target))
            {
                Assert.True(await ValidatedAsync(check), "the key is not validated after --resume");
            }

            await server.ExecuteAsync("postgres", $"ALTER DATABASE {target} RESET rc_keys.gate");
            string ours = await RestoreComparison.DumpAsync(server, target);
            string expected = await RestoreComparison.DumpAsync(server, reference);
            Assert.True(ours == expected, RestoreComparison.FirstDifference(expected, ours));
        }
        finally
        {
            await server.DropDatabaseAsync(target);
            await server.DropDatabaseAsync(reference);
            Directory.Delete(directory, recursive: true);
        }
    }

    // parent and child each hold more than a small unit's data (PlanUnit.SmallBytes, 256 kB of archive data), so the
    // key goes in steps; child's CHECK waits on the test's advisory lock where the database says rc_keys.gate = on.
    private const string Schema = """
        CREATE FUNCTION public.gate() RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
            IF pg_catalog.current_setting('rc_keys.gate', true) = 'on' THEN
                PERFORM pg_catalog.pg_advisory_xact_lock_shared(4242, 11);
            END IF;
            RETURN true;
        END $$;
        CREATE TABLE public.parent (id integer PRIMARY KEY, pad text NOT NULL);
        INSERT INTO public.parent SELECT g, (SELECT string_agg(md5(k || ':' || g), '') FROM generate_series(1, 8) k) FROM generate_series(1, 4000) g;
        CREATE TABLE public.child (id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES public.parent (id), pad text NOT NULL, CHECK (public.gate()));
        INSERT INTO public.child SELECT g, 1 + g % 4000, (SELECT string_agg(md5(k || '-' || g), '') FROM generate_series(1, 8) k) FROM generate_series(1, 4000) g;
        """;

    [GeneratedRegex(@"^(\d+); \d+ \d+ FK CONSTRAINT public child child_parent_id_fkey ", RegexOptions.Multiline)]
    private static partial Regex ForeignKeyLine();

    private static async Task ExecAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    // Whether the key is validated; null while it is not there.
    private static async Task<bool?> ValidatedAsync(NpgsqlConnection conn)
    {
        await using var cmd = new NpgsqlCommand("SELECT convalidated FROM pg_catalog.pg_constraint WHERE conname = 'child_parent_id_fkey'", conn);
        return await cmd.ExecuteScalarAsync() as bool?;
    }

    // Whether a session of the restore waits on a lock of the given type.
    private static async Task<bool> WaitingAsync(NpgsqlConnection conn, string database, string lockType)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND application_name = $2 AND wait_event_type = 'Lock' AND wait_event = $3)", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = database });
        cmd.Parameters.Add(new NpgsqlParameter { Value = WorkloadChecks.ApplicationName });
        cmd.Parameters.Add(new NpgsqlParameter { Value = lockType });
        return (bool)(await cmd.ExecuteScalarAsync())!;
    }
}
