using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A fleet end to end with real processes (docs/fleet.md): submit --manifest through a 2-silo cluster, the globals
/// file of a real pg_dumpall 15.18 run first, wait FLEET, budget set, status; and a manifest with each kind of error
/// refused with its lines and columns, with nothing submitted.
/// </summary>
public sealed class FleetTests
{
    [Fact]
    public async Task AFleetOfThreeRestoresRunsThroughTwoSilosLikePgRestoreAndWaitFollowsItToTheEnd()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string[] archives = [fixtures["rich.custom"].Path, fixtures["nasty.custom"].Path, fixtures["rich.tar"].Path];
        var targets = new List<string>();
        var references = new List<string>();
        await using var cluster = await SiloCluster.StartAsync(server, silos: 2);
        using var folder = new TempFolder();
        try
        {
            for (int i = 0; i < archives.Length; i++)
            {
                targets.Add(await server.CreateDatabaseAsync($"fleet{i}_rc"));
                references.Add(await server.CreateDatabaseAsync($"fleet{i}_pg"));
            }

            string globals = Path.Combine(RepoPaths.FixturesDirectory, "globals", "pg_dumpall-15.18-globals.sql");
            string manifest = folder.Write("fleet.yaml", $"""
                defaults:
                  options: ["-j", "2"]
                hosts:
                  - host: 127.0.0.1
                    port: {server.Port}
                    budget: 2
                    globals: {globals}
                restores:
                {string.Concat(archives.Select((a, i) => $"  - archive: {a}\n    target: \"host=127.0.0.1 port={server.Port} dbname={targets[i]}\"\n    priority: {i}\n"))}
                """);

            var submit = await cluster.RunAsync(["submit", "--manifest", manifest]);
            Assert.True(submit.ExitCode == 0, submit.Describe());
            string[] lines = submit.StdoutText.TrimEnd('\n').Split('\n');
            Assert.Equal(3, lines.Length);
            for (int i = 0; i < 3; i++)
            {
                Assert.StartsWith($"{archives[i]} -> 127.0.0.1:{server.Port}/{targets[i]} as ", lines[i], StringComparison.Ordinal);
                Assert.Matches(" job-[0-9a-f]{32}$", lines[i]);
            }

            string fleet = Assert.Single(submit.Stderr.Split('\n'), l => l.StartsWith("fleet: ", StringComparison.Ordinal))["fleet: ".Length..];
            Assert.Contains("globals ", submit.Stderr, StringComparison.Ordinal);

            var wait = await cluster.RunAsync(["wait", fleet]);
            var pgRestores = new List<ProcessResult>();
            for (int i = 0; i < 3; i++)
            {
                // pg_restore runs a tar archive serially only ("parallel restore from tar archive is not supported").
                string[] jobs = archives[i].EndsWith(".tar", StringComparison.Ordinal) ? [] : ["-j", "2"];
                pgRestores.Add(await server.RunToolAsync("pg_restore", [.. jobs, "-d", references[i], archives[i]], timeout: TimeSpan.FromMinutes(3)));
            }

            string[] ends = wait.StdoutText.TrimEnd('\n').Split('\n');
            Assert.True(ends.Length == 3, wait.Describe());
            bool allClean = pgRestores.All(r => r.ExitCode == 0);
            Assert.True(wait.ExitCode == (allClean ? 0 : 1), wait.Describe() + string.Concat(pgRestores.Select(r => "\n" + r.Describe())));
            foreach (string job in lines.Select(l => l[^36..]))
            {
                string end = Assert.Single(ends, e => e.StartsWith(job + "  ", StringComparison.Ordinal));
                Assert.Matches(@"^job-[0-9a-f]{32}  (done|done with errors)  \d+\.\d s  \d+ errors? ", end);
            }

            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(await RestoreComparison.DumpAsync(server, references[i]), await RestoreComparison.DumpAsync(server, targets[i]));
            }

