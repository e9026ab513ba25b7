using System.Diagnostics;
using System.Globalization;
using Npgsql;
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
    /// <summary>Every dataset; <c>all</c> means <see cref="Default"/>: <c>wide</c> (about 3 GB) runs only when named.</summary>
    public static readonly IReadOnlyList<string> Names = ["many", "bigtable", "wide"];

    /// <summary>The datasets of <c>--dataset all</c> (the D2 and D1).</summary>
    public static readonly IReadOnlyList<string> Default = ["many", "bigtable"];

    private const int WideTables = 6;

    private const int ManyTables = 1_000;
    private const int ManyRows = 500;
    private const int PgbenchScale = 30;

    // Tables are made in batches: one transaction locks every relation it creates (the table, its TOAST table
    // and index, the primary key and the index), and all of them at once would overflow the server's lock
    // table (max_locks_per_transaction × max_connections).
    private const int TablesPerBatch = 250;

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The <c>-j</c> values a dataset runs at unless <c>--jobs</c> says otherwise: the issue asks for D1 (bigtable) at
    /// 1, 2, 4 and 8 (above the core count too, marked in the report), the others at 1 and 2.
    /// </summary>
    public static IReadOnlyList<int> DefaultJobs(string name) => name == "bigtable" ? [1, 2, 4, 8] : name == "wide" ? [2] : [1, 2];

    /// <summary>
    /// A dataset too big to keep a restored copy of each run (D3, <c>wide</c>): its databases are dropped right after
    /// each run is counted, and its figures are reported only (no target applies to them).
    /// </summary>
    public static bool DropAfterEachRun(string name) => name == "wide";

    /// <param name="wideGigabytes">The size of <c>wide</c>'s table data in all (its rows are made to add up to about that).</param>
    public static async Task<RestoreDataset> GetAsync(PostgresServer server, string name, double wideGigabytes, CancellationToken cancellationToken)
    {
        long wideRowsPerTable = (long)(wideGigabytes * 1024 * 1024 * 1024 / WideTables / WideRowBytes);
        var (description, fileName) = name switch
        {
            "many" => (string.Create(CultureInfo.InvariantCulture,
                $"{ManyTables:N0} tables of {ManyRows} rows (id integer PRIMARY KEY, k integer NOT NULL, v text; one index on k)"),
                $"restore-many-{ManyTables}x{ManyRows}.dump"),
            "bigtable" => (string.Create(CultureInfo.InvariantCulture,
                $"pgbench -i -s {PgbenchScale} ({PgbenchScale * 100_000:N0} pgbench_accounts rows), indexes on pgbench_accounts(bid) and (abalance), FOREIGN KEY (bid) REFERENCES pgbench_branches"),
                $"restore-bigtable-s{PgbenchScale}.dump"),
            "wide" => (string.Create(CultureInfo.InvariantCulture,
                $"{WideTables} tables of {wideRowsPerTable:N0} rows (about {wideGigabytes:0.###} GB of COPY text in all; id bigint PRIMARY KEY, 4 more columns each indexed: a int, b int, c text, d timestamptz)"),
                string.Create(CultureInfo.InvariantCulture, $"restore-wide-{WideTables}x{wideRowsPerTable}.dump")),
            _ => throw new ArgumentException($"unknown dataset {name}", nameof(name)),
        };

        string directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "restorecluster-bench")).FullName;
        string path = Path.Combine(directory, fileName);
        double? generation = null;
        if (!File.Exists(path))
        {
            var sw = Stopwatch.StartNew();
            string database = await server.CreateDatabaseAsync($"bench_source_{name}", cancellationToken: cancellationToken);
            await (name switch
            {
                "many" => MakeManyAsync(server, database, cancellationToken),
                "bigtable" => MakeBigTableAsync(server, database, cancellationToken),
                _ => MakeWideAsync(server, database, wideRowsPerTable, cancellationToken),
            });

            // Written beside the final name and moved there, so an interrupted run leaves no partial archive.
            string partial = path + $".{Environment.ProcessId}.tmp";
            (await server.RunToolAsync(
                "pg_dump", ["--no-sync", "-Fc", "-f", partial, "-d", server.LibpqConnectionString(database)],
                timeout: ToolTimeout, cancellationToken: cancellationToken)).EnsureSuccess();
            File.Move(partial, path, overwrite: true);
            if (DropAfterEachRun(name))
            {
                // The source is as big as a restored copy: it goes as soon as it is dumped.
                NpgsqlConnection.ClearAllPools();
                await server.DropDatabaseAsync(database, cancellationToken);
            }

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

    // About 190 bytes of COPY text per row: id, a, b, an md5 (32) repeated 4 times (128 + 3) and a timestamp.
    private const int WideRowBytes = 190;

    private static async Task MakeWideAsync(PostgresServer server, string database, long rowsPerTable, CancellationToken cancellationToken)
    {
        for (int i = 1; i <= WideTables; i++)
        {
            await server.ExecuteAsync(database, string.Create(CultureInfo.InvariantCulture, $"""
                CREATE TABLE public.w{i} (id bigint PRIMARY KEY, a integer NOT NULL, b integer NOT NULL, c text NOT NULL, d timestamptz NOT NULL);
                INSERT INTO public.w{i}
                  SELECT g, (g::bigint * 7919) % 1000003, g % 1000, repeat(md5(g::text), 4), timestamptz '2026-01-01' + g * interval '1 second'
                  FROM generate_series(1, {rowsPerTable}) g;
                CREATE INDEX w{i}_a_idx ON public.w{i} (a);
                CREATE INDEX w{i}_b_idx ON public.w{i} (b);
                CREATE INDEX w{i}_c_idx ON public.w{i} (c);
                CREATE INDEX w{i}_d_idx ON public.w{i} (d);
                """), cancellationToken);
        }
    }

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
