using System.Globalization;
using System.Runtime.InteropServices;
using Npgsql;
using RestoreCluster.LocalPostgres;
using RestoreCluster.Testing;

namespace RestoreCluster.Benchmarks;

/// <summary>
/// <c>restorecluster restore -j N</c> against <c>pg_restore -j N</c>: the same archives restored by both command
/// lines, as a user types them, into fresh databases of one private server, alternating the tools. Wall time
/// and the tools' CPU time (user + sys, start-up included) per run; medians, the wall ratio and the issue's
/// CPU check (restorecluster ≤ 2 × pg_restore + 0.5 s) per dataset and N. With <c>--analyze yes</c>, the time until
/// the database is restored and analyzed ("ready to serve"): <c>restorecluster restore --analyze -j N</c> against
/// <c>pg_restore -j N</c> followed by <c>vacuumdb --analyze-only -j N</c>. The method is in docs/performance.md.
/// </summary>
internal static class RestoreBenchmark
{
    public const string PgRestore = "pg_restore";
    public const string Restorecluster = "restorecluster";

    private const string Vacuumdb = "vacuumdb";

    private const string CpuCheck = "restorecluster CPU ≤ 2 × pg_restore CPU + 0.5 s, on the medians";

    private static readonly string[] Tools = [PgRestore, Restorecluster];
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(60);

    /// <param name="Jobs">The -j values of every dataset, or null for each dataset's own (RestoreDatasets.DefaultJobs).</param>
    /// <param name="Vacuumdb">With --analyze yes: vacuumdb, beside pg_restore; null otherwise.</param>
    private sealed record Settings(
        IReadOnlyList<string> Datasets, IReadOnlyList<int>? Jobs, int Rounds, string? JsonPath, string Cli, string PgRestore, double WideGigabytes,
        string? Vacuumdb = null)
    {
        public bool Analyze => Vacuumdb is not null;

        public IReadOnlyList<int> JobsOf(string dataset) => Jobs ?? RestoreDatasets.DefaultJobs(dataset);
    }

