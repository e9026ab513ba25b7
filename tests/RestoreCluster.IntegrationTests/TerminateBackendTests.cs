using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Sessions lost in the middle of a unit (pg_terminate_backend on a backend running a COPY, CREATE INDEX or
/// ALTER TABLE) roll that unit back and it is retried with bounded backoff: the restore still ends well,
/// with pg_restore's database, no row twice, and the retries counted in the progress events.
/// </summary>
[Collection(WorkloadCollection.Name)]
public sealed class TerminateBackendTests(ITestOutputHelper output)
{
    private const int Terminations = 3;

    [Fact]
    public async Task ThreeTerminatedUnitSessionsAreRetriedAndTheRestoreStillMatchesPgRestore()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        await WorkloadChecks.ReferenceAsync(server, workload.CustomArchive);
        var undisturbed = await UndisturbedRunAsync(server, workload);
        // Backoff is bounded: three lost units cost little next to an undisturbed run.
        var limit = (undisturbed * 3) + TimeSpan.FromSeconds(30);
        string target = await server.CreateDatabaseAsync("terminate");
        try
        {
            var clock = Stopwatch.StartNew();
            var restore = CliRunner.RunAsync(server, ["restore", "-j", "4", "--progress", "json", "-d", target, workload.CustomArchive], timeout: limit);
            var killed = await TerminateUnitSessionsAsync(server, target, restore);
            var result = await restore;
            output.WriteLine($"restore -j 4 with {killed.Count} sessions terminated: exit {result.ExitCode} in {clock.Elapsed.TotalSeconds:0.0} s (limit {limit.TotalSeconds:0} s)");
            foreach (string k in killed)
            {
                output.WriteLine("terminated: " + k);
            }

            output.WriteLine("stderr:\n" + result.Stderr);

            Assert.False(result.TimedOut, $"the restore did not end within {limit.TotalSeconds:0} s\n{result.Describe()}");
            Assert.True(result.ExitCode == 0, result.Describe());
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);

            var end = LastEvent(result.StdoutText);
            output.WriteLine("end event: " + end.GetRawText());
            Assert.Equal("end", end.GetProperty("event").GetString());
            Assert.Equal(0, end.GetProperty("errors").GetInt32());
            Assert.Equal(end.GetProperty("unitsTotal").GetInt32(), end.GetProperty("unitsDone").GetInt32());
            int retries = end.GetProperty("retries").GetInt32();
            Assert.True(retries >= Terminations, $"{Terminations} sessions were terminated but the end event counts {retries} retries");

            Assert.False(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is left after the restore ended");
            await WorkloadChecks.AssertRowsAsync(server, target, workload);
            await WorkloadChecks.AssertDumpMatchesReferenceAsync(server, target, workload.CustomArchive);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    private async Task<TimeSpan> UndisturbedRunAsync(PostgresServer server, Workload workload)
    {
        string target = await server.CreateDatabaseAsync("undisturbed");
        try
        {
            var result = await CliRunner.RunAsync(server, ["restore", "-j", "4", "--progress", "json", "-d", target, workload.CustomArchive], timeout: TimeSpan.FromMinutes(3));
            Assert.True(result.ExitCode == 0, result.Describe());
            output.WriteLine($"undisturbed restore -j 4: {result.Duration.TotalSeconds:0.0} s");
            return result.Duration;
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    // Three times: wait for a session of ours that is running a unit's COPY, CREATE INDEX or ALTER TABLE (a
    // backend not terminated before) and terminate it; picking and terminating is one statement.
    private static async Task<List<string>> TerminateUnitSessionsAsync(PostgresServer server, string target, Task restore)
    {
        var killed = new List<string>();
        var pids = new List<int>();
        await using var monitor = await WorkloadChecks.OpenAsync(server, "postgres");
        while (killed.Count < Terminations)
        {
            string? victim = null;
            await WorkloadChecks.WaitUntilAsync(
                async () =>
                {
                    Assert.False(restore.IsCompleted, $"the restore ended after only {killed.Count} terminations: {string.Join("; ", killed)}");
                    victim = await TerminateOneAsync(monitor, target, pids);
                    return victim is not null;
                },
                TimeSpan.FromSeconds(60),
                () => $"a restorecluster session running a unit (after {killed.Count} terminations)");
            killed.Add(victim!);
        }

        return killed;
    }

    private static async Task<string?> TerminateOneAsync(NpgsqlConnection monitor, string target, List<int> done)
    {
        await using var cmd = new NpgsqlCommand(
            """
            WITH victim AS MATERIALIZED (
                SELECT pid, left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query
                FROM pg_catalog.pg_stat_activity
                WHERE application_name = $1 AND datname = $2 AND backend_type = 'client backend' AND state = 'active'
                  AND (query LIKE 'COPY %' OR query LIKE 'CREATE INDEX%' OR query LIKE 'ALTER TABLE%')
                  AND pid <> ALL ($3)
                ORDER BY query_start
                LIMIT 1)
            SELECT pid, query, pg_catalog.pg_terminate_backend(pid) FROM victim
            """,
            monitor);
        cmd.Parameters.Add(new NpgsqlParameter { Value = WorkloadChecks.ApplicationName });
        cmd.Parameters.Add(new NpgsqlParameter { Value = target });
        cmd.Parameters.Add(new NpgsqlParameter { Value = done.ToArray() });
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync())
        {
            return null;
        }

        int pid = r.GetInt32(0);
        string query = r.GetString(1);
        Assert.True(r.GetBoolean(2), $"pg_terminate_backend({pid}) returned false for a session running: {query}");
        done.Add(pid);
        return $"pid {pid}: {query}";
    }

    private static JsonElement LastEvent(string stdout)
    {
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 0, "no progress events on stdout");
        using var doc = JsonDocument.Parse(lines[^1]);
        return doc.RootElement.Clone();
    }
}
