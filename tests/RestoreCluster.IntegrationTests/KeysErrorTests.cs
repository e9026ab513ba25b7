using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// A primary key over duplicate rows and a foreign key over a row without its parent, restored in steps (the
/// unique index first, the foreign key NOT VALID and then validated), fail as pg_restore's one ALTER TABLE fails:
/// the same count of errors, the server's same message, the same command named, and the same database (the
/// foreign key absent), with and without -e. pg_restore runs serially: pg_restore -j counts a worker's error
/// twice, where restorecluster counts it once at every -j (docs/concurrency.md). The archives are directory
/// archives whose data files were edited after pg_dump wrote them (a row repeated, a row added); their tables hold more
/// than a small unit's data (PlanUnit.SmallBytes), so that their keys go in steps.
/// </summary>
public sealed partial class KeysErrorTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("restorecluster-keyerr-").FullName;
    private PostgresServer? _server;

    public async Task InitializeAsync() => _server = await PostgresServer.GetSharedAsync();

    public Task DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("-j 2")]
    [InlineData("-j 1 -e")]
    public async Task DuplicateRowsUnderAPrimaryKeyFailAsPgRestoresAlterTable(string options)
    {
        string archive = await ArchiveAsync("dup", """
            CREATE TABLE public.dup (id integer PRIMARY KEY, v text);
            INSERT INTO public.dup SELECT g, md5(g::text) FROM generate_series(1, 8000) g;
            """, "dup", line => line);

        await CompareFailureAsync(archive, options, "could not create unique index \"dup_pkey\"");
    }

    [Theory]
    [InlineData("-j 2")]
    [InlineData("-j 1 -e")]
    public async Task AForeignKeyWhoseValidationFailsIsAbsentWithPgRestoresError(string options)
    {
        string archive = await ArchiveAsync("orphan", """
            CREATE TABLE public.par (id integer PRIMARY KEY);
            INSERT INTO public.par SELECT g FROM generate_series(1, 100) g;
            CREATE TABLE public.kid (id integer PRIMARY KEY, par_id integer REFERENCES public.par (id), pad text);
            INSERT INTO public.kid SELECT g, 1 + g % 100, md5(g::text) FROM generate_series(1, 8000) g;
            """, "kid", _ => "100000\t99999\tx");

        var outcome = await CompareFailureAsync(archive, options, "violates foreign key constraint \"kid_par_id_fkey\"");
        Assert.DoesNotContain("kid_par_id_fkey", outcome.OurDump, StringComparison.Ordinal);
        Assert.Contains("kid_pkey", outcome.OurDump, StringComparison.Ordinal);
    }

    // Both restores fail the same way: exit code, one counted error (or -e's stop), the server's message, the
    // command; and both databases dump the same.
    private async Task<RestoreComparison.Outcome> CompareFailureAsync(string archive, string options, string message)
    {
        bool exitOnError = options.Contains("-e", StringComparison.Ordinal);
        var outcome = await RestoreComparison.RunAsync(_server!, archive, options.Split(' '), "keyerr", referenceOptions: exitOnError ? ["-e"] : []);
        RestoreComparison.AssertSame(outcome);
        Assert.Equal(1, outcome.Ours.ExitCode);

        var reference = ReferenceError().Matches(outcome.Reference.Stderr).Select(m => (m.Groups[1].Value, OneLine(m.Groups[2].Value))).ToList();
        var ours = OurError().Matches(outcome.Ours.Stderr).Select(m => (m.Groups[1].Value, OneLine(m.Groups[2].Value))).ToList();
        Assert.Single(reference);
        Assert.Equal(reference, ours);
        Assert.Contains(message, ours[0].Item1, StringComparison.Ordinal);
        if (exitOnError)
        {
            Assert.DoesNotContain("errors ignored on restore", outcome.Ours.Stderr, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("pg_restore: warning: errors ignored on restore: 1", outcome.Reference.Stderr, StringComparison.Ordinal);
            Assert.Contains("restorecluster: warning: errors ignored on restore: 1", outcome.Ours.Stderr, StringComparison.Ordinal);
        }

        return outcome;
    }

    // pg_dump -Fd -Z0 of a database made by the SQL, with the first data line of TABLE's file changed by edit and
    // put in front of the others (a repeated row, or a new one).
    private async Task<string> ArchiveAsync(string name, string sql, string table, Func<string, string> edit)
    {
        string db = await _server!.CreateDatabaseAsync(name + "_src");
        string archive = Path.Combine(_directory, name);
        try
        {
            await _server.ExecuteAsync(db, sql);
            (await _server.RunToolAsync("pg_dump", ["-Fd", "-Z0", "-f", archive, db], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
        }
        finally
        {
            await _server.DropDatabaseAsync(db);
        }

        var list = await _server.RunToolAsync("pg_restore", ["-l", archive]);
        list.EnsureSuccess();
        string dumpId = Regex.Match(list.StdoutText, $@"^(\d+); \d+ \d+ TABLE DATA public {table} ", RegexOptions.Multiline).Groups[1].Value;
        string file = Path.Combine(archive, dumpId + ".dat");
        string[] lines = File.ReadAllLines(file);
        File.WriteAllLines(file, [edit(lines[0]), .. lines]);
        return archive;
    }

    private static string OneLine(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    // pg_restore: "error: could not execute query: ERROR:  MESSAGE\nDETAIL: ...\nCommand was: COMMAND" (over lines).
    [GeneratedRegex(@"could not execute query: ERROR:  ([^\n]*)\n(?:DETAIL:[^\n]*\n)?Command was: ([\s\S]*?)(?=\npg_restore:|\s*$)")]
    private static partial Regex ReferenceError();

    // Ours: one line, "... could not execute query: ERROR:  MESSAGE; command was: COMMAND".
    [GeneratedRegex(@"could not execute query: ERROR:  (.*?); command was: ([^\n]*)")]
    private static partial Regex OurError();
}
