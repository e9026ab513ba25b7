using System.Diagnostics;
using System.Globalization;
using RestoreCluster.LocalPostgres;
using RestoreCluster.Testing;

namespace RestoreCluster.Benchmarks;

/// <summary>What an archive holds, counted from <c>pg_restore -l</c>.</summary>
internal sealed record TocCounts(int Entries, int Tables, int TableData, int Indexes, int Constraints, int ForeignKeys);

/// <summary>A dataset of the restore scenario: its custom-format archive and how it was made.</summary>
/// <param name="GenerationSeconds">How long making it took (tables and pg_dump); null when the archive was already in the cache.</param>
internal sealed record RestoreDataset(string Name, string Description, string ArchivePath, long ArchiveBytes, double? GenerationSeconds, TocCounts Toc);

/// <summary>
/// The restore scenario's datasets, made on a private server and dumped with the real <c>pg_dump -Fc</c>, then
/// kept in the temp directory (<c>restorecluster-bench/</c>) and reused by later runs.
/// </summary>
internal static class RestoreDatasets
{
    public static readonly IReadOnlyList<string> Names = ["many", "bigtable"];

    private const int ManyTables = 1_000;
    private const int ManyRows = 500;
    private const int PgbenchScale = 30;

    // Tables are made in batches: one transaction locks every relation it creates (the table, its TOAST table
    // and index, the primary key and the index), and all of them at once would overflow the server's lock
    // table (max_locks_per_transaction × max_connections).
    private const int TablesPerBatch = 250;

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(30);

    public static async Task<RestoreDataset> GetAsync(PostgresServer server, string name, CancellationToken cancellationToken)
    {
        var (description, fileName) = name switch
        {
            "many" => (string.Create(CultureInfo.InvariantCulture,
                $"{ManyTables:N0} tables of {ManyRows} rows (id integer PRIMARY KEY, k integer NOT NULL, v text; one index on k)"),
                $"restore-many-{ManyTables}x{ManyRows}.dump"),
            "bigtable" => (string.Create(CultureInfo.InvariantCulture,
                $"pgbench -i -s {PgbenchScale} ({PgbenchScale * 100_000:N0} pgbench_accounts rows), indexes on pgbench_accounts(bid) and (abalance), FOREIGN KEY (bid) REFERENCES pgbench_branches"),
                $"restore-bigtable-s{PgbenchScale}.dump"),
            _ => throw new ArgumentException($"unknown dataset {name}", nameof(name)),
        };

        string directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "restorecluster-bench")).FullName;
        string path = Path.Combine(directory, fileName);
        double? generation = null;
        if (!File.Exists(path))
        {
            var sw = Stopwatch.StartNew();
            string database = await server.CreateDatabaseAsync($"bench_source_{name}", cancellationToken: cancellationToken);
            await (name == "many" ? MakeManyAsync(server, database, cancellationToken) : MakeBigTableAsync(server, database, cancellationToken));

            // Written beside the final name and moved there, so an interrupted run leaves no partial archive.
            string partial = path + $".{Environment.ProcessId}.tmp";
            (await server.RunToolAsync(
                "pg_dump", ["--no-sync", "-Fc", "-f", partial, "-d", server.LibpqConnectionString(database)],
                timeout: ToolTimeout, cancellationToken: cancellationToken)).EnsureSuccess();
            File.Move(partial, path, overwrite: true);
            generation = Math.Round(sw.Elapsed.TotalSeconds, 1);
        }

        var list = (await server.RunToolAsync("pg_restore", ["-l", path], cancellationToken: cancellationToken)).EnsureSuccess();
        return new RestoreDataset(name, description, path, new FileInfo(path).Length, generation, CountToc(list.StdoutText));
    }

    private static async Task MakeManyAsync(PostgresServer server, string database, CancellationToken cancellationToken)
    {
        for (int first = 1; first <= ManyTables; first += TablesPerBatch)
        {
            await server.ExecuteAsync(database, ManyBatchSql(first, Math.Min(ManyTables, first + TablesPerBatch - 1)), cancellationToken);
        }
    }

    private static string ManyBatchSql(int first, int last) => string.Create(CultureInfo.InvariantCulture, $$"""
        DO $$
        BEGIN
          FOR i IN {{first}}..{{last}} LOOP
            EXECUTE format('CREATE TABLE public.t%s (id integer PRIMARY KEY, k integer NOT NULL, v text)', i);
            EXECUTE format('CREATE INDEX t%s_k_idx ON public.t%s (k)', i, i);
            EXECUTE format('INSERT INTO public.t%s SELECT g, g %% 7, md5(g::text) FROM generate_series(1, {{ManyRows}}) g', i);
          END LOOP;
        END
        $$
        """);

    private static async Task MakeBigTableAsync(PostgresServer server, string database, CancellationToken cancellationToken)
    {
        (await ProcessRunner.RunAsync(
            Pgbench(), ["-i", "-q", "-s", PgbenchScale.ToString(CultureInfo.InvariantCulture), database],
            server.LibpqEnvironment(), timeout: ToolTimeout, cancellationToken: cancellationToken)).EnsureSuccess();
        await server.ExecuteAsync(database, """
            CREATE INDEX ON pgbench_accounts (bid);
            CREATE INDEX ON pgbench_accounts (abalance);
            ALTER TABLE pgbench_accounts ADD FOREIGN KEY (bid) REFERENCES pgbench_branches;
            """, cancellationToken);
    }

    // Looked for like pg_dump (PgBinaries: beside the server's binaries), then on PATH (Debian's /usr/bin/pgbench
    // is pg_wrapper, which picks a version of its own).
    internal static string Pgbench()
    {
        if (PgBinaries.Has("pgbench"))
        {
            return PgBinaries.Tool("pgbench");
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "pgbench")))
            {
                return Path.Combine(dir, "pgbench");
            }
        }

        throw new FileNotFoundException($"pgbench not found in {PgBinaries.BinDirectory} nor on PATH; the bigtable dataset needs it (it comes with PostgreSQL)");
    }

    // A -l line is "dumpId; catalogOid objectOid DESC namespace tag owner", DESC possibly of several words
    // (pg_backup_archiver.c, PrintTOCSummary); comment lines start with ';'.
    private static TocCounts CountToc(string listing)
    {
        var descs = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith(';'))
            .Select(line => line.Split(' ', 4))
            .Where(fields => fields.Length == 4)
            .Select(fields => fields[3])
            .ToList();
        return new TocCounts(
            descs.Count,
            descs.Count(d => d.StartsWith("TABLE ", StringComparison.Ordinal) && !d.StartsWith("TABLE DATA ", StringComparison.Ordinal)),
            descs.Count(d => d.StartsWith("TABLE DATA ", StringComparison.Ordinal)),
            descs.Count(d => d.StartsWith("INDEX ", StringComparison.Ordinal)),
            descs.Count(d => d.StartsWith("CONSTRAINT ", StringComparison.Ordinal)),
            descs.Count(d => d.StartsWith("FK CONSTRAINT ", StringComparison.Ordinal)));
    }
}