    private sealed class BenchmarkFailedException(string message) : Exception(message);

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = Parse(args);
        if (settings is null)
        {
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await RunAsync(settings, cancel.Token);
        }
        catch (BenchmarkFailedException e)
        {
            Console.Error.WriteLine($"restore benchmark failed: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine("restore benchmark interrupted; the server and its databases are removed");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static Settings? Parse(string[] args)
    {
        var options = BenchmarkArgs.Parse(args, "--dataset", "--jobs", "--rounds", "--json", "--wide-gb", "--analyze");
        if (options is null)
        {
            return null;
        }

        string dataset = options.Text("--dataset") ?? "all";
        IReadOnlyList<string> datasets = dataset == "all" ? RestoreDatasets.Default : dataset.Split(',');
        IReadOnlyList<int>? jobs = options.Text("--jobs") is null ? null : options.Ints("--jobs");
        int rounds = options.Int("--rounds", 3);
        double wideGigabytes = double.Parse(options.Text("--wide-gb") ?? "3", CultureInfo.InvariantCulture);
        string analyze = options.Text("--analyze") ?? "no";
        if (datasets.Any(d => !RestoreDatasets.Names.Contains(d)) || (jobs?.Any(j => j < 1) ?? false) || rounds < 1 || wideGigabytes <= 0
            || analyze is not ("yes" or "no"))
        {
            Console.Error.WriteLine(
                $"--dataset is one or more of {string.Join(", ", RestoreDatasets.Names)} (comma-separated), or all ({string.Join(", ", RestoreDatasets.Default)}); " +
                "--jobs and --rounds are at least 1; --wide-gb is above 0; --analyze is yes or no");
            return null;
        }

        string cli = Path.Combine(RepoPaths.RepoRoot, "src", "RestoreCluster.Cli", "bin", "Release", "net10.0", "restorecluster");
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine($"restorecluster is not built: {cli} is missing; run ./build.sh --target=Build (Release) first");
            return null;
        }

        if (!PgBinaries.Has(PgRestore))
        {
            Console.Error.WriteLine($"pg_restore is not installed beside the server's binaries in {PgBinaries.BinDirectory}");
            return null;
        }

        if (analyze == "yes" && !PgBinaries.Has(Vacuumdb))
        {
            Console.Error.WriteLine($"vacuumdb is not installed beside the server's binaries in {PgBinaries.BinDirectory}");
            return null;
        }

        return new Settings(
            datasets, jobs, rounds, options.Text("--json"), cli, PgBinaries.Tool(PgRestore), wideGigabytes, analyze == "yes" ? PgBinaries.Tool(Vacuumdb) : null);
    }

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        string loadAtStart = MachineFacts.LoadAverage();
        Progress("starting a private PostgreSQL server");
        await using var server = await PostgresServer.StartAsync(cancellationToken);
        string serverVersion = await server.ScalarAsync<string>("postgres", "SHOW server_version", cancellationToken) ?? "unknown";
        string serverSettings = await server.ScalarAsync<string>("postgres", """
            SELECT string_agg(n || '=' || current_setting(n), ', ' ORDER BY i)
            FROM unnest(ARRAY['fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size', 'maintenance_work_mem'])
                WITH ORDINALITY AS s(n, i)
            """, cancellationToken) ?? "";
        var serverCpu = await ServerCpu.FindAsync(server, cancellationToken);

        var datasets = new List<RestoreDataset>();
        foreach (string name in settings.Datasets)
        {
            Progress($"dataset {name}: the archive (made now unless cached; this takes a while the first time)");
            var dataset = await RestoreDatasets.GetAsync(server, name, settings.WideGigabytes, cancellationToken);
            string made = dataset.GenerationSeconds is double s ? string.Create(CultureInfo.InvariantCulture, $"made in {s:F1} s") : "cached";
            Progress(string.Create(CultureInfo.InvariantCulture,
                $"dataset {name}: {dataset.ArchivePath}, {dataset.ArchiveBytes:N0} bytes, {dataset.Toc.Entries:N0} TOC entries, {dataset.Toc.Tables:N0} tables, {made}"));
            datasets.Add(dataset);
        }

        var runs = new List<RunRecord>();
        foreach (var dataset in datasets)
        {
            foreach (int jobs in settings.JobsOf(dataset.Name))
            {
                // Round 0 is the warm-up (page cache, the archive, the runtime's files); then pg_restore, restorecluster, ...
                for (int round = 0; round <= settings.Rounds; round++)
                {
                    foreach (string tool in Tools)
                    {
                        runs.Add(await RunOneAsync(server, serverCpu, settings, dataset, jobs, round, tool, cancellationToken));
                    }
                }
            }
        }

        // Counted only now: nothing but CREATE DATABASE, CHECKPOINT and the tools touched the server between runs
        // (the wide dataset's runs were counted, and dropped, right after each one).
        var counted = new List<RunRecord>();
        foreach (var run in runs)
        {
            counted.Add(run.Restored is not null ? run : run with { Restored = await CountRestoredAsync(server, run.Database, cancellationToken) });
        }

        var environment = new RunEnvironment(
            started, MachineFacts.Cores, MachineFacts.CpuModel(), MachineFacts.Memory(), loadAtStart, MachineFacts.LoadAverage(),
            serverVersion, serverSettings, settings.PgRestore, await VersionAsync(settings.PgRestore, cancellationToken),
            settings.Cli, await VersionAsync(settings.Cli, cancellationToken), File.GetLastWriteTimeUtc(settings.Cli));
        await DropAllDatabasesAsync(server, cancellationToken);

        var report = new RestoreBenchmarkReport(
            environment, Method(settings), CpuCheck, datasets, RestoreBenchmarkReport.Compare(counted, environment.Cores), counted,
            Mismatches(counted, datasets, settings.Analyze))
        {
            Analyze = settings.Analyze,
        };
        string json = report.ToJson();
        Console.WriteLine(report.ToMarkdown());
        Console.WriteLine("## JSON");
        Console.WriteLine();
        Console.WriteLine("```json");
        Console.WriteLine(json);
        Console.WriteLine("```");
        if (settings.JsonPath is not null)
        {
            await File.WriteAllTextAsync(settings.JsonPath, json + "\n", CancellationToken.None);
            Progress($"JSON written to {settings.JsonPath}");
        }

        return report.RestoredMismatches.Count == 0 ? 0 : 1;
    }

