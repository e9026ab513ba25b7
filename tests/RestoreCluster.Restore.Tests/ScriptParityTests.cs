using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// <c>restorecluster restore -f -</c> against <c>pg_restore -f -</c> (PostgreSQL 15) for every fixture
/// archive in every format and a range of option sets: same script bytes, exit code and warnings.
/// </summary>
public sealed class ScriptParityTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string fixture in new[] { "rich", "nasty", "latin1" })
        {
            foreach (var kind in Enum.GetValues<FixtureArchiveKind>())
            {
                foreach (var c in ParityCases.All)
                {
                    data.Add($"{fixture}.{FixtureArchive.VariantOf(kind)}", c.Name);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ScriptEqualsPgRestore(string archiveName, string caseName)
    {
        var set = await FixtureArchives.GetAsync();
        var archive = set[archiveName];
        var facts = await PgRestoreBaseline.FactsAsync(set, archive);
        var expected = await PgRestoreBaseline.GetAsync(archiveName, caseName);
        Assert.False(expected.TimedOut, expected.Describe());

        var ours = InProcessCli.Run(ParityCases.OurArgs(ParityCases.Get(caseName), facts, archive.Path));

        Assert.True(expected.ExitCode == ours.ExitCode, $"exit code: pg_restore {expected.ExitCode}, ours {ours.ExitCode}\npg_restore stderr:\n{expected.Stderr}\nours:\n{ours.Stderr}");
        Assert.Equal(expected.Stderr, InProcessCli.AsPgRestoreStderr(ours.Stderr));
        if (ScriptDiff.FirstDifference(expected.Stdout, ours.Stdout) is { } diff)
        {
            Assert.Fail(diff);
        }
    }
}
