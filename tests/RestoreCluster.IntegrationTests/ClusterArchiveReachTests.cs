using System.Diagnostics;
using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A silo that cannot see the archive's folder (it runs in a mount namespace where an empty folder is mounted over it, as
/// on a machine where the shared filesystem is not mounted): it says so once, takes none of the job's units and status
/// names it with its reason; the job ends as pg_restore's on the silos that can read it. When no live silo can read the
/// archive, the job fails in one line naming the archive and the silos instead of waiting.
/// </summary>
[Collection(WorkloadCollection.Name)]
[Trait("Category", "Slow")]
public sealed class ClusterArchiveReachTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ASiloThatCannotSeeTheArchiveSaysSoTakesNoUnitsAndTheJobEndsLikePgRestore()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures["rich.custom"].Path;
        string target = await server.CreateDatabaseAsync("reach_rc");
        string reference = await server.CreateDatabaseAsync("reach_pg");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2, hidden: new Dictionary<string, string> { ["s1"] = Path.GetDirectoryName(archive)! });
        try
        {
            string job = await cluster.SubmitOverTcpAsync(target, archive);
            var wait = await cluster.RunAsync(["wait", job]);
            var status = await cluster.StatusAsync(job);
            var text = await cluster.RunAsync(["status", job]);
            var pgRestore = await server.RunToolAsync("pg_restore", ["-j", "2", "-d", reference, archive], timeout: TimeSpan.FromMinutes(3));

            Assert.True(wait.ExitCode == pgRestore.ExitCode, $"wait exit {wait.ExitCode}, pg_restore {pgRestore.ExitCode}\n{wait.Describe()}");
            Assert.Equal(await RestoreComparison.DumpAsync(server, reference), await RestoreComparison.DumpAsync(server, target));
            var done = Assert.Single(status.GetProperty("jobs").EnumerateArray());
            Assert.Equal("done", done.GetProperty("state").GetString());
            // The coordinator reads the TOC on its silo: it was placed on the one that can read the archive.
            Assert.Equal("s0", done.GetProperty("coordinator").GetString());
            var blind = Assert.Single(done.GetProperty("unreadable").EnumerateArray());
            Assert.Equal("s1", blind.GetProperty("silo").GetString());
            Assert.Contains(archive, blind.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Contains($"silo s1 cannot read the archive: could not open input file \"{archive}\"", text.StdoutText, StringComparison.Ordinal);
            // The blind silo said so once, and opened no session on the target: it ran none of the job's units.
            string[] said = cluster.Silo("s1").StderrLines.Where(l => l.Contains($"silo s1 cannot read the archive {archive} of job {job}", StringComparison.Ordinal)).ToArray();
            Assert.True(said.Length == 1, string.Join('\n', cluster.Silo("s1").StderrLines));
            Assert.DoesNotContain(cluster.Silo("s0").StderrLines, l => l.Contains("cannot read the archive", StringComparison.Ordinal));
            Assert.Empty(done.GetProperty("ranAgain").EnumerateArray());
        }
        finally
        {
            await server.DropDatabaseAsync(target);
            await server.DropDatabaseAsync(reference);
        }
    }

    [Fact]
    public async Task WhenTheOnlySiloThatCanReadTheArchiveDiesTheJobFailsInOneLineNamingTheArchiveAndTheOtherSilo()
    {
        var server = await PostgresServer.GetSharedAsync();
        var workload = await WorkloadArchives.GetAsync();
        string archive = workload.CustomArchive;
        string target = await server.CreateDatabaseAsync("reach_none");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2, hidden: new Dictionary<string, string> { ["s1"] = Path.GetDirectoryName(archive)! });
        try
        {
            string job = await cluster.SubmitOverTcpAsync(target, archive);
            await WorkloadChecks.WaitUntilAsync(
                async () => (await cluster.StatusAsync(job)).GetProperty("jobs")[0].GetProperty("unreadable").GetArrayLength() == 1,
                TimeSpan.FromSeconds(60), () => "s1 to say it cannot read the archive");
            cluster.Silo("s0").Process.Kill(entireProcessTree: true);
            var clock = Stopwatch.StartNew();

            var wait = await cluster.RunAsync(["wait", job]);
            output.WriteLine($"wait ended {clock.Elapsed.TotalSeconds:0.0} s after the kill: {wait.Stderr}");

            Assert.Equal(1, wait.ExitCode);
            Assert.Matches($"^restorecluster: error: no live silo can read the archive \"{Regex.Escape(archive)}\" \\(s1: could not open input file [^\n]*\\)\n$", wait.Stderr);
            var failed = Assert.Single((await cluster.StatusAsync(job)).GetProperty("jobs").EnumerateArray());
            Assert.Equal("failed", failed.GetProperty("state").GetString());
            Assert.StartsWith("no live silo can read the archive", failed.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }

    [Fact]
    public async Task SubmitRefusesInOneLineAnArchiveNoSiloCanRead()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures["rich.custom"].Path;
        string folder = Path.GetDirectoryName(archive)!;
        string target = await server.CreateDatabaseAsync("reach_refused");
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2, hidden: new Dictionary<string, string> { ["s0"] = folder, ["s1"] = folder });
        try
        {
            var submit = await cluster.RunAsync(["submit", "-j", "2", "-d", target, archive]);

            Assert.Equal(1, submit.ExitCode);
            Assert.Matches($"^restorecluster: error: no silo of the cluster can read the archive \"{Regex.Escape(archive)}\" \\(s0: [^\n]*; s1: [^\n]*\\)\n$", submit.Stderr);
            Assert.Equal(0, (await cluster.StatusAsync()).GetProperty("jobs").GetArrayLength());
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }
}
