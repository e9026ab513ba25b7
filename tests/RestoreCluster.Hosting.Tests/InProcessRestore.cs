using RestoreCluster.Cli;
using RestoreCluster.Testing;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// A small archive made by the real pg_dump (set up with psql only, see the project file) and a restore of it
/// run inside this process through Program.Run, so in-process exporters see its spans and metrics.
/// </summary>
internal static class InProcessRestore
{
    public const int Rows = 1000;

    private const string Script = """
        CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);
        INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;
        CREATE TABLE notes (id integer, body text);
        INSERT INTO notes SELECT g, repeat('x', g % 50) FROM generate_series(1, 200) g;
        CREATE INDEX notes_id ON notes (id);
        """;

    /// <summary>Creates the source database, dumps it (-Fc) and returns the archive's path.</summary>
    public static async Task<string> MakeArchiveAsync(PostgresServer server, string directory)
    {
        string source = await server.CreateDatabaseAsync("spans_src");
        (await server.RunToolAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server.LibpqConnectionString(source), "-c", Script])).EnsureSuccess();
        string path = Path.Combine(directory, "spans.dump");
        (await server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", path, "-d", server.LibpqConnectionString(source)])).EnsureSuccess();
        return path;
    }

    /// <summary>restorecluster restore -j JOBS -d TARGET ARCHIVE in this process; returns the exit code and stderr.</summary>
    public static Task<(int ExitCode, string Stderr)> RunAsync(PostgresServer server, string target, string archive, int jobs) =>
        Task.Run(() =>
        {
            var stderr = new StringWriter();
            var io = new CliOutput(() => new MemoryStream(), stderr, () => Stream.Null);
            int exit = Program.Run(["restore", "-j", jobs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--progress", "none", "-d", server.LibpqConnectionString(target), archive], io);
            return (exit, stderr.ToString());
        });
}
