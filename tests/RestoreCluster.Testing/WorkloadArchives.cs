using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace RestoreCluster.Testing;

/// <summary>The shape of a generated workload: <see cref="Tables"/> small tables and one big one.</summary>
/// <param name="Tables">How many small tables (<c>t1</c> .. <c>tN</c>); at least 1.</param>
/// <param name="TableMegabytes">About how much COPY data each small table holds.</param>
/// <param name="BigMegabytes">About how much COPY data the table <c>big</c> holds (its COPY should take seconds).</param>
public sealed record WorkloadSpec(int Tables = 8, int TableMegabytes = 8, int BigMegabytes = 200)
{
    /// <summary>The default workload: 8 tables of about 8 MB and a big table of about 200 MB.</summary>
    public static WorkloadSpec Default { get; } = new();
}

/// <summary>A generated workload database and its archives made by the real pg_dump.</summary>
/// <param name="SourceDatabase">The generated database on the shared server (kept for the process's life).</param>
/// <param name="CustomArchive">pg_dump -Fc -Z1 of it.</param>
/// <param name="DirectoryArchive">pg_dump -Fd -Z0 of it.</param>
/// <param name="RowCounts">Rows per table, by unqualified table name (all tables are in <c>public</c>).</param>
/// <param name="BigTable">The name of the big table.</param>
/// <param name="ArchiveEntries">How many TOC entries the archive has (lines of <c>pg_restore -l</c>).</param>
public sealed record Workload(
    WorkloadSpec Spec,
    string SourceDatabase,
    string CustomArchive,
    string DirectoryArchive,
    IReadOnlyDictionary<string, long> RowCounts,
    string BigTable,
    int ArchiveEntries,
    TimeSpan GenerationTime);

/// <summary>
/// Builds, once per test process and spec, a database of several tables with primary keys, secondary
/// indexes and foreign keys (rows made with generate_series, so a few seconds per 100 MB), and dumps it
/// with the real pg_dump in the custom and directory formats. Used by the parallel and fault tests.
/// </summary>
public static class WorkloadArchives
{
    // A row of a small table is about 100 bytes of COPY text, one of the big table about 125.
    private const int SmallRowBytes = 100;
    private const int BigRowBytes = 125;

    private static readonly ConcurrentDictionary<WorkloadSpec, Lazy<Task<Workload>>> Built = new();

    /// <summary>The default workload (<see cref="WorkloadSpec.Default"/>).</summary>
    public static Task<Workload> GetAsync() => GetAsync(WorkloadSpec.Default);

    public static Task<Workload> GetAsync(WorkloadSpec spec)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.Tables, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.TableMegabytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.BigMegabytes, 1);
        return Built.GetOrAdd(spec, s => new Lazy<Task<Workload>>(() => BuildAsync(s), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    /// <summary>The SQL that generates the workload (public for inspection and ad-hoc use).</summary>
    public static string GenerationSql(WorkloadSpec spec, out IReadOnlyDictionary<string, long> rowCounts)
    {
        long smallRows = spec.TableMegabytes * 1048576L / SmallRowBytes;
        long bigRows = spec.BigMegabytes * 1048576L / BigRowBytes;
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var sql = new System.Text.StringBuilder();
        sql.AppendLine("SET synchronous_commit = off;");
        for (int i = 1; i <= spec.Tables; i++)
        {
            string t = $"t{i}";
            counts[t] = smallRows;
            // t1 is the parent of all others; the payload is 64 characters of hex.
            sql.AppendLine(CultureInfo.InvariantCulture, $"CREATE TABLE public.{t} (id bigint NOT NULL, t1_id bigint NOT NULL, k integer NOT NULL, payload text NOT NULL);");
            sql.AppendLine(CultureInfo.InvariantCulture,
                $"INSERT INTO public.{t} SELECT g, 1 + (g * 7919) % {smallRows}, (g * 31) % 1000, repeat(md5(g::text || '{t}'), 2) FROM generate_series(1, {smallRows}) g;");
        }

        counts["big"] = bigRows;
        sql.AppendLine("CREATE TABLE public.big (id bigint NOT NULL, t1_id bigint NOT NULL, k integer NOT NULL, payload text NOT NULL);");
        sql.AppendLine(CultureInfo.InvariantCulture,
            $"INSERT INTO public.big SELECT g, 1 + g % {smallRows}, (g * 17) % 100000, repeat(md5(g::text), 3) FROM generate_series(1, {bigRows}) g;");

        // Constraints and indexes after the data, as pg_dump orders them: post-data work for the restore.
        foreach (string t in counts.Keys)
        {
            sql.AppendLine(CultureInfo.InvariantCulture, $"ALTER TABLE public.{t} ADD CONSTRAINT {t}_pkey PRIMARY KEY (id);");
            sql.AppendLine(CultureInfo.InvariantCulture, $"CREATE INDEX {t}_k_idx ON public.{t} (k);");
        }

        foreach (string t in counts.Keys.Where(t => t != "t1"))
        {
            sql.AppendLine(CultureInfo.InvariantCulture, $"ALTER TABLE public.{t} ADD CONSTRAINT {t}_t1_fkey FOREIGN KEY (t1_id) REFERENCES public.t1 (id);");
        }

        sql.AppendLine("COMMENT ON TABLE public.big IS 'the table whose COPY takes seconds';");
        rowCounts = counts;
        return sql.ToString();
    }

    private static async Task<Workload> BuildAsync(WorkloadSpec spec)
    {
        var started = Stopwatch.StartNew();
        var server = await PostgresServer.GetSharedAsync().ConfigureAwait(false);
        string directory = System.IO.Directory.CreateTempSubdirectory("restorecluster-workload-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
        };
        await TempDirectoryWatchdog.StartAsync(directory).ConfigureAwait(false);

        string database = await server.CreateDatabaseAsync($"workload_{spec.Tables}x{spec.TableMegabytes}_{spec.BigMegabytes}").ConfigureAwait(false);
        string sql = GenerationSql(spec, out var rowCounts);
        var load = await server.RunToolAsync(
            "psql",
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server.LibpqConnectionString(database)],
            stdin: System.Text.Encoding.UTF8.GetBytes(sql),
            timeout: TimeSpan.FromMinutes(10)).ConfigureAwait(false);
        if (!load.Succeeded)
        {
            throw new InvalidOperationException($"generating workload {spec} failed: {load.Describe()}");
        }

        string custom = Path.Combine(directory, "workload.dump");
        string dir = Path.Combine(directory, "workload.dir");
        string source = server.LibpqConnectionString(database);
        var dumps = await Task.WhenAll(
            server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-Z1", "-f", custom, "-d", source], timeout: TimeSpan.FromMinutes(10)),
            server.RunToolAsync("pg_dump", ["--no-sync", "-Fd", "-Z0", "-f", dir, "-d", source], timeout: TimeSpan.FromMinutes(10))).ConfigureAwait(false);
        foreach (var dump in dumps)
        {
            if (!dump.Succeeded)
            {
                throw new InvalidOperationException($"pg_dump of workload {spec} failed: {dump.Describe()}");
            }
        }

        var list = await server.RunToolAsync("pg_restore", ["-l", custom], timeout: TimeSpan.FromMinutes(1)).ConfigureAwait(false);
        list.EnsureSuccess();
        int entries = list.StdoutText.Split('\n').Count(l => l.Length > 0 && !l.StartsWith(';'));
        return new Workload(spec, database, custom, dir, rowCounts, "big", entries, started.Elapsed);
    }
}