            // budget set finds the server by the manifest's name for it; status shows the new budget.
            var budget = await cluster.RunAsync(["budget", "set", $"127.0.0.1:{server.Port}", "1"]);
            Assert.True(budget.ExitCode == 0, budget.Describe());
            Assert.Contains("budget 2 -> 1", budget.StdoutText, StringComparison.Ordinal);
            var status = await cluster.StatusAsync();
            Assert.Equal(1, Assert.Single(status.GetProperty("hosts").EnumerateArray()).GetProperty("budget").GetInt32());
            Assert.Equal(3, status.GetProperty("jobs").EnumerateArray().Count(j => j.GetProperty("fleet").GetString() == fleet));
        }
        finally
        {
            foreach (string db in targets.Concat(references))
            {
                await server.DropDatabaseAsync(db);
            }
        }
    }

    [Fact]
    public async Task AManifestWithEachKindOfErrorIsRefusedWithLineAndColumnAndNothingIsSubmitted()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures["rich.custom"].Path;
        string cluster = await ClusterDatabaseWithoutSilosAsync(server, "fleet_refused");
        using var folder = new TempFolder();
        try
        {
            folder.Write("notes.txt", "not an archive\n");
            string manifest = folder.Write("bad.yaml", $"""
                hosts:
                  - host: 127.0.0.1
                    port: {server.Port}
                    budget: 2
                    globals: missing-globals.sql
                restores:
                  - archive: {archive}
                    target: "host=127.0.0.1 port={server.Port} dbname=a"
                    prority: 3
                  - archive: missing.dump
                    target: "host=127.0.0.1 port={server.Port} dbname=b"
                  - archive: notes.txt
                    target: "host=127.0.0.1 port={server.Port} dbname=c"
                  - archive: {archive}
                    target: "host=127.0.0.1 port={server.Port} dbname=d"
                  - archive: {archive}
                    target: "host=127.0.0.1 port={server.Port} dbname=d"
                  - archive: {archive}
                    target: "host=127.0.0.1 port={server.Port} dbname=e"
                    options: ["--if-exists"]
                """);

            var submit = await CliRunner.RunAsync(server, ["submit", "--manifest", manifest, "--cluster", cluster]);

            await AssertNothingSubmittedAsync(server, cluster, submit);
            Assert.DoesNotContain("   at ", submit.Stderr, StringComparison.Ordinal);
            string[] errors = submit.Stderr.TrimEnd('\n').Split('\n');
            Assert.All(errors, e => Assert.StartsWith("restorecluster: error: ", e, StringComparison.Ordinal));
            string at = $"restorecluster: error: {manifest}:";
            Assert.Contains(errors, e => e.StartsWith(at + "5:14: cannot read globals file \"missing-globals.sql\"", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.StartsWith(at + "9:5: unknown key 'prority'", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.StartsWith(at + "10:14: archive \"missing.dump\" does not exist", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.StartsWith(at + "12:14: archive \"notes.txt\" cannot be read", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.StartsWith(at + $"17:13: target 127.0.0.1:{server.Port}/d is listed twice (first at line 15)", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.StartsWith(at + "20:14: restore would refuse these options: option --if-exists requires option -c/--clean", StringComparison.Ordinal));
            Assert.Equal("restorecluster: error: the manifest was refused (6 problems); nothing was submitted", errors[^1]);
        }
        finally
        {
            await server.DropDatabaseAsync(cluster);
        }
    }

    [Fact]
    public async Task AnUnreachableTargetRefusesTheFleetBeforeAnythingIsSubmitted()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string cluster = await ClusterDatabaseWithoutSilosAsync(server, "fleet_unreachable");
        using var folder = new TempFolder();
        try
        {
            string manifest = folder.Write("fleet.yaml", $"""
                restores:
                  - archive: {fixtures["rich.custom"].Path}
                    target: "host=127.0.0.1 port={server.Port} dbname=postgres"
                  - archive: {fixtures["nasty.custom"].Path}
                    target: "host=127.0.0.1 port=1 dbname=nowhere"
                """);

            var submit = await CliRunner.RunAsync(server, ["submit", "--manifest", manifest, "--cluster", cluster], timeout: TimeSpan.FromMinutes(2));

            await AssertNothingSubmittedAsync(server, cluster, submit);
            Assert.Contains($"restorecluster: error: {manifest}:4:5: ", submit.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await server.DropDatabaseAsync(cluster);
        }
    }

    [Fact]
    public async Task DryRunPrintsThePlanPerHostChecksRolesAndDatabasesAndChangesNothing()
    {
        var fixtures = await FixtureArchives.GetAsync();
        // A fresh server: none of the fixtures' roles exist there, and nothing of the fleet may be left on it.
        await using var bare = await PostgresServer.StartAsync();
        string existing = await bare.CreateDatabaseAsync("fleet_dry");
        using var folder = new TempFolder();
        try
        {
            string globals = Path.Combine(RepoPaths.FixturesDirectory, "globals", "pg_dumpall-15.18-globals.sql");
            string target = $"host=127.0.0.1 port={bare.Port} user={bare.UserName}";
            string manifest = folder.Write("fleet.yaml", $"""
                hosts:
                  - host: 127.0.0.1
                    port: {bare.Port}
                    budget: 2
                    globals: {globals}
                restores:
                  - archive: {fixtures["rich.custom"].Path}
                    target: "{target} dbname={existing}"
                  - archive: {fixtures["nasty.custom"].Path}
                    target: "{target} dbname=postgres"
                    options: ["-O", "-x"]
                  - archive: {fixtures["nasty.custom"].Path}
                    target: "{target} dbname=nowhere"
                    options: ["-O", "-x"]
                """);

            var dry = await CliRunner.RunAsync(bare, ["submit", "--manifest", manifest, "--dry-run"], timeout: TimeSpan.FromMinutes(2));

            Assert.True(dry.ExitCode == 1 && dry.StdoutText.Length > 0, dry.Describe());
            string[] plan = dry.StdoutText.TrimEnd('\n').Split('\n');
            Assert.Matches($@"^host 127\.0\.0\.1:{bare.Port} \(pg:\d+:{bare.Port}\): budget 2, 3 jobs, [\d.]+ MB of data, first estimate \d\d:\d\d:\d\d$", plan[0]);
            Assert.EndsWith("  refused", plan[1], StringComparison.Ordinal);
            Assert.EndsWith("  ok", plan[2], StringComparison.Ordinal);
            Assert.EndsWith("  refused", plan[3], StringComparison.Ordinal);
            Assert.Equal("dry run: 2 problems; nothing was submitted", plan[^1]);
            // rich's owners and grantees are on no such server, and the globals create others.
            Assert.Contains("\"app_owner\"", dry.Stderr, StringComparison.Ordinal);
            Assert.Contains("named by the archive do not exist on 127.0.0.1:", dry.Stderr, StringComparison.Ordinal);
            Assert.Contains("database \"nowhere\" does not exist", dry.Stderr, StringComparison.Ordinal);
            // Nothing changed: no role of the globals, nothing in the database.
            Assert.False(await bare.ScalarAsync<bool>("postgres", "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname IN ('fleet_owner', 'app_owner'))"));
            Assert.Equal(0L, await bare.ScalarAsync<long>(existing, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"));
        }
        finally
        {
            await bare.DropDatabaseAsync(existing);
        }
    }

    // A refused fleet: exit 1, no line on stdout, no job and no fleet in the cluster database.
    private static async Task AssertNothingSubmittedAsync(PostgresServer server, string cluster, ProcessResult submit)
    {
        Assert.True(submit.ExitCode == 1, submit.Describe());
        Assert.Empty(submit.StdoutText);
        Assert.Equal(0L, await server.ScalarAsync<long>(cluster, "SELECT count(*) FROM restorecluster_job"));
        Assert.Equal(0L, await server.ScalarAsync<long>(cluster, "SELECT count(*) FROM restorecluster_fleet"));
    }

    // A cluster database that cluster init made, with no silo: a refused manifest is refused before any is asked.
    private static async Task<string> ClusterDatabaseWithoutSilosAsync(PostgresServer server, string prefix)
    {
        string cluster = await server.CreateDatabaseAsync(prefix);
        var init = await CliRunner.RunAsync(server, ["cluster", "init", "--cluster", cluster]);
        Assert.True(init.ExitCode == 0, init.Describe());
        return cluster;
    }

    /// <summary>A temporary folder for manifests, removed at the end.</summary>
    internal sealed class TempFolder : IDisposable
    {
        private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-fleet-");

        public string Path => _directory.FullName;

        public string Write(string name, string text)
        {
            string path = System.IO.Path.Combine(_directory.FullName, name);
            File.WriteAllText(path, text);
            return path;
        }

        public void Dispose() => _directory.Delete(recursive: true);
    }
}
