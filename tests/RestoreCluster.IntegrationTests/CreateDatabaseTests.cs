using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>-C creates the archive's database, reconnects to it and restores there, as pg_restore -C does.</summary>
public sealed class CreateDatabaseTests
{
    [Theory]
    [InlineData("-C")]
    [InlineData("-C -c --if-exists")]
    public async Task CreateDatabaseGivesTheSameDatabaseAsPgRestore(string options)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var archive = fixtures["rich.custom"];
        await using var server = await PostgresServer.StartAsync();
        await fixtures.PrepareTargetRolesAsync(server);
        string[] opts = options.Split(' ');
        string created = archive.SourceDatabase;

        var reference = await server.RunToolAsync("pg_restore", [.. opts, "-d", "postgres", archive.Path]);
        string referenceDump = await RestoreComparison.DumpAsync(server, created);
        await server.DropDatabaseAsync(created);
        var ours = await CliRunner.RunAsync(server, ["restore", .. opts, "-d", "postgres", archive.Path]);
        string ourDump = await RestoreComparison.DumpAsync(server, created);

        Assert.True(ours.ExitCode == reference.ExitCode, ours.Describe() + "\n" + reference.Describe());
        Assert.Equal(referenceDump, ourDump);
        Assert.Equal(0L, await server.ScalarAsync<long>("postgres", "select count(*) from pg_namespace where nspname = 'app'"));
    }
}
