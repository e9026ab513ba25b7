using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// restore -j N through the grains gives the database pg_restore -j N gives, for every PostgreSQL 15 fixture
/// archive pg_restore can restore in parallel (custom and directory, compressed or not).
/// </summary>
public sealed class ParallelFidelityTests
{
    public static TheoryData<string, int> Cases(int[] jobs)
    {
        var data = new TheoryData<string, int>();
        foreach (string fixture in new[] { "rich", "nasty", "latin1" })
        {
            foreach (var kind in new[] { FixtureArchiveKind.Custom, FixtureArchiveKind.CustomUncompressed, FixtureArchiveKind.Directory, FixtureArchiveKind.DirectoryUncompressed })
            {
                foreach (int j in jobs)
                {
                    data.Add($"{fixture}.{FixtureArchive.VariantOf(kind)}", j);
                }
            }
        }

        return data;
    }

    public static TheoryData<string, int> DefaultCases() => Cases([1, 4]);

    public static TheoryData<string, int> SlowCases() => Cases([2, 8]);

    [Theory]
    [MemberData(nameof(DefaultCases))]
    public Task ParallelRestoreDumpsLikePgRestore(string name, int jobs) => CompareAsync(name, jobs);

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(SlowCases))]
    public Task WiderParallelRestoreDumpsLikePgRestore(string name, int jobs) => CompareAsync(name, jobs);

    [Fact]
    public async Task TwoRestoresOnOneMachineRunAtTheSameTime()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string a = await server.CreateDatabaseAsync("twin_a");
        string b = await server.CreateDatabaseAsync("twin_b");

        var first = CliRunner.RunAsync(server, ["restore", "-j", "2", "-d", a, fixtures["rich.custom"].Path]);
        var second = CliRunner.RunAsync(server, ["restore", "-j", "2", "-d", b, fixtures["rich.directory"].Path]);
        await Task.WhenAll(first, second);

        Assert.True((await first).ExitCode == 0, (await first).Describe());
        Assert.True((await second).ExitCode == 0, (await second).Describe());
        Assert.Equal(await RestoreComparison.DumpAsync(server, a), await RestoreComparison.DumpAsync(server, b));
    }

    private static async Task CompareAsync(string name, int jobs)
    {
        var fixtures = await FixtureArchives.GetAsync();

        var outcome = await RestoreComparison.RunAsync(fixtures.Server, fixtures[name].Path, ["-j", jobs.ToString()], $"par{jobs}");

        RestoreComparison.AssertSame(outcome);
        Assert.Equal(0, outcome.Ours.ExitCode);
        // A restore without errors prints nothing: no log record of the silo reaches stderr on an ordinary run.
        Assert.True(outcome.Ours.Stderr.Length == 0, outcome.Ours.Stderr);
        Assert.DoesNotContain(RestoreClusterJournal, outcome.OurDump, StringComparison.Ordinal);
    }

    private const string RestoreClusterJournal = "restorecluster_journal";
}