    private static async Task<RunRecord> RunOneAsync(
        PostgresServer server, ServerCpu serverCpu, Settings settings, RestoreDataset dataset, int jobs, int round, string tool, CancellationToken cancellationToken)
    {
        string roundName = round == 0 ? "warm-up" : $"round {round}";
        string database = await server.CreateDatabaseAsync(
            $"{dataset.Name}_j{jobs}_{(tool == PgRestore ? "pg" : "rc")}_{(round == 0 ? "warmup" : $"r{round}")}", cancellationToken: cancellationToken);

        // Dirty pages of earlier runs are written out (CHECKPOINT) and the kernel's flushed to disk (sync),
        // so no run pays for its predecessor's writes; the pause lets the disk settle.
        await server.ExecuteAsync("postgres", "CHECKPOINT", cancellationToken);
        Sync();
        await Task.Delay(Pause, cancellationToken);

        string n = jobs.ToString(CultureInfo.InvariantCulture);
        var (program, args) = (tool, settings.Vacuumdb) switch
        {
            (PgRestore, null) => (settings.PgRestore, new[] { "-j", n, "-d", database, dataset.ArchivePath }),
            // Ready to serve: vacuumdb right after pg_restore, in one timed command (sh waits for both; bash's times counts them).
            (PgRestore, { } vacuumdb) => ("/bin/sh", new[]
            {
                "-c", "\"$1\" -j \"$3\" -d \"$4\" \"$5\" && exec \"$2\" --analyze-only --quiet -j \"$3\" -d \"$4\"", "ready",
                settings.PgRestore, vacuumdb, n, database, dataset.ArchivePath,
            }),
            (_, null) => (settings.Cli, new[] { "restore", "-j", n, "--progress", "none", "-d", database, dataset.ArchivePath }),
            _ => (settings.Cli, new[] { "restore", "-j", n, "--analyze", "--progress", "none", "-d", database, dataset.ArchivePath }),
        };
        TimedRun run;
        RunPhases? phases;
        double serverCpuBefore;
        await using (var sampler = await PhaseSampler.StartAsync(server, database, cancellationToken))
        {
            serverCpuBefore = serverCpu.Seconds();
            run = await TimedCommand.RunAsync(program, args, server.LibpqEnvironment(), RunTimeout, cancellationToken);
            phases = await sampler.StopAsync(run.Wall);
        }

        // The server's CPU for the run: read once the run's backends have ended (and been reaped), so that all of theirs counts.
        await ServerCpu.SessionsGoneAsync(server, database, cancellationToken);
        double serverCpuSeconds = Math.Round(serverCpu.Seconds() - serverCpuBefore, 2);

        if (run.ExitCode != 0)
        {
            throw new BenchmarkFailedException(
                $"{tool} {string.Join(' ', args)} ({dataset.Name}, -j {jobs}, {roundName}) exited with code {run.ExitCode}; stderr:\n{run.Stderr}");
        }

        var record = new RunRecord(
            dataset.Name, jobs, tool, round, database, Math.Round(run.Wall.TotalSeconds, 3), run.User.TotalSeconds, run.Sys.TotalSeconds)
        {
            Phases = phases,
            ServerCpuSeconds = serverCpuSeconds,
        };
        Progress(string.Create(CultureInfo.InvariantCulture,
            $"{dataset.Name} -j {jobs} {roundName} {tool}: wall {record.WallSeconds:F2} s, cpu {record.CpuSeconds:F2} s (user {record.UserSeconds:F2}, sys {record.SysSeconds:F2}), server cpu {serverCpuSeconds:F2} s, {PhasesText(phases)}"));
        if (run.Stderr.Trim().Length > 0)
        {
            Progress($"  {tool} exited 0 and wrote on stderr:\n{run.Stderr.TrimEnd()}");
        }

        if (RestoreDatasets.DropAfterEachRun(dataset.Name))
        {
            // Too big to keep every copy until the end (D3): counted now, then dropped before the next run's pause.
            record = record with { Restored = await CountRestoredAsync(server, database, cancellationToken) };
            NpgsqlConnection.ClearAllPools();
            await server.DropDatabaseAsync(database, cancellationToken);
        }

        return record;
    }

