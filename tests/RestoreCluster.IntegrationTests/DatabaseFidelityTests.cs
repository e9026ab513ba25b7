using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// restorecluster restore -d gives the same database as pg_restore -d: compared through pg_dump, for every
/// fixture archive pg_dump 15 made, with the same exit code.
/// </summary>
public sealed class DatabaseFidelityTests
{
    public static TheoryData<string> Archives()
    {
        var data = new TheoryData<string>();
        foreach (string fixture in new[] { "rich", "nasty", "latin1" })
        {
            foreach (var kind in Enum.GetValues<FixtureArchiveKind>())
            {
                data.Add($"{fixture}.{FixtureArchive.VariantOf(kind)}");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Archives))]
    public async Task RestoredDatabaseDumpsLikePgRestoresOne(string name)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var archive = fixtures[name];

        var outcome = await RestoreComparison.RunAsync(fixtures.Server, archive.Path, [], "fid");

        RestoreComparison.AssertSame(outcome);
        Assert.Equal(0, outcome.Ours.ExitCode);
        Assert.Contains("COPY ", outcome.OurDump, StringComparison.Ordinal);
    }

    public static TheoryData<string> OptionSets() =>
    [
        "-O -x",
        "-s",
        "-a",
        "--section=pre-data --section=data",
        "-n app",
        "-t customers",
        "--no-comments",
        "-1",
        "--use-set-session-authorization",
        "--no-data-for-failed-tables",
    ];

    [Theory]
    [MemberData(nameof(OptionSets))]
    public async Task RestoreWithOptionsDumpsLikePgRestore(string options)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var archive = fixtures["rich.custom"];

        var outcome = await RestoreComparison.RunAsync(fixtures.Server, archive.Path, options.Split(' '), "opt");

        RestoreComparison.AssertSame(outcome);
    }

    [Fact]
    public async Task CleanIfExistsOverAnEarlierRestoreDumpsLikePgRestore()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures["rich.directory"].Path;
        string refDb = await server.CreateDatabaseAsync("clean_pg");
        string ourDb = await server.CreateDatabaseAsync("clean_rc");
        (await server.RunToolAsync("pg_restore", ["-d", refDb, archive])).EnsureSuccess();
        (await server.RunToolAsync("pg_restore", ["-d", ourDb, archive])).EnsureSuccess();

        var reference = await server.RunToolAsync("pg_restore", ["-c", "--if-exists", "-d", refDb, archive]);
        var ours = await CliRunner.RunAsync(server, ["restore", "-c", "--if-exists", "-d", ourDb, archive]);

        Assert.Equal(reference.ExitCode, ours.ExitCode);
        Assert.Equal(await RestoreComparison.DumpAsync(server, refDb), await RestoreComparison.DumpAsync(server, ourDb));
        Assert.Equal(1L, await server.ScalarAsync<long>(ourDb, "select count(*) from app.customers where id = 1"));
    }

    [Fact]
    public async Task TargetGivenAsUriKeyValueStringOrEnvironmentReachesTheSameDatabase()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures["rich.custom"].Path;
        string viaUri = await server.CreateDatabaseAsync("uri");
        string viaKeyValue = await server.CreateDatabaseAsync("kv");
        string viaEnv = await server.CreateDatabaseAsync("env");
        string host = server.SocketDirectory ?? server.Host;

        var uri = await CliRunner.RunAsync(
            ["restore", "-d", $"postgresql://{server.UserName}@/{viaUri}?host={Uri.EscapeDataString(host)}&port={server.Port}", archive]);
        var keyValue = await CliRunner.RunAsync(
            ["restore", "-d", $"dbname={viaKeyValue} host='{host}' port={server.Port} user={server.UserName}", archive]);
        var env = await CliRunner.RunAsync(
            ["restore", "-d", viaEnv, archive],
            env: new Dictionary<string, string> { ["PGHOST"] = host, ["PGPORT"] = server.Port.ToString(), ["PGUSER"] = server.UserName });

        foreach (var r in new[] { uri, keyValue, env })
        {
            Assert.True(r.ExitCode == 0, r.Describe());
        }

        string expected = await RestoreComparison.DumpAsync(server, viaUri);
        Assert.Equal(expected, await RestoreComparison.DumpAsync(server, viaKeyValue));
        Assert.Equal(expected, await RestoreComparison.DumpAsync(server, viaEnv));
        Assert.Equal(2L, await server.ScalarAsync<long>(viaEnv, "select count(*) from pg_namespace where nspname in ('app', 'audit')"));
    }
}
