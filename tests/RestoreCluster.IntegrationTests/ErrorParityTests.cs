using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Into a server that lacks the roles the archive needs, restorecluster counts and reports the same errors
/// as pg_restore, ends with the same exit code, and with -e stops at the same entry.
/// </summary>
public sealed partial class ErrorParityTests : IAsyncLifetime
{
    private PostgresServer? _bare;

    public async Task InitializeAsync() => _bare = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_bare is not null)
        {
            await _bare.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("--no-data-for-failed-tables")]
    [InlineData("-O")]
    public async Task ErrorCountAndExitCodeMatchPgRestore(string options)
    {
        var fixtures = await FixtureArchives.GetAsync();
        string[] opts = options.Length == 0 ? [] : options.Split(' ');

        var outcome = await RestoreComparison.RunAsync(_bare!, fixtures["rich.custom"].Path, opts, "err");

        RestoreComparison.AssertSame(outcome);
        int expected = Count(outcome.Reference.Stderr);
        Assert.True(expected > 0, "the fixture needs roles this server lacks, so pg_restore must count errors");
        Assert.Contains($"restorecluster: warning: errors ignored on restore: {expected}", outcome.Ours.Stderr, StringComparison.Ordinal);
        Assert.Equal(expected, RestoreComparison.ErrorLines(outcome.Ours.Stderr, "restorecluster: error: from TOC entry "));
    }

    [Theory]
    [InlineData("-e")]
    [InlineData("-1")]
    public async Task ExitOnErrorStopsAtTheSameEntryAsPgRestore(string option)
    {
        var fixtures = await FixtureArchives.GetAsync();

        var outcome = await RestoreComparison.RunAsync(_bare!, fixtures["rich.custom"].Path, [option], "stop");

        RestoreComparison.AssertSame(outcome);
        Assert.Equal(1, outcome.Ours.ExitCode);
        // pg_restore names the entry only with -v; both name the statement that failed.
        string referenceCommand = ReferenceCommand().Match(outcome.Reference.Stderr).Groups[1].Value.Trim();
        string ourCommand = OurCommand().Match(outcome.Ours.Stderr).Groups[1].Value.Trim();
        Assert.NotEqual("", referenceCommand);
        Assert.Equal(referenceCommand, ourCommand);
        Assert.Matches(EntryId(), outcome.Ours.Stderr);
        Assert.DoesNotContain("errors ignored on restore", outcome.Ours.Stderr, StringComparison.Ordinal);
    }

    private static int Count(string pgRestoreStderr)
    {
        var m = Regex.Match(pgRestoreStderr, @"errors ignored on restore: (\d+)");
        return m.Success ? int.Parse(m.Groups[1].Value) : 0;
    }

    [GeneratedRegex(@"from TOC entry (\d+);")]
    private static partial Regex EntryId();

    [GeneratedRegex(@"Command was: (.*)")]
    private static partial Regex ReferenceCommand();

    [GeneratedRegex(@"command was: (.*)")]
    private static partial Regex OurCommand();
}