    private static string PhasesText(RunPhases? p) => p is null
        ? "no COPY seen"
        : string.Create(CultureInfo.InvariantCulture, $"phases {p.PreDataSeconds:F2} / {p.DataSeconds:F2} / {p.PostDataSeconds:F2} s");

    private static async Task<RestoredObjects> CountRestoredAsync(PostgresServer server, string database, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString(database));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p'))::int,
                   (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'i')::int,
                   (SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype = 'f')::int,
                   pg_database_size(current_database()),
                   (SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 'public' AND analyze_count > 0)::int
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new RestoredObjects(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3)) { Analyzed = reader.GetInt32(4) };
    }

    // The archives' indexes are their INDEX entries plus the primary keys (every CONSTRAINT entry of these datasets). With
    // --analyze yes, every table must have been analyzed (by vacuumdb, or by restorecluster's units).
    private static List<string> Mismatches(IReadOnlyList<RunRecord> runs, IReadOnlyList<RestoreDataset> datasets, bool analyze) =>
        runs.Select(r => (Run: r, Toc: datasets.Single(d => d.Name == r.Dataset).Toc))
            .Where(x => x.Run.Restored is not { } o
                || o.Tables != x.Toc.Tables || o.Indexes != x.Toc.Indexes + x.Toc.Constraints || o.ForeignKeys != x.Toc.ForeignKeys
                || (analyze && o.Analyzed != x.Toc.Tables))
            .Select(x => $"{x.Run.Database} ({x.Run.Tool}): {x.Run.Restored}, the archive lists {x.Toc.Tables} tables, " +
                $"{x.Toc.Indexes + x.Toc.Constraints} indexes and primary keys, {x.Toc.ForeignKeys} foreign keys" + (analyze ? ", every table analyzed" : ""))
            .ToList();

    // Every database but postgres and the templates: the restored ones and the datasets' sources.
    private static async Task DropAllDatabasesAsync(PostgresServer server, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await using (var connection = new NpgsqlConnection(server.ConnectionString("postgres")))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname <> 'postgres' AND NOT datistemplate", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                names.Add(reader.GetString(0));
            }
        }

        NpgsqlConnection.ClearAllPools();
        Progress($"dropping {names.Count} databases");
        foreach (string name in names)
        {
            await server.DropDatabaseAsync(name, cancellationToken);
        }
    }

    private static async Task<string> VersionAsync(string program, CancellationToken cancellationToken)
    {
        var result = (await ProcessRunner.RunAsync(program, ["--version"], cancellationToken: cancellationToken)).EnsureSuccess();
        return result.StdoutText.Trim();
    }

    private static string Method(Settings settings) =>
        $"for each dataset and -j N, one untimed warm-up run of each tool, then {settings.Rounds.ToString(CultureInfo.InvariantCulture)} round(s) of pg_restore then restorecluster; " +
        (settings.Analyze
            ? "ready to serve: the commands are `pg_restore -j N -d DB ARCHIVE && vacuumdb --analyze-only --quiet -j N -d DB` (one timed command under sh) " +
                "and `restorecluster restore -j N --analyze --progress none -d DB ARCHIVE` "
            : "the commands are `pg_restore -j N -d DB ARCHIVE` and `restorecluster restore -j N --progress none -d DB ARCHIVE` ") +
        "(PGHOST, PGPORT and PGUSER set, no other PG* variable); each run goes into a new database made just before it " +
        "(CREATE DATABASE), after CHECKPOINT, sync(2) and a 2 s pause; wall time is from starting the command to its exit " +
        "(under bash, which adds a few ms); CPU time is user + sys of the tool's process and the children it waited for " +
        "(bash's `times`), start-up included, the server's backends not counted there; server CPU is user + sys of the server's " +
        "postmaster and all its processes (/proc), from just before the command to when the run's last session has ended; phases (pre-data, data, post-data) from pg_stat_activity " +
        "sampled every 25 ms: data runs from the first COPY seen starting to the first sample with no COPY after the last; " +
        "no database is dropped before the end of the run, except the wide dataset's, each dropped right after it is counted";

    private static void Progress(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    [DllImport("libc", EntryPoint = "sync")]
    private static extern void Sync();
}
