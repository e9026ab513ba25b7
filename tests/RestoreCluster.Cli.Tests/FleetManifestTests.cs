using RestoreCluster.Cli.Fleet;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// The fleet manifest (docs/fleet.md) is read whole and checked before anything is submitted: every problem
/// names the file, line and column; restore's own option checks (RestoreCommand.Refusal) judge the options.
/// </summary>
public sealed class FleetManifestTests : IDisposable
{
    private static readonly Dictionary<string, string?> NoEnv = [];
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-manifest-");
    private readonly string _archive;

    public FleetManifestTests()
    {
        // A real pg_dump archive, beside the manifest, named relative to it.
        _archive = Path.Combine(_directory.FullName, "sales.dump");
        File.Copy(Path.Combine(RepoPaths.Pg18ArchivesDirectory, "stats18.dump"), _archive);
        File.WriteAllText(Path.Combine(_directory.FullName, "globals.sql"), "CREATE ROLE sales;\n");
        File.WriteAllText(Path.Combine(_directory.FullName, "notes.txt"), "not an archive\n");
    }

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void TheDocumentedFormReadsWithDefaultsFirstAndEachRestoreOnItsHost()
    {
        string path = Write("""
            defaults:
              options: ["-j", "4", "--no-owner"]
            hosts:
              - host: db1.example.com
                port: 5432
                budget: 3
                globals: globals.sql
            restores:
              - archive: sales.dump
                target: "host=db1.example.com port=5432 user=restore dbname=sales"
                options: ["--clean", "--if-exists"]
                priority: 10
              - archive: sales.dump
                target: "host=db2.example.com user=restore dbname=sales"
            """);

        var m = FleetManifest.Load(path, RestoreCommand.Refusal, NoEnv);

        var host = Assert.Single(m.Hosts);
        Assert.Equal(("db1.example.com", 5432, 3, Path.Combine(_directory.FullName, "globals.sql")), (host.Host, host.Port, host.Budget, host.Globals));
        Assert.Equal(2, m.Restores.Count);
        Assert.Equal(["-j", "4", "--no-owner", "--clean", "--if-exists"], m.Restores[0].Options);
        Assert.Equal((10, _archive, host), (m.Restores[0].Priority, m.Restores[0].Archive, m.Restores[0].Host));
        Assert.Equal(new ManifestPosition(9, 5), m.Restores[0].At);
        // Unlisted: no hosts entry, so its budget is its own -j; defaults apply all the same.
        Assert.Null(m.Restores[1].Host);
        Assert.Equal(["-j", "4", "--no-owner"], m.Restores[1].Options);
        Assert.Equal(("db2.example.com", 5432, "sales"), (m.Restores[1].ResolvedTarget.Host, m.Restores[1].ResolvedTarget.Port, m.Restores[1].ResolvedTarget.Database));
    }

    public static TheoryData<string, string> Problems() => new()
    {
        {
            "hosts: []\nrestores:\n  - archive: sales.dump\n    target: dbname=a\n    prority: 3\n",
            ":5:5: unknown key 'prority' in a 'restores' entry"
        },
        {
            "restores:\n  - archive: sales.dump\n    target: dbname=a\nretries: 2\n",
            ":4:1: unknown key 'retries' in the manifest"
        },
        {
            "restores:\n  - archive: missing.dump\n    target: dbname=a\n",
            ":2:14: archive \"missing.dump\" does not exist"
        },
        {
            "restores:\n  - archive: notes.txt\n    target: dbname=a\n",
            ":2:14: archive \"notes.txt\" cannot be read: "
        },
        {
            "restores:\n  - archive: sales.dump\n    target: host=h dbname=a\n  - archive: sales.dump\n    target: \"host=h port=5432 dbname=a\"\n",
            ":5:13: target h:5432/a is listed twice (first at line 3)"
        },
        {
            "restores:\n  - archive: sales.dump\n    target: dbname=a\n    options: [\"--no-such-thing\"]\n",
            ":4:14: restore would refuse these options: unrecognized option \"--no-such-thing\""
        },
        {
            "defaults:\n  options: [\"-s\"]\nrestores:\n  - archive: sales.dump\n    target: dbname=a\n    options: [\"-a\"]\n",
            ":6:14: restore would refuse these options: options -s/--schema-only and -a/--data-only cannot be used together"
        },
        {
            "hosts:\n  - host: h\n    budget: 0\nrestores:\n  - archive: sales.dump\n    target: dbname=a\n",
            ":3:13: 'budget' must be an integer of at least 1, not '0'"
        },
        {
            "hosts:\n  - host: h\nrestores:\n  - archive: sales.dump\n    target: dbname=a\n",
            ":2:5: a 'hosts' entry needs a 'budget'"
        },
        {
            "restores:\n  - archive: sales.dump\n    target: \"sslmode=maybe dbname=a\"\n",
            ":3:13: invalid target: invalid sslmode value: \"maybe\""
        },
        {
            "restores:\n  - archive: sales.dump\n    target: dbname=a\n  - target: dbname=b\n",
            ":4:5: a 'restores' entry needs 'archive'"
        },
        {
            "restores:\n  - archive: [sales.dump\n",
            ": not valid YAML: "
        },
        {
            "hosts:\n  host: h\nrestores: []\n",
            ":2:3: 'hosts' must be a list of hosts"
        },
        {
            "hosts:\n  - host: h\n    budget: auto\nrestores:\n  - archive: sales.dump\n    target: dbname=a\n",
            ":2:5: 'budget: auto' needs 'max'"
        },
        {
            "hosts:\n  - host: h\n    budget: auto\n    max: 1\n    protect: 50\nrestores:\n  - archive: sales.dump\n    target: dbname=a\n",
            ":4:10: 'max' must be an integer of at least 2, not '1'"
        },
        {
            "hosts:\n  - host: h\n    budget: auto\n    max: 3\n    protect: soon\nrestores:\n  - archive: sales.dump\n    target: dbname=a\n",
            ":5:14: 'protect' must be a number of milliseconds above 0, not 'soon'"
        },
        {
            "hosts:\n  - host: h\n    budget: auto\n    max: 3\n    probe: SELECT 1\nrestores:\n  - archive: sales.dump\n    target: dbname=a\n",
            ":5:12: 'probe' needs 'protect'"
        },
        {
            "hosts:\n  - host: h\n    budget: 2\n    protect: 50\nrestores:\n  - archive: sales.dump\n    target: dbname=a\n",
            ":4:14: 'protect' goes with 'budget: auto'"
        },
    };

