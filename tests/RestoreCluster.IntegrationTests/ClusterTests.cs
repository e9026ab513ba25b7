using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// The cluster end to end with real processes: cluster init, two silo processes, submit, wait, status; and the
/// client commands' one-line failures (no cluster database, an uninitialised one, no silo, an unknown job).
/// </summary>
public sealed class ClusterTests
{
    [Fact]
    public async Task TwoSilosRestoreASubmittedJobLikePgRestoreAndStatusShowsItDone()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures["rich.custom"].Path;
        string target = await server.CreateDatabaseAsync("cluster_rc");
        string reference = await server.CreateDatabaseAsync("cluster_pg");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2);
        try
        {
            var submit = await cluster.RunAsync(["submit", "-j", "2", "-d", target, archive]);
            Assert.True(submit.ExitCode == 0, submit.Describe());
            string job = submit.StdoutText.TrimEnd('\n').Split('\n')[^1];
            Assert.StartsWith("job-", job, StringComparison.Ordinal);

            var wait = await cluster.RunAsync(["wait", job]);
            var pgRestore = await server.RunToolAsync("pg_restore", ["-j", "2", "-d", reference, archive], timeout: TimeSpan.FromMinutes(3));

            Assert.True(wait.ExitCode == pgRestore.ExitCode, $"wait exit {wait.ExitCode}, pg_restore {pgRestore.ExitCode}\n{wait.Describe()}");
            Assert.Equal(await RestoreComparison.DumpAsync(server, reference), await RestoreComparison.DumpAsync(server, target));
            var status = await cluster.StatusAsync();
            var done = Assert.Single(status.GetProperty("jobs").EnumerateArray());
            Assert.Equal(job, done.GetProperty("id").GetString());
            Assert.Equal("done", done.GetProperty("state").GetString());
            Assert.Equal(done.GetProperty("unitsTotal").GetInt32(), done.GetProperty("unitsDone").GetInt32());
            Assert.Equal("s0,s1", string.Join(",", status.GetProperty("silos").EnumerateArray().Select(s => s.GetProperty("name").GetString())));
            Assert.Equal(2, Assert.Single(status.GetProperty("hosts").EnumerateArray()).GetProperty("budget").GetInt32());
        }
        finally
        {
            await server.DropDatabaseAsync(target);
            await server.DropDatabaseAsync(reference);
        }
    }

    [Fact]
    public async Task ClientCommandsFailInOneLineWithoutAClusterDatabaseOrSilosOrJob()
    {
        var server = await PostgresServer.GetSharedAsync();
        string bare = await server.CreateDatabaseAsync("cluster_bare");
        try
        {
            var noCluster = await CliRunner.RunAsync(server, ["status"], new Dictionary<string, string> { ["RESTORECLUSTER_CLUSTER"] = "" });
            var unreachable = await CliRunner.RunAsync(server, ["status", "--cluster", "Host=127.0.0.1;Port=1;Database=x;Username=u"], timeout: TimeSpan.FromSeconds(30));
            var uninitialised = await CliRunner.RunAsync(server, ["status", "--cluster", bare], timeout: TimeSpan.FromSeconds(30));
            var init = await CliRunner.RunAsync(server, ["cluster", "init", "--cluster", bare]);
            var noSilo = await CliRunner.RunAsync(server, ["status"], new Dictionary<string, string> { ["RESTORECLUSTER_CLUSTER"] = bare }, timeout: TimeSpan.FromSeconds(60));

            Assert.Equal(2, noCluster.ExitCode);
            Assert.StartsWith("restorecluster: error: no cluster database", noCluster.Stderr, StringComparison.Ordinal);
            AssertOneLineError(unreachable, "could not connect to the cluster database 127.0.0.1:1/x as u");
            AssertOneLineError(uninitialised, "is not initialised");
            Assert.True(init.ExitCode == 0, init.Describe());
            AssertOneLineError(noSilo, "no silo of the cluster");
        }
        finally
        {
            await server.DropDatabaseAsync(bare);
        }
    }

    [Fact]
    public async Task AnUnknownJobIsOneLineErrorAndStatusAnswersWithNoJobs()
    {
        var server = await PostgresServer.GetSharedAsync();
        await using var cluster = await SiloCluster.StartAsync(server, silos: 1);

        var status = await cluster.RunAsync(["status"]);
        var wait = await cluster.RunAsync(["wait", "job-unknown"]);
        var cancel = await cluster.RunAsync(["cancel", "job-unknown"]);

        Assert.True(status.ExitCode == 0, status.Describe());
        Assert.StartsWith("jobs: 0\n", status.StdoutText, StringComparison.Ordinal);
        Assert.Contains("\nsilos: 1\n  s0  127.0.0.1:", status.StdoutText, StringComparison.Ordinal);
        AssertOneLineError(wait, "no job \"job-unknown\" in the cluster");
        AssertOneLineError(cancel, "no job \"job-unknown\" in the cluster");
    }

    [Fact]
    public async Task RestoreWithoutClusterRunsEmbeddedEvenWhenTheClusterVariableIsSet()
    {
        // cli.md: "Without --cluster it runs on an embedded single-node cluster"; RESTORECLUSTER_CLUSTER is only --cluster's default.
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string target = await server.CreateDatabaseAsync("cluster_env");
        try
        {
            var restore = await CliRunner.RunAsync(
                server, ["restore", "-j", "2", "--progress", "none", "-d", target, fixtures["rich.custom"].Path],
                new Dictionary<string, string> { ["RESTORECLUSTER_CLUSTER"] = "Host=127.0.0.1;Port=1;Database=nowhere;Username=nobody" });

            Assert.True(restore.ExitCode is 0 or 1, restore.Describe());
            Assert.DoesNotContain("cluster", restore.Stderr, StringComparison.Ordinal);
            Assert.True(await server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')") > 0, "nothing was restored");
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    private static void AssertOneLineError(ProcessResult result, string expected)
    {
        Assert.True(result.ExitCode == 1, result.Describe());
        string[] lines = result.Stderr.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1, result.Stderr);
        Assert.StartsWith("restorecluster: error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }
}
