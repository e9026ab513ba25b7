using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Archives made with pg_dump --inserts: the data (several MB of INSERT statements, values holding
/// semicolons, newlines, quotes and dollar signs, so statement ends fall across the pieces it is read in)
/// streams statement by statement and restores as pg_restore restores it; INSERTs that fail are counted
/// one by one as pg_restore counts them, at -j 1 and -j 2.
/// </summary>
public sealed class InsertsTests : IAsyncLifetime, IDisposable
{
    // About 1.8 MB of INSERT statements: more than the 1 MB pieces the data is read in.
    private const int Rows = 12_000;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-inserts-");
    private PostgresServer? _server;
    private string _plain = "";
    private string _multiRow = "";

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.GetSharedAsync();
        string source = await _server.CreateDatabaseAsync("ins_src");
        await _server.ExecuteAsync(source, "CREATE TABLE public.notes (id integer PRIMARY KEY, body text, n integer)");
        await _server.ExecuteAsync(source, $$"""
            INSERT INTO public.notes
            SELECT g, 'row ' || g || E';\n' || repeat('x;', g % 40) || E'\'quoted\' $$ -- not a comment\n;' || chr(228 + g % 20), g % 100
            FROM generate_series(1, {{Rows}}) g
            """);
        _plain = await DumpAsync(source, "plain.dump", "--inserts");
        _multiRow = await DumpAsync(source, "multirow.dump", "--rows-per-insert=7");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _directory.Delete(recursive: true);

    [Theory]
    [InlineData("plain", "1")]
    [InlineData("multirow", "2")]
    public async Task InsertsArchivesRestoreAsPgRestoreRestoresThem(string archive, string jobs)
    {
        var outcome = await RestoreComparison.RunAsync(_server!, archive == "plain" ? _plain : _multiRow, ["-j", jobs], "ins");
        RestoreComparison.AssertSame(outcome);
        Assert.Equal(0, outcome.Ours.ExitCode);
        Assert.Equal(Rows, DumpedRows(outcome.OurDump));
    }

    [Theory]
    [InlineData("2")]
    public async Task FailingInsertsAreCountedOneByOneAsPgRestoreCountsThem(string jobs)
    {
        // Data only, into tables that refuse some rows: each refused INSERT is one error, the others load.
        string reference = await _server!.CreateDatabaseAsync("ins_err_pg");
        string ours = await _server.CreateDatabaseAsync("ins_err_rc");
        foreach (string db in new[] { reference, ours })
        {
            await _server.ExecuteAsync(db, "CREATE TABLE public.notes (id integer PRIMARY KEY, body text, n integer CHECK (n <> 42))");
        }

        var pg = await _server.RunToolAsync("pg_restore", ["-a", "-d", reference, _plain], timeout: TimeSpan.FromMinutes(3));
        var rc = await CliRunner.RunAsync(_server, ["restore", "-a", "-j", jobs, "-d", ours, _plain], timeout: TimeSpan.FromMinutes(3));
        int refused = Rows / 100;
        Assert.Contains($"pg_restore: warning: errors ignored on restore: {refused}", pg.Stderr, StringComparison.Ordinal);
        Assert.Equal(pg.ExitCode, rc.ExitCode);
        Assert.Equal(refused, RestoreComparison.ErrorLines(rc.Stderr, "restorecluster: error: from TOC entry "));
        Assert.Contains($"restorecluster: warning: errors ignored on restore: {refused}", rc.Stderr, StringComparison.Ordinal);
        Assert.Equal(await RestoreComparison.DumpAsync(_server, reference), await RestoreComparison.DumpAsync(_server, ours));
    }

    // The data lines of the table's COPY in a pg_dump script (a row per line: newlines in values are escaped).
    private static int DumpedRows(string dump)
    {
        var lines = dump.Split('\n');
        int start = Array.FindIndex(lines, l => l.StartsWith("COPY public.notes ", StringComparison.Ordinal));
        Assert.True(start >= 0, "the dump has no COPY for the table");
        int end = Array.IndexOf(lines, "\\.", start);
        return end - start - 1;
    }

    private async Task<string> DumpAsync(string database, string name, string option)
    {
        string path = Path.Combine(_directory.FullName, name);
        (await _server!.RunToolAsync("pg_dump", ["--no-sync", "-Fc", option, "-f", path, "-d", _server.LibpqConnectionString(database)])).EnsureSuccess();
        return path;
    }
}