    [Fact]
    public void AnAdaptiveBudgetReadsWithItsMaximumProtectionAndProbe()
    {
        string path = Write("""
            hosts:
              - host: db1
                budget: auto
                max: 4
                protect: 25.5
                probe: SELECT count(*) FROM pg_stat_activity
              - host: db2
                budget: auto
                max: 2
            restores:
              - archive: sales.dump
                target: "host=db1 dbname=sales"
            """);

        var m = FleetManifest.Load(path, RestoreCommand.Refusal, NoEnv);

        Assert.Equal(new AdaptiveBudgetSpec(4, 25.5, "SELECT count(*) FROM pg_stat_activity"), m.Hosts[0].Adaptive);
        Assert.Equal(4, m.Hosts[0].Budget);
        Assert.Equal(new AdaptiveBudgetSpec(2, 0, null), m.Hosts[1].Adaptive);
        Assert.Equal("auto:4, protect 25.5 ms", m.Hosts[0].Adaptive!.ToString());
    }

    [Theory]
    [MemberData(nameof(Problems))]
    public void EachKindOfProblemIsRefusedWithItsFileLineAndColumn(string yaml, string expected)
    {
        string path = Write(yaml);

        var e = Assert.Throws<ManifestException>(() => FleetManifest.Load(path, RestoreCommand.Refusal, NoEnv));

        Assert.Contains(e.Problems, p => p.StartsWith(path + ":", StringComparison.Ordinal) && p.Contains(expected, StringComparison.Ordinal));
        Assert.All(e.Problems, p => Assert.DoesNotContain('\n', p));
    }

    [Fact]
    public void EveryProblemIsReportedNotOnlyTheFirst()
    {
        string path = Write("""
            hosts:
              - host: h
                budget: two
            restores:
              - archive: missing.dump
                target: dbname=a
                colour: blue
            """);

        var e = Assert.Throws<ManifestException>(() => FleetManifest.Load(path, RestoreCommand.Refusal, NoEnv));

        Assert.Equal(
            [$"{path}:3:13: 'budget' must be an integer of at least 1, not 'two'", $"{path}:7:5: unknown key 'colour' in a 'restores' entry (known: archive, target, options, priority)", $"{path}:5:14: archive \"missing.dump\" does not exist"],
            e.Problems);
    }

    [Fact]
    public void AnEmptyOrMissingManifestIsOneProblem()
    {
        string empty = Write("");
        string missing = Path.Combine(_directory.FullName, "nowhere.yaml");

        Assert.Equal($"{empty}:1:1: the manifest is empty: it needs a 'restores' list", Assert.Single(Assert.Throws<ManifestException>(() => FleetManifest.Load(empty, RestoreCommand.Refusal, NoEnv)).Problems));
        Assert.StartsWith($"{missing}: cannot read the manifest: ", Assert.Single(Assert.Throws<ManifestException>(() => FleetManifest.Load(missing, RestoreCommand.Refusal, NoEnv)).Problems), StringComparison.Ordinal);
    }

    private string Write(string yaml)
    {
        string path = Path.Combine(_directory.FullName, $"fleet-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}
