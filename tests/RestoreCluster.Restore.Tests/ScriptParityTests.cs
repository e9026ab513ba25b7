using System.Text;
using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// <c>restorecluster restore -f -</c> against <c>pg_restore -f -</c> (PostgreSQL 15) for every fixture
/// archive in every format and a range of option sets: same script bytes, exit code and warnings.
/// </summary>
public sealed partial class ScriptParityTests
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
        if (ParityCases.IsVerbose(caseName))
        {
            Assert.Contains("pg_restore: processing data for table ", expected.Stderr, StringComparison.Ordinal);
            Assert.Equal(OneLinePerMessage(expected.Stderr), InProcessCli.AsPgRestoreStderr(AsReadFromPgRestore(ours.Stderr, facts.Encoding)));
            expected = expected with { Stdout = WithoutCompletionTime(expected.Stdout) };
            ours = ours with { Stdout = WithoutCompletionTime(ours.Stdout) };
        }
        else
        {
            Assert.Equal(expected.Stderr, InProcessCli.AsPgRestoreStderr(ours.Stderr));
        }

        if (ScriptDiff.FirstDifference(expected.Stdout, ours.Stdout) is { } diff)
        {
            Assert.Fail(diff);
        }
    }

    // -v ends the script with the time it was done: the one line two runs cannot share.
    private static byte[] WithoutCompletionTime(byte[] script) =>
        Encoding.Latin1.GetBytes(CompletedOn().Replace(Encoding.Latin1.GetString(script), "-- Completed on <now>"));

    // Our convention: one line per message (an entry's tag with a line break in it is printed with a space).
    private static string OneLinePerMessage(string stderr)
    {
        var b = new StringBuilder();
        foreach (string line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            b.Append(b.Length > 0 && !line.StartsWith("pg_restore: ", StringComparison.Ordinal) ? " " : b.Length > 0 ? "\n" : "").Append(line);
        }

        return b.Length > 0 ? b.Append('\n').ToString() : "";
    }

    // pg_restore writes names in the archive's encoding, and the harness reads its stderr as UTF-8; we write
    // UTF-8. Our text, written as pg_restore writes it and read back the same way, is what to compare.
    private static string AsReadFromPgRestore(string stderr, Encoding archiveEncoding) =>
        Encoding.UTF8.GetString(archiveEncoding.GetBytes(stderr));

    [GeneratedRegex(@"^-- Completed on .*$", RegexOptions.Multiline)]
    private static partial Regex CompletedOn();
}
