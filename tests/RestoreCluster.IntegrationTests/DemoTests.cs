using System.Text.RegularExpressions;
using Npgsql;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// <c>restorecluster demo</c> end to end, as a process: its own throwaway server, the sample, both restores,
/// the verification, and nothing left behind afterwards (on success, on a failed verification, on Ctrl-C and
/// SIGTERM); --keep leaves a server that answers at the printed address. The PG* variables the demo sees
/// point at nothing, so a pass also shows it ignores them. In the workload collection: the demo loads both
/// cores, which would distort the timing-sensitive restores.
/// </summary>
[Collection(WorkloadCollection.Name)]
public sealed partial class DemoTests(ITestOutputHelper output)
{
    // Small samples for the tests about failure paths: what they check does not depend on the size.
    private const string SmallScale = "3";

    [Fact]
    public async Task DemoRestoresThroughTheGrainsAndWithPgRestoreVerifiesAndLeavesNothingBehind()
    {
        using var demo = DemoProcess.Start([]);
        await demo.WaitForExitAsync();
        Report(demo);

        AssertSucceeded(demo);
        demo.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task DemoRunsAsANormalUser()
    {
        using var home = new ScratchDirectory();
        DemoProcess demo;
        if (Environment.UserName == "root")
        {
            // The built CLI sits in root's folders; the other user gets a readable copy, a home and a temp dir.
            string user = OtherUser();
            string cli = Path.Combine(home.Path, "cli");
            CopyDirectory(Path.GetDirectoryName(RepoPaths.CliDll)!, cli);
            string userHome = Directory.CreateDirectory(Path.Combine(home.Path, "home")).FullName;
            string tmp = Directory.CreateDirectory(Path.Combine(home.Path, "tmp")).FullName;
            (await ProcessRunner.RunAsync("chmod", ["-R", "a+rX", home.Path])).EnsureSuccess();
            (await ProcessRunner.RunAsync("chown", ["-R", user, userHome, tmp])).EnsureSuccess();
            demo = DemoProcess.StartCommand(
                "runuser",
                ["-u", user, "--", "env", $"HOME={userHome}", $"DOTNET_CLI_HOME={userHome}", $"TMPDIR={tmp}",
                 RepoPaths.DotnetHost, Path.Combine(cli, "restorecluster.dll"), "demo", "--scale", "20"],
                workingDirectory: home.Path);
        }
        else
        {
            demo = DemoProcess.Start(["--scale", "20"]);
        }

        using (demo)
        {
            await demo.WaitForExitAsync();
            Report(demo);

            AssertSucceeded(demo);
            demo.AssertNothingLeftBehind();
        }
    }

    [Fact]
    public async Task DemoFailsWhenTheRestoredDatabaseDiffersAndStillCleansUp()
    {
        using var demo = DemoProcess.Start(["--scale", SmallScale, "--alter-before-verify", "COMMENT ON TABLE ledger_007 IS 'changed by the test'"]);
        await demo.WaitForExitAsync();
        Report(demo);

        Assert.Equal(1, demo.ExitCode);
        Assert.DoesNotContain("verified: identical", demo.Stdout, StringComparison.Ordinal);
        string error = Assert.Single(demo.Stderr.Split('\n'), line => line.StartsWith("restorecluster: error:", StringComparison.Ordinal));
        Assert.Contains("differ at line", error, StringComparison.Ordinal);
        // The dumps first part at the added comment's header.
        Assert.Contains("TABLE ledger_007; Type: COMMENT", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", demo.Stderr, StringComparison.Ordinal);
        demo.AssertNothingLeftBehind();
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task ASignalDuringTheRestoreStopsTheDemoPromptlyAndCleansUp(string signal)
    {
        // Big enough that the restore is still running when the signal comes.
        using var demo = DemoProcess.Start(["--scale", "60"]);
        await demo.WaitForLineAsync("restoring through the grains");
        (await ProcessRunner.RunAsync("kill", [$"-{signal}", demo.Id.ToString()])).EnsureSuccess();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await demo.WaitForExitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"SIG{signal}: the demo ended {clock.Elapsed.TotalSeconds:0.0} s after the signal");
        Report(demo);

        Assert.Equal(1, demo.ExitCode);
        Assert.DoesNotContain("verified: identical", demo.Stdout, StringComparison.Ordinal);
        Assert.Contains("demo interrupted", demo.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", demo.Stderr, StringComparison.Ordinal);
        demo.AssertNothingLeftBehind();
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task KeepLeavesAServerThatAnswersAtThePrintedAddress()
    {
        using var demo = DemoProcess.Start(["--keep", "--scale", SmallScale]);
        await demo.WaitForExitAsync();
        Report(demo);
        string folder = demo.Folder ?? throw new InvalidOperationException("no folder printed");
        int pid = demo.PostmasterPid ?? throw new InvalidOperationException("no pid printed");
        try
        {
            AssertSucceeded(demo);
            var psql = PsqlLine().Match(demo.Stdout);
            Assert.True(psql.Success, $"no psql line in:\n{demo.Stdout}");
            var builder = new NpgsqlConnectionStringBuilder
            {
                Host = psql.Groups["host"].Value,
                Port = int.Parse(psql.Groups["port"].Value),
                Username = psql.Groups["user"].Value,
                Database = psql.Groups["db"].Value,
                Pooling = false,
            };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM ledger_200", connection);
            Assert.Equal(100L, await command.ExecuteScalarAsync());
            Assert.Contains($"kill -QUIT {pid}", demo.Stdout, StringComparison.Ordinal);
            Assert.Contains($"rm -rf {folder}", demo.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            // What the printed clean-up does: stop the server, then remove its folder.
            (await ProcessRunner.RunAsync("/bin/sh", ["-c", $"kill -QUIT {pid}; while kill -0 {pid} 2>/dev/null; do sleep 0.1; done; rm -rf '{folder}'"],
                timeout: TimeSpan.FromSeconds(60))).EnsureSuccess();
        }

        demo.AssertNothingLeftBehind();
    }

    private static void AssertSucceeded(DemoProcess demo)
    {
        Assert.True(demo.ExitCode == 0, $"exit {demo.ExitCode}; stderr:\n{demo.Stderr}\nstdout:\n{demo.Stdout}");
        Assert.Contains("\nverified: identical", demo.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"restorecluster restore\s+\d+\s+\d+\.\d s", demo.Stdout);
        Assert.Matches(@"pg_restore\s+\d+\s+\d+\.\d s", demo.Stdout);
    }

    private static string OtherUser() =>
        File.ReadAllLines("/etc/passwd").Any(l => l.StartsWith("postgres:", StringComparison.Ordinal)) ? "postgres" : "nobody";

    private static void CopyDirectory(string from, string to)
    {
        foreach (string dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    private void Report(DemoProcess demo) => output.WriteLine($"exit {demo.ExitCode}\nstdout:\n{demo.Stdout}\nstderr:\n{demo.Stderr}");

    [GeneratedRegex(@"psql -h (?<host>\S+) -p (?<port>\d+) -U (?<user>\S+) (?<db>\S+)")]
    private static partial Regex PsqlLine();

    /// <summary>A temp directory for one test, removed afterwards.</summary>
    private sealed class ScratchDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("restorecluster-demo-test-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
