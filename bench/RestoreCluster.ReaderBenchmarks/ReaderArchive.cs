using System.Globalization;
using RestoreCluster.Testing;

namespace RestoreCluster.ReaderBenchmarks;

/// <summary>
/// The suite's archive: one table shaped like pgbench_accounts (aid, bid, abalance, an 84-character filler) of
/// <see cref="Rows"/> rows, dumped by the real <c>pg_dump -Fc</c> (gzip at its default level) from a private
/// server, kept as <c>restorecluster-bench/reader-accounts-ROWS.dump</c> in the temp directory for later runs.
/// </summary>
internal static class ReaderArchive
{
    public const int Rows = 2_000_000;

    public static async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        string directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "restorecluster-bench")).FullName;
        string path = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"reader-accounts-{Rows}.dump"));
        if (File.Exists(path))
        {
            return path;
        }

        Console.Error.WriteLine($"making {path} on a private server (once)");
        await using var server = await PostgresServer.StartAsync(cancellationToken);
        string database = await server.CreateDatabaseAsync("reader_source", cancellationToken: cancellationToken);
        await server.ExecuteAsync(database, string.Create(CultureInfo.InvariantCulture, $"""
            CREATE TABLE accounts (aid integer PRIMARY KEY, bid integer NOT NULL, abalance integer NOT NULL, filler character(84));
            INSERT INTO accounts SELECT g, 1 + g / 100000, (g::bigint * 7919) % 20001 - 10000, '' FROM generate_series(1, {Rows}) g;
            """), cancellationToken);
        string partial = path + $".{Environment.ProcessId}.tmp";
        (await server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", partial, "-d", server.LibpqConnectionString(database)],
            timeout: TimeSpan.FromMinutes(20), cancellationToken: cancellationToken)).EnsureSuccess();
        File.Move(partial, path, overwrite: true);
        return path;
    }
}
