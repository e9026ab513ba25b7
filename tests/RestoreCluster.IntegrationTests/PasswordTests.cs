using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Passwords come from the target, PGPASSWORD or a .pgpass file, as with libpq, and are never printed, nor
/// written to the log file.
/// </summary>
public sealed partial class PasswordTests : IAsyncLifetime
{
    private const string Role = "pw_restorer";
    private const string Secret = "Pg-Pass-1234";
    private PostgresServer? _server;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        await _server.ExecuteAsync("postgres", $"CREATE ROLE {Role} LOGIN SUPERUSER PASSWORD '{Secret}'");
        await _server.RequirePasswordOverTcpAsync(Role);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("pgpass")]
    [InlineData("home")]
    [InlineData("PGPASSWORD")]
    [InlineData("uri")]
    public async Task PasswordFromEachSourceLogsIn(string source)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = _server!;
        string db = await server.CreateDatabaseAsync("pw");
        string home = Directory.CreateTempSubdirectory("restorecluster-home-").FullName;
        string pgpass = Path.Combine(home, ".pgpass");
        await File.WriteAllTextAsync(pgpass, $"127.0.0.1:{server.Port}:*:{Role}:{Secret}\n");
        if (!OperatingSystem.IsWindows())
        {
            // libpq (and Npgsql) ignore a password file others can read.
            File.SetUnixFileMode(pgpass, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var env = new Dictionary<string, string> { ["PGPASSFILE"] = source == "pgpass" ? pgpass : "/nonexistent" };
        if (source == "home")
        {
            // No PGPASSFILE: the default ~/.pgpass is read.
            env.Remove("PGPASSFILE");
            env["HOME"] = home;
        }

        if (source == "PGPASSWORD")
        {
            env["PGPASSWORD"] = Secret;
        }

        string target = source == "uri"
            ? $"postgresql://{Role}:{Secret}@127.0.0.1:{server.Port}/{db}"
            : $"host=127.0.0.1 port={server.Port} user={Role} dbname={db}";

        string logFile = Path.Combine(home, "restore.log");
        var result = await CliRunner.RunAsync(["restore", "-w", "-O", "-x", "--log-file", logFile, "-d", target, fixtures["rich.custom"].Path], env);
        string log = await File.ReadAllTextAsync(logFile);
        Directory.Delete(home, recursive: true);

        Assert.True(result.ExitCode is 0 or 1, result.Describe());
        Assert.DoesNotContain("password authentication failed", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Stderr + result.StdoutText, StringComparison.Ordinal);
        Assert.Contains($"into 127.0.0.1:{server.Port}/{db} as {Role}", log, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, log, StringComparison.Ordinal);
        Assert.Equal(1L, await server.ScalarAsync<long>(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'app'"));
    }

    [Fact]
    public async Task ALogFileHoldsTheSilosStartAndTheJobsStartAndEndButNoPassword()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = _server!;
        string db = await server.CreateDatabaseAsync("pwlog");
        var directory = Directory.CreateTempSubdirectory("rc-pwlog-");
        try
        {
            // The password is on the command line, in the URI: the most a log could ever see of it.
            string logFile = Path.Combine(directory.FullName, "restore.log");
            var result = await CliRunner.RunAsync(
                ["restore", "-w", "-O", "-x", "-j", "2", "--log-file", logFile, "-d", $"postgresql://{Role}:{Secret}@127.0.0.1:{server.Port}/{db}", fixtures["latin1.custom"].Path],
                new Dictionary<string, string> { ["PGPASSFILE"] = "/nonexistent" });
            string[] log = await File.ReadAllLinesAsync(logFile);

            Assert.True(result.ExitCode == 0, result.Describe());
            // Nothing of the log on stderr: the file has it all.
            Assert.True(result.Stderr.Length == 0, result.Stderr);
            Assert.Contains(log, l => Record().IsMatch(l) && l.Contains(" info Orleans.Runtime.Silo[", StringComparison.Ordinal) && l.Contains("Started silo", StringComparison.Ordinal));
            string started = Assert.Single(log, l => l.Contains(" info RestoreCluster.Grains.CoordinatorGrain[100]: job ", StringComparison.Ordinal));
            Assert.Matches(Record(), started);
            Assert.Contains($" started: {fixtures["latin1.custom"].Path} into 127.0.0.1:{server.Port}/{db} as {Role}, ", started, StringComparison.Ordinal);
            string ended = Assert.Single(log, l => l.Contains(" info RestoreCluster.Grains.CoordinatorGrain[101]: job ", StringComparison.Ordinal));
            Assert.Contains(" ended succeeded after ", ended, StringComparison.Ordinal);
            Assert.True(Array.IndexOf(log, started) < Array.IndexOf(log, ended), "the job's end was logged before its start");
            Assert.DoesNotContain(log, l => l.Contains(Secret, StringComparison.Ordinal));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task DashCapitalWAsksForThePasswordOnTheTerminal()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = _server!;
        string db = await server.CreateDatabaseAsync("pwprompt");
        // script(1) gives the CLI a terminal; what is typed comes from its stdin.
        string command = string.Join(' ', new[]
        {
            RepoPaths.DotnetHost, RepoPaths.CliDll, "restore", "-W", "-O", "-x", "--progress", "none",
            "-d", $"'host=127.0.0.1 port={server.Port} user={Role} dbname={db}'", fixtures["latin1.custom"].Path,
        });

        var result = await ProcessRunner.RunAsync(
            "script", ["-q", "-e", "-c", command, "/dev/null"],
            new Dictionary<string, string> { ["PGPASSFILE"] = "/nonexistent" },
            stdin: System.Text.Encoding.UTF8.GetBytes(Secret + "\r"),
            timeout: TimeSpan.FromMinutes(1));

        Assert.True(result.ExitCode == 0, result.Describe());
        // The terminal may echo what was typed before the prompt switched echo off; after it, nothing shows it.
        int prompt = result.StdoutText.IndexOf("Password:", StringComparison.Ordinal);
        Assert.True(prompt >= 0, result.Describe());
        Assert.DoesNotContain(Secret, result.StdoutText[prompt..], StringComparison.Ordinal);
        Assert.True(await server.ScalarAsync<long>(db, "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace <> 'pg_catalog'::regnamespace AND relnamespace <> 'information_schema'::regnamespace") > 0);
    }

    [Fact]
    public async Task WrongPasswordIsOneLineWithoutIt()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = _server!;

        var result = await CliRunner.RunAsync(
            ["restore", "-w", "-d", $"postgresql://{Role}:wrong-{Secret}@127.0.0.1:{server.Port}/postgres", fixtures["rich.custom"].Path],
            new Dictionary<string, string> { ["PGPASSFILE"] = "/nonexistent" });

        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("password authentication failed", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Stderr, StringComparison.Ordinal);
    }

    // A record's first line: its UTC time, level, category and event id.
    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z]+ [\w.]+\[\d+\]: ")]
    private static partial Regex Record();
}
