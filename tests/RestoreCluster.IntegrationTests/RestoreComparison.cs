using System.Globalization;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>Restores one archive with pg_restore and with restorecluster into fresh databases and compares.</summary>
internal static class RestoreComparison
{
    public const string RestrictKey = "FidelityKey";

    /// <param name="OurDatabase">restorecluster's database when the caller asked to keep it (and drops it), else null.</param>
    public sealed record Outcome(ProcessResult Reference, ProcessResult Ours, string ReferenceDump, string OurDump, string? OurDatabase = null);

    /// <summary>
    /// Runs both restores with the same options (pg_restore with <paramref name="referenceOptions"/> instead, when
    /// ours has options of its own); returns both results and both pg_dump outputs. With <paramref name="keep"/>
    /// restorecluster's database is left for the caller to inspect and drop.
    /// </summary>
    public static async Task<Outcome> RunAsync(
        PostgresServer server, string archive, IReadOnlyList<string> options, string prefix, bool keep = false, IReadOnlyList<string>? referenceOptions = null)
    {
        string refDb = await server.CreateDatabaseAsync(prefix + "_pg");
        string ourDb = await server.CreateDatabaseAsync(prefix + "_rc");
        try
        {
            var reference = server.RunToolAsync("pg_restore", [.. referenceOptions ?? options, "-d", refDb, archive], timeout: TimeSpan.FromMinutes(3));
            var ours = CliRunner.RunAsync(server, ["restore", .. options, "-d", ourDb, archive], timeout: TimeSpan.FromMinutes(3));
            await Task.WhenAll(reference, ours);
            string refDump = await DumpAsync(server, refDb);
            string ourDump = await DumpAsync(server, ourDb);
            return new Outcome(await reference, await ours, refDump, ourDump, keep ? ourDb : null);
        }
        finally
        {
            await server.DropDatabaseAsync(refDb);
            if (!keep)
            {
                await server.DropDatabaseAsync(ourDb);
            }
        }
    }

    /// <summary>An archive (<c>pg_dump -Fc</c>, in <paramref name="directory"/>) of a database <paramref name="fill"/> made; the database is dropped.</summary>
    public static async Task<string> MakeArchiveAsync(PostgresServer server, string directory, string prefix, Func<string, Task> fill)
    {
        string db = await server.CreateDatabaseAsync(prefix);
        try
        {
            await fill(db);
            string archive = Path.Combine(directory, prefix + ".dump");
            (await server.RunToolAsync("pg_dump", ["-Fc", "-f", archive, db], timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
            return archive;
        }
        finally
        {
            await server.DropDatabaseAsync(db);
        }
    }

    /// <summary>
    /// An archive (<c>pg_dump -Fc -Z0</c>: its data sizes are the COPY text's, in the temp directory, for the caller to
    /// delete) of a database that <paramref name="sql"/> fills; the database is dropped.
    /// </summary>
    public static async Task<string> UncompressedArchiveAsync(PostgresServer server, string prefix, string sql)
    {
        string source = await server.CreateDatabaseAsync(prefix + "_source");
        try
        {
            await server.ExecuteAsync(source, sql);
            string archive = Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"restorecluster-{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}.dump"));
            (await server.RunToolAsync("pg_dump", ["-Fc", "-Z0", "-f", archive, "-d", server.LibpqConnectionString(source)], timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
            return archive;
        }
        finally
        {
            await server.DropDatabaseAsync(source);
        }
    }

    public static async Task<string> DumpAsync(PostgresServer server, string database)
    {
        var dump = await server.RunToolAsync("pg_dump", ["--restrict-key=" + RestrictKey, "-d", database], timeout: TimeSpan.FromMinutes(2));
        dump.EnsureSuccess();
        // The dump names the database only in comments and \connect lines, which differ by construction.
        return dump.StdoutText.Replace(database, "<db>", StringComparison.Ordinal);
    }

    public static void AssertSame(Outcome o)
    {
        Assert.True(o.Ours.ExitCode == o.Reference.ExitCode,
            $"exit codes differ: pg_restore {o.Reference.ExitCode}, restorecluster {o.Ours.ExitCode}\n{o.Ours.Stderr}\n--- pg_restore:\n{o.Reference.Stderr}");
        Assert.DoesNotContain("   at ", o.Ours.Stderr, StringComparison.Ordinal);
        if (o.OurDump != o.ReferenceDump)
        {
            Assert.Fail("pg_dump of the two restores differs:\n" + FirstDifference(o.ReferenceDump, o.OurDump) + "\n" + o.Ours.Stderr);
        }
    }

    public static string FirstDifference(string expected, string actual)
    {
        string[] a = expected.Split('\n');
        string[] b = actual.Split('\n');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            string x = i < a.Length ? a[i] : "<end>";
            string y = i < b.Length ? b[i] : "<end>";
            if (x != y)
            {
                return $"line {i + 1}:\n  pg_restore:     {x}\n  restorecluster: {y}";
            }
        }

        return "(no line differs)";
    }

    /// <summary>The error lines (one per counted error) in a stderr text.</summary>
    public static int ErrorLines(string stderr, string prefix) =>
        stderr.Split('\n').Count(l => l.StartsWith(prefix, StringComparison.Ordinal));
}
