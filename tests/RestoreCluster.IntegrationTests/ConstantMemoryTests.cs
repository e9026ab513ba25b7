using System.Globalization;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Table data streams through in constant memory: restoring an archive whose table holds 2 GB takes no more
/// memory than one whose table holds 200 MB (peak resident set size of the restorecluster process, measured
/// by GNU time). Slow: it generates, dumps and restores 2.2 GB.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ConstantMemoryTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public async Task PeakMemoryDoesNotGrowWithTheTable()
    {
        var server = await PostgresServer.GetSharedAsync();
        var work = Directory.CreateTempSubdirectory("restorecluster-memory-");
        try
        {
            var small = await MeasureAsync(server, work.FullName, 200 * MiB);
            var large = await MeasureAsync(server, work.FullName, 2048 * MiB);
            output.WriteLine($"200 MB table: restore -d peak {small.Database / MiB} MiB, restore -f peak {small.Script / MiB} MiB");
            output.WriteLine($"2 GB table:   restore -d peak {large.Database / MiB} MiB, restore -f peak {large.Script / MiB} MiB");

            // Ten times the data may not cost more than a small, fixed allowance of memory.
            Assert.True(large.Database < small.Database + (48 * MiB), $"restore -d: {small.Database / MiB} MiB for 200 MB, {large.Database / MiB} MiB for 2 GB");
            Assert.True(large.Script < small.Script + (48 * MiB), $"restore -f: {small.Script / MiB} MiB for 200 MB, {large.Script / MiB} MiB for 2 GB");
            Assert.True(large.Database < 400 * MiB, $"restore -d of a 2 GB table peaked at {large.Database / MiB} MiB");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private async Task<(long Database, long Script)> MeasureAsync(PostgresServer server, string work, long bytes)
    {
        // Rows of about 200 bytes of text each.
        long rows = bytes / 200;
        string source = await server.CreateDatabaseAsync("memsrc");
        await server.ExecuteAsync(source,
            "CREATE TABLE big (id bigint, payload text); " +
            $"INSERT INTO big SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, {rows.ToString(CultureInfo.InvariantCulture)}) g");
        string archive = Path.Combine(work, $"big-{bytes / MiB}.dump");
        (await server.RunToolAsync("pg_dump", ["-Fc", "-Z1", "-f", archive, "-d", source], timeout: TimeSpan.FromMinutes(15))).EnsureSuccess();
        await server.DropDatabaseAsync(source);

        string target = await server.CreateDatabaseAsync("memdst");
        long database = await PeakAsync(server, ["restore", "-d", target, archive]);
        Assert.Equal(rows, await server.ScalarAsync<long>(target, "SELECT count(*) FROM big"));
        await server.DropDatabaseAsync(target);
        long script = await PeakAsync(server, ["restore", "-f", "/dev/null", archive]);
        File.Delete(archive);
        return (database, script);
    }

    // GNU time reports the maximum resident set size of the process it ran, in KiB.
    private static async Task<long> PeakAsync(PostgresServer server, string[] args)
    {
        string report = Path.GetTempFileName();
        var env = server.LibpqEnvironment();
        var result = await ProcessRunner.RunAsync(
            "/usr/bin/time", ["-f", "%M", "-o", report, RepoPaths.DotnetHost, RepoPaths.CliDll, .. args], env, timeout: TimeSpan.FromMinutes(20));
        Assert.True(result.ExitCode == 0, result.Describe());
        long kib = long.Parse(File.ReadAllText(report).Trim(), CultureInfo.InvariantCulture);
        File.Delete(report);
        return kib * 1024;
    }
}
