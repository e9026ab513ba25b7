using System.Diagnostics;
using System.Globalization;
using RestoreCluster.Testing;

namespace RestoreCluster.Benchmarks;

/// <summary>
/// A custom-format archive, made by the real pg_dump, of N small tables each with a primary key, one index
/// and a few rows: TABLE, TABLE DATA, CONSTRAINT and INDEX entries, 4N in all. Kept in the temp directory
/// and reused by later runs.
/// </summary>
internal static class ManyTablesArchive
{
    // Tables are made in batches: one transaction locks each new relation, and all 10,000 relations at once
    // would overflow the server's lock table (max_locks_per_transaction).
    private const int TablesPerBatch = 250;

    /// <summary>The archive's path and how long making it took (zero when it was already there).</summary>
    public static async Task<(string Path, TimeSpan Generation)> GetAsync(int tables)
    {
        string directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "restorecluster-bench")).FullName;
        string path = Path.Combine(directory, $"tables-{tables}.dump");
        if (File.Exists(path))
        {
            return (path, TimeSpan.Zero);
        }

        var sw = Stopwatch.StartNew();
        await using var server = await PostgresServer.StartAsync();
        string database = await server.CreateDatabaseAsync("bench_tables");
        for (int first = 1; first <= tables; first += TablesPerBatch)
        {
            await server.ExecuteAsync(database, BatchSql(first, Math.Min(tables, first + TablesPerBatch - 1)));
        }

        // Written beside the final name and moved there, so an interrupted run leaves no partial archive.
        string partial = path + $".{Environment.ProcessId}.tmp";
        var dump = await server.RunToolAsync(
            "pg_dump", ["--no-sync", "-Fc", "-f", partial, "-d", server.LibpqConnectionString(database)], timeout: TimeSpan.FromMinutes(10));
        dump.EnsureSuccess();
        File.Move(partial, path, overwrite: true);
        return (path, sw.Elapsed);
    }

    private static string BatchSql(int first, int last) => string.Create(CultureInfo.InvariantCulture, $$"""
        DO $$
        BEGIN
          FOR i IN {{first}}..{{last}} LOOP
            EXECUTE format('CREATE TABLE public.t%s (id integer PRIMARY KEY, k integer NOT NULL)', i);
            EXECUTE format('CREATE INDEX t%s_k_idx ON public.t%s (k)', i, i);
            EXECUTE format('INSERT INTO public.t%s SELECT g, g %% 3 FROM generate_series(1, 3) g', i);
          END LOOP;
        END
        $$
        """);
}
