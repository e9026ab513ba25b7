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
        if (archive.Kind == FixtureArchiveKind.Tar && caseName == "use-list")
        {
            // pg_restore reads a tar archive front to back and gives up on a data member the list wants
            // after a later one; we read members in any order (intended), so our script must be what
            // pg_restore makes from the same fixture's seekable custom archive with the same list.
            Assert.True(expected.ExitCode == 1 && expected.Stderr.Contains("in tar archive", StringComparison.Ordinal), expected.Describe());
            var custom = set.Get(archive.Fixture, FixtureArchiveKind.Custom);
            expected = await PgRestoreBaseline.RunPgRestoreAsync(set.Server, ParityCases.PgRestoreArgs(ParityCases.Get(caseName), facts, custom.Path), facts.Encoding);
        }

        if (caseName is "schema" or "table")
        {
            // The name really selected something (also with the LATIN1 fixture's non-ASCII names).
            Assert.Contains("CREATE TABLE", System.Text.Encoding.Latin1.GetString(expected.Stdout), StringComparison.Ordinal);
        }

        var ours = InProcessCli.Run(ParityCases.OurArgs(ParityCases.Get(caseName), facts, archive.Path));

        Assert.True(expected.ExitCode == ours.ExitCode, $"exit code: pg_restore {expected.ExitCode}, ours {ours.ExitCode}\npg_restore stderr:\n{expected.Stderr}\nours:\n{ours.Stderr}");
        Assert.Equal(expected.Stderr, InProcessCli.AsPgRestoreStderr(ours.Stderr));
        if (ScriptDiff.FirstDifference(expected.Stdout, ours.Stdout) is { } diff)
        {
            Assert.Fail(diff);
        }
    }
}
