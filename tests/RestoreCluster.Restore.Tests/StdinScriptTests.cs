using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>A custom archive written to a pipe (no data offsets), restored from standard input.</summary>
public sealed class StdinScriptTests
{
    private const string Key = ParityCases.RestrictKey;

    public static TheoryData<string> Fixtures() => new("rich", "nasty", "latin1");

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task PipedArchiveFromStdinGivesPgRestoresScript(string fixture)
    {
        var set = await FixtureArchives.GetAsync();
        var piped = set.Get(fixture, FixtureArchiveKind.CustomPiped);
        byte[] stdin = await File.ReadAllBytesAsync(piped.Path);

        var expected = await PgRestoreBaseline.RunPgRestoreAsync(set.Server, ["-f", "-", "--restrict-key=" + Key], stdin: stdin);
        var ours = await CliRunner.RunAsync(["restore", "-f", "-", "--restrict-key=" + Key, "-"], stdin: stdin);

        expected.EnsureSuccess();
        Assert.True(ours.Succeeded, ours.Describe());
        Assert.Equal(expected.Stderr, InProcessCli.AsPgRestoreStderr(ours.Stderr));
        if (ScriptDiff.FirstDifference(expected.Stdout, ours.Stdout) is { } diff)
        {
            Assert.Fail(diff);
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task ReorderedListOnPipedArchiveFromStdinSucceedsWherePgRestoreCannot(string fixture)
    {
        var set = await FixtureArchives.GetAsync();
        var piped = set.Get(fixture, FixtureArchiveKind.CustomPiped);
        var facts = await PgRestoreBaseline.FactsAsync(set, piped);
        byte[] stdin = await File.ReadAllBytesAsync(piped.Path);
        string[] options = ["-f", "-", "--restrict-key=" + Key, "-L", facts.ListFile];

        // pg_restore cannot go back in a pipe for data the list wants earlier: it fails.
        var fromPipe = await PgRestoreBaseline.RunPgRestoreAsync(set.Server, options, stdin: stdin);
        Assert.Equal(1, fromPipe.ExitCode);
        Assert.Contains("out-of-order", fromPipe.Stderr, StringComparison.Ordinal);

        // We spool what we pass over, so from the pipe we write what pg_restore writes from the file.
        var fromFile = await PgRestoreBaseline.RunPgRestoreAsync(set.Server, [.. options, piped.Path]);
        var ours = await CliRunner.RunAsync(["restore", .. options, "-"], stdin: stdin);

        fromFile.EnsureSuccess();
        Assert.True(ours.Succeeded, ours.Describe());
        Assert.Equal(fromFile.Stderr, InProcessCli.AsPgRestoreStderr(ours.Stderr));
        if (ScriptDiff.FirstDifference(fromFile.Stdout, ours.Stdout) is { } diff)
        {
            Assert.Fail(diff);
        }
    }
}
