using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// <c>restore -v</c> prints what <c>pg_restore -v</c> prints, for the rich fixture (tables, data, indexes,
/// constraints, a large object): the serial paths (<c>-1</c>, <c>-f</c>, standard input) line for line in
/// pg_restore's order; through the grains (<c>-j 2</c>, and the default <c>-j 1</c> against a serial
/// pg_restore) the same lines, in an order of their own (docs/restore.md).
/// </summary>
public sealed partial class VerboseParityTests
{
    private const string Archive = "rich.custom";

    [Fact]
    public async Task SingleTransactionPrintsPgRestoresLinesInItsOrder()
    {
        var fixtures = await FixtureArchives.GetAsync();

        var outcome = await RestoreComparison.RunAsync(fixtures.Server, fixtures[Archive].Path, ["-v", "-1"], "verbose1");

        RestoreComparison.AssertSame(outcome);
        Assert.Equal(0, outcome.Ours.ExitCode);
        var expected = VerboseLines.OfPgRestore(outcome.Reference.Stderr);
        Assert.Contains("restorecluster: processing data for table \"app.orders\"", expected);
        VerboseLines.AssertSame(expected, VerboseLines.OfOurs(outcome.Ours.Stderr), "-v -1");
    }

    [Fact]
    public async Task StandardInputPrintsPgRestoresLinesInItsOrder()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        byte[] archive = await File.ReadAllBytesAsync(fixtures[Archive].Path);
        string refDb = await server.CreateDatabaseAsync("verbose_in_pg");
        string ourDb = await server.CreateDatabaseAsync("verbose_in_rc");
        try
        {
            var reference = await server.RunToolAsync("pg_restore", ["-v", "-d", refDb], stdin: archive, timeout: TimeSpan.FromMinutes(2));
            var ours = await CliRunner.RunAsync(server, ["restore", "-v", "-d", ourDb], stdin: archive, timeout: TimeSpan.FromMinutes(2));

            Assert.True(reference.ExitCode == 0, reference.Describe());
            Assert.True(ours.ExitCode == 0, ours.Describe());
            VerboseLines.AssertSame(VerboseLines.OfPgRestore(reference.Stderr), VerboseLines.OfOurs(ours.Stderr), "-v from standard input");
        }
        finally
        {
            await server.DropDatabaseAsync(refDb);
            await server.DropDatabaseAsync(ourDb);
        }
    }

    [Fact]
    public async Task ScriptRunPrintsPgRestoresLinesAndWritesItsScript()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var directory = Directory.CreateTempSubdirectory("rc-verbose-");
        try
        {
            string refFile = Path.Combine(directory.FullName, "pg.sql");
            string ourFile = Path.Combine(directory.FullName, "rc.sql");
            string[] options = ["-v", "-c", "--restrict-key=VerboseKey"];
            var reference = await fixtures.Server.RunToolAsync("pg_restore", [.. options, "-f", refFile, fixtures[Archive].Path]);
            var ours = await CliRunner.RunAsync(["restore", .. options, "-f", ourFile, fixtures[Archive].Path]);

            Assert.True(reference.ExitCode == 0, reference.Describe());
            Assert.True(ours.ExitCode == 0, ours.Describe());
            var expected = VerboseLines.OfPgRestore(reference.Stderr);
            Assert.Contains(expected, l => l.StartsWith("restorecluster: dropping ", StringComparison.Ordinal));
            VerboseLines.AssertSame(expected, VerboseLines.OfOurs(ours.Stderr), "-v -c -f");
            // -v writes when the archive was made and when the script was done: only the latter may differ.
            string refScript = Completed().Replace(await File.ReadAllTextAsync(refFile), "-- Completed on <now>");
            string ourScript = Completed().Replace(await File.ReadAllTextAsync(ourFile), "-- Completed on <now>");
            Assert.Contains("-- Started on ", refScript, StringComparison.Ordinal);
            Assert.True(refScript == ourScript, RestoreComparison.FirstDifference(refScript, ourScript));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ParallelRestorePrintsTheLinesPgRestoreParallelPrints()
    {
        var fixtures = await FixtureArchives.GetAsync();

        var outcome = await RestoreComparison.RunAsync(fixtures.Server, fixtures[Archive].Path, ["-v", "-j", "2"], "verbosej2");

        RestoreComparison.AssertSame(outcome);
        Assert.Equal(0, outcome.Ours.ExitCode);
        var expected = VerboseLines.SortedOfParallelPgRestore(outcome.Reference.Stderr);
        Assert.Contains("entering main parallel loop", expected);
        Assert.Contains(expected, l => l.StartsWith("launching item ", StringComparison.Ordinal));
        VerboseLines.AssertSame(expected, VerboseLines.SortedOfOurs(outcome.Ours.Stderr), "-v -j 2, sorted");
    }

    [Fact]
    public async Task DefaultJobsPrintTheLinesOfASerialPgRestore()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string refDb = await server.CreateDatabaseAsync("verbose_j1_pg");
        string ourDb = await server.CreateDatabaseAsync("verbose_j1_rc");
        try
        {
            // pg_restore without -j is serial; ours runs through the grains with one slot, in its own order.
            var reference = await server.RunToolAsync("pg_restore", ["-v", "-d", refDb, fixtures[Archive].Path], timeout: TimeSpan.FromMinutes(2));
            var ours = await CliRunner.RunAsync(server, ["restore", "-v", "-d", ourDb, fixtures[Archive].Path], timeout: TimeSpan.FromMinutes(2));

            Assert.True(reference.ExitCode == 0, reference.Describe());
            Assert.True(ours.ExitCode == 0, ours.Describe());
            var expected = VerboseLines.SortedOfParallelPgRestore(reference.Stderr);
            Assert.DoesNotContain(expected, l => l.StartsWith("launching item ", StringComparison.Ordinal));
            VerboseLines.AssertSame(expected, VerboseLines.SortedOfOurs(ours.Stderr), "-v (one slot), sorted");
        }
        finally
        {
            await server.DropDatabaseAsync(refDb);
            await server.DropDatabaseAsync(ourDb);
        }
    }

    [GeneratedRegex(@"^-- Completed on .*$", RegexOptions.Multiline)]
    private static partial Regex Completed();
}
