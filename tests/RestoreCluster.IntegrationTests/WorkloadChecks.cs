using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// What the parallel and fault tests check on a restored workload: the pg_dump of pg_restore's restore
/// (made once per archive and process), row counts without duplicates, the journal, our sessions.
/// </summary>
internal static class WorkloadChecks
{
    public const string ApplicationName = "restorecluster";

    private static readonly ConcurrentDictionary<string, Lazy<Task<Reference>>> References = new(StringComparer.Ordinal);

    /// <summary>pg_restore's restore of an archive: its pg_dump and how long pg_restore -j 4 took.</summary>
    public sealed record Reference(string Dump, TimeSpan Duration);

    public static Task<Reference> ReferenceAsync(PostgresServer server, string archive) =>
        References.GetOrAdd(archive, a => new Lazy<Task<Reference>>(() => BuildReferenceAsync(server, a), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>The target's pg_dump equals pg_restore's.</summary>
    public static async Task AssertDumpMatchesReferenceAsync(PostgresServer server, string database, string archive)
    {
        var reference = await ReferenceAsync(server, archive);
        string ours = await RestoreComparison.DumpAsync(server, database);
        if (ours != reference.Dump)
        {
            Assert.Fail("pg_dump of the restore differs from pg_restore's:\n" + RestoreComparison.FirstDifference(reference.Dump, ours));
        }
    }

    /// <summary>Every table has the source's rows, none twice.</summary>
    public static async Task AssertRowsAsync(PostgresServer server, string database, Workload workload)
    {
        await using var conn = await OpenAsync(server, database);
        foreach (var (table, expected) in workload.RowCounts)
        {
            await using var cmd = new NpgsqlCommand($"SELECT count(*), count(DISTINCT id) FROM public.{table}", conn);
            await using var r = await cmd.ExecuteReaderAsync();
            Assert.True(await r.ReadAsync());
            Assert.True(expected == r.GetInt64(0), $"{table}: {r.GetInt64(0)} rows, expected {expected}");
            Assert.True(expected == r.GetInt64(1), $"{table}: {r.GetInt64(1)} distinct ids, expected {expected}");
        }
    }

    public static async Task<bool> JournalExistsAsync(PostgresServer server, string database) =>
        await server.ScalarAsync<bool>(database, "SELECT to_regnamespace('restorecluster_journal') IS NOT NULL");

    /// <summary>
    /// Our sessions on <paramref name="database"/> right now, idle ones included. Only client backends: the
    /// parallel workers of a CREATE INDEX share their leader's application_name but are no connection of ours.
    /// </summary>
    public static async Task<int> SessionsAsync(NpgsqlConnection monitor, string database)
    {
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1 AND datname = $2 AND backend_type = 'client backend'", monitor);
        cmd.Parameters.Add(new NpgsqlParameter { Value = ApplicationName });
        cmd.Parameters.Add(new NpgsqlParameter { Value = database });
        return (int)(long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Our sessions on <paramref name="database"/>, one line each (for failure messages).</summary>
    public static async Task<string> DescribeSessionsAsync(NpgsqlConnection monitor, string database)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT pid, backend_type || ' ' || coalesce(state, '-'), backend_start, left(regexp_replace(query, '\\s+', ' ', 'g'), 80) FROM pg_catalog.pg_stat_activity " +
            "WHERE application_name = $1 AND datname = $2 ORDER BY backend_start", monitor);
        cmd.Parameters.Add(new NpgsqlParameter { Value = ApplicationName });
        cmd.Parameters.Add(new NpgsqlParameter { Value = database });
        await using var r = await cmd.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await r.ReadAsync())
        {
            lines.Add($"  pid {r.GetInt32(0)} {r.GetString(1)} since {r.GetDateTime(2):HH:mm:ss.fff}: {(r.IsDBNull(3) ? "" : r.GetString(3))}");
        }

        return string.Join('\n', lines);
    }

    /// <summary>True while a restorecluster session runs the COPY into <paramref name="table"/> of the monitor's database.</summary>
    public static async Task<bool> BigCopyRunsAsync(NpgsqlConnection monitor, string table)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT count(*) FROM pg_catalog.pg_stat_progress_copy p JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid " +
            "WHERE a.application_name = $1 AND p.datname = current_database() AND p.relid = to_regclass($2) AND p.command = 'COPY FROM'",
            monitor);
        cmd.Parameters.Add(new NpgsqlParameter { Value = ApplicationName });
        cmd.Parameters.Add(new NpgsqlParameter { Value = "public." + table });
        return (long)(await cmd.ExecuteScalarAsync())! > 0;
    }

    /// <summary>
    /// Once some units of the running CLI are journaled, takes a SHARE lock on the journal's unit table in a
    /// transaction of <paramref name="holder"/>: every later unit (its journal row comes first) and the final
    /// drop wait behind it. Disposing the transaction lets them go.
    /// </summary>
    public static async Task<NpgsqlTransaction> PauseTheJournalAsync(NpgsqlConnection holder, RunningCli cli)
    {
        await WaitUntilAsync(
            async () =>
            {
                if (cli.Process.HasExited)
                {
                    Assert.Fail($"the restore ended (exit {cli.Process.ExitCode}) before its journal could be held:\n{await cli.Stderr}");
                }

                return await JournaledUnitsAsync(holder) > 0;
            },
            TimeSpan.FromSeconds(60),
            () => "a unit in the journal",
            // A small restore may go from no journaled unit to its end between two looks 50 ms apart (a CI run saw it):
            // the journal is looked at often.
            pollMs: 2);
        var hold = await holder.BeginTransactionAsync();
        await using var pause = new NpgsqlCommand("LOCK TABLE restorecluster_journal.unit IN SHARE MODE", holder);
        await pause.ExecuteNonQueryAsync();
        return hold;
    }

    /// <summary>
    /// Kills the running CLI's process tree and ends its sessions in <paramref name="target"/> (a statement held inside
    /// the server outlives its client until the server notices); returns once none is left.
    /// </summary>
    public static async Task KillAsync(RunningCli cli, NpgsqlConnection monitor, string target)
    {
        await cli.KillAsync();
        await using (var end = new NpgsqlCommand($"SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE datname = '{target}' AND application_name = '{ApplicationName}'", monitor))
        {
            await end.ExecuteScalarAsync();
        }

        await WaitUntilAsync(async () => await SessionsAsync(monitor, target) == 0, TimeSpan.FromSeconds(30), () => "the killed restore's sessions to end");
    }

    /// <summary>The units the journal in the monitor's database records as done (0 without a journal).</summary>
    public static async Task<int> JournaledUnitsAsync(NpgsqlConnection monitor)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass('restorecluster_journal.unit') IS NOT NULL", monitor);
        if (!(bool)(await exists.ExecuteScalarAsync())!)
        {
            return 0;
        }

        await using var count = new NpgsqlCommand("SELECT count(*) FROM restorecluster_journal.unit", monitor);
        return (int)(long)(await count.ExecuteScalarAsync())!;
    }

    /// <summary>A monitoring connection (not named restorecluster, so never counted).</summary>
    public static async Task<NpgsqlConnection> OpenAsync(PostgresServer server, string database)
    {
        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString(database)) { ApplicationName = "restorecluster-tests", Pooling = false };
        var conn = new NpgsqlConnection(builder.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds; fails after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe, int pollMs = 50)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"not reached within {timeout.TotalSeconds:0} s: {describe()}");
            }

            await Task.Delay(pollMs);
        }
    }

    private static async Task<Reference> BuildReferenceAsync(PostgresServer server, string archive)
    {
        string db = await server.CreateDatabaseAsync("wl_ref");
        try
        {
            var clock = Stopwatch.StartNew();
            (await server.RunToolAsync("pg_restore", ["-j", "4", "-d", db, archive], timeout: TimeSpan.FromMinutes(5))).EnsureSuccess();
            var duration = clock.Elapsed;
            return new Reference(await RestoreComparison.DumpAsync(server, db), duration);
        }
        finally
        {
            await server.DropDatabaseAsync(db);
        }
    }
}
