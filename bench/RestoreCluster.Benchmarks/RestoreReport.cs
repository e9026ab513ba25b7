using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RestoreCluster.Benchmarks;

/// <summary>What a restored database holds, counted after the whole run (schema public); <see cref="Analyzed"/>: its tables that were analyzed.</summary>
internal sealed record RestoredObjects(int Tables, int Indexes, int ForeignKeys, long DatabaseBytes)
{
    public int Analyzed { get; init; }
}

/// <summary>One run of one tool into its own database. Round 0 is the untimed warm-up.</summary>
internal sealed record RunRecord(string Dataset, int Jobs, string Tool, int Round, string Database, double WallSeconds, double UserSeconds, double SysSeconds)
{
    public bool WarmUp => Round == 0;

    public double CpuSeconds => Math.Round(UserSeconds + SysSeconds, 3);

    public RestoredObjects? Restored { get; init; }

    /// <summary>Pre-data, data and post-data (PhaseSampler); null when no COPY was seen running.</summary>
    public RunPhases? Phases { get; init; }

    /// <summary>User + sys CPU of the server's processes over the run (<see cref="ServerCpu"/>).</summary>
    public double ServerCpuSeconds { get; init; }
}

/// <summary>A tool's medians over the timed rounds; each phase's median is over the runs whose phases were seen.</summary>
internal sealed record ToolMedians(double WallSeconds, double CpuSeconds, RunPhases? Phases, double ServerCpuSeconds);

/// <summary>
/// The medians of one dataset and -j, and the issue's CPU check on them. <paramref name="AboveCores"/>: -j is above
/// the machine's core count, so the tools' sessions and the server share fewer cores than -j (marked in the report).
/// <paramref name="PgRestoreFloorRatio"/>: (pg_restore's server CPU + its own CPU) / cores / pg_restore's wall, how busy
/// pg_restore kept the machine's cores, and so the least wall ratio any tool can reach that costs the machine as much
/// CPU (server and client) as pg_restore, even with every core busy from start to end.
/// <paramref name="RestoreclusterFloorRatio"/>: the same with restorecluster's server CPU and its own: the least ratio it
/// could reach with the CPU it used.
/// </summary>
internal sealed record Comparison(
    string Dataset, int Jobs, bool AboveCores, int Rounds, ToolMedians PgRestore, ToolMedians Restorecluster, double WallRatio, double CpuBoundSeconds, bool CpuCheckPassed,
    double PgRestoreFloorRatio, double RestoreclusterFloorRatio);

/// <summary>Where and with what the run was made; all of it read from the machine, the server and the tools.</summary>
internal sealed record RunEnvironment(
    DateTimeOffset Started,
    int Cores,
    string CpuModel,
    string Memory,
    string LoadAverageAtStart,
    string LoadAverageAtEnd,
    string ServerVersion,
    string ServerSettings,
    string PgRestorePath,
    string PgRestoreVersion,
    string RestoreclusterPath,
    string RestoreclusterVersion,
    DateTimeOffset RestoreclusterBuilt);

internal sealed record RestoreBenchmarkReport(
    RunEnvironment Environment,
    string Method,
    string CpuCheck,
    IReadOnlyList<RestoreDataset> Datasets,
    IReadOnlyList<Comparison> Results,
    IReadOnlyList<RunRecord> Runs,
    IReadOnlyList<string> RestoredMismatches)
{
    /// <summary>The ready-to-serve comparison (--analyze yes): both tools' runs end with every table analyzed.</summary>
    public bool Analyze { get; init; }

    [JsonPropertyOrder(-1)]
    public string Scenario => Analyze ? "ready" : "restore";

    /// <summary>Medians over the timed rounds (warm-ups left out) of each dataset and -j, in run order.</summary>
    public static IReadOnlyList<Comparison> Compare(IReadOnlyList<RunRecord> runs, int cores) =>
        runs.Where(r => !r.WarmUp)
            .GroupBy(r => (r.Dataset, r.Jobs))
            .Select(g =>
            {
                var pg = Medians(g.Where(r => r.Tool == RestoreBenchmark.PgRestore).ToList());
                var rc = Medians(g.Where(r => r.Tool == RestoreBenchmark.Restorecluster).ToList());
                double bound = Math.Round(2 * pg.CpuSeconds + 0.5, 3);
                return new Comparison(
                    g.Key.Dataset, g.Key.Jobs, g.Key.Jobs > cores, g.Count(r => r.Tool == RestoreBenchmark.PgRestore), pg, rc,
                    Math.Round(rc.WallSeconds / pg.WallSeconds, 2), bound, rc.CpuSeconds <= bound,
                    Math.Round((pg.ServerCpuSeconds + pg.CpuSeconds) / cores / pg.WallSeconds, 2),
                    Math.Round((rc.ServerCpuSeconds + rc.CpuSeconds) / cores / pg.WallSeconds, 2));
            })
            .ToList();

    public string ToMarkdown()
    {
        var e = Environment;
        var md = new StringBuilder();
        Line(md, Analyze
            ? "# Ready-to-serve benchmark: restorecluster --analyze against pg_restore followed by vacuumdb --analyze-only"
            : "# Restore benchmark: restorecluster against pg_restore");
        Line(md, "");
        Line(md, $"- started {e.Started:yyyy-MM-dd HH:mm:ss} UTC; machine: {e.Cores} cores ({e.CpuModel}), {e.Memory} memory; load average {e.LoadAverageAtStart} at the start, {e.LoadAverageAtEnd} at the end");
        Line(md, $"- server: PostgreSQL {e.ServerVersion}, a private one on this machine (the test harness's), over TCP to 127.0.0.1; {e.ServerSettings}");
        Line(md, $"- pg_restore: `{e.PgRestorePath}` ({e.PgRestoreVersion})");
        Line(md, $"- restorecluster: `{e.RestoreclusterPath}` ({e.RestoreclusterVersion}, built {e.RestoreclusterBuilt:yyyy-MM-dd HH:mm} UTC)");
        Line(md, $"- method: {Method}");
        Line(md, "");
        Line(md, "## Datasets");
        Line(md, "");
        Line(md, "| dataset | contents | archive | archive bytes | TOC entries | tables | table data | indexes | constraints | FK constraints | archive made |");
        Line(md, "|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var d in Datasets)
        {
            var t = d.Toc;
            string made = d.GenerationSeconds is double s ? $"now, in {F(s, 1)} s" : "earlier (cached)";
            Line(md, $"| {d.Name} | {d.Description} | `{d.ArchivePath}` | {N(d.ArchiveBytes)} | {N(t.Entries)} | {N(t.Tables)} | {N(t.TableData)} | {N(t.Indexes)} | {N(t.Constraints)} | {N(t.ForeignKeys)} | {made} |");
        }

        Line(md, "");
        Line(md, "## Results (medians of the timed rounds)");
        Line(md, "");
        Line(md, "| dataset | -j | rounds | pg_restore wall | restorecluster wall | wall ratio (rc / pg) | pg_restore phases | restorecluster phases | pg_restore CPU | restorecluster CPU | CPU bound (2 × pg_restore + 0.5 s) | CPU check | server CPU (pg / rc) | floor ratio (pg / rc) |");
        Line(md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var c in Results)
        {
            string jobs = c.AboveCores ? $"{c.Jobs} (above {e.Cores} cores)" : c.Jobs.ToString(CultureInfo.InvariantCulture);
            Line(md, $"| {c.Dataset} | {jobs} | {c.Rounds} | {F(c.PgRestore.WallSeconds)} s | {F(c.Restorecluster.WallSeconds)} s | {F(c.WallRatio, 2)} | " +
                $"{Phases(c.PgRestore.Phases)} | {Phases(c.Restorecluster.Phases)} | " +
                $"{F(c.PgRestore.CpuSeconds)} s | {F(c.Restorecluster.CpuSeconds)} s | {F(c.CpuBoundSeconds)} s | {(c.CpuCheckPassed ? "pass" : "FAIL")} | " +
                $"{F(c.PgRestore.ServerCpuSeconds)} s / {F(c.Restorecluster.ServerCpuSeconds)} s | {F(c.PgRestoreFloorRatio, 2)} / {F(c.RestoreclusterFloorRatio, 2)} |");
        }

        Line(md, "");
        Line(md, $"CPU check: {CpuCheck}. Phases: pre-data / data / post-data in seconds (medians; how they are seen: the method above).");
        Line(md, $"Floor ratios: (server CPU + the tool's CPU) / {e.Cores} cores / pg_restore's wall. pg_restore's is how busy it kept the cores, and the least " +
            "wall ratio of any tool that costs the machine as much CPU, with every core busy throughout; restorecluster's is the least ratio it could reach " +
            "with the CPU it used.");
        if (Results.Any(c => c.AboveCores))
        {
            Line(md, $"Rows marked \"above {e.Cores} cores\" run more sessions than the machine has cores: both tools and the server share {e.Cores} cores.");
        }
        Line(md, "");
        Line(md, "## Runs (in the order they ran)");
        Line(md, "");
        Line(md, "| dataset | -j | round | tool | wall s | pre-data / data / post-data s | user s | sys s | CPU s | server CPU s | restored tables / indexes / FKs | database size | database |");
        Line(md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in Runs)
        {
            string restored = r.Restored is { } o ? $"{N(o.Tables)} / {N(o.Indexes)} / {N(o.ForeignKeys)}" : "not counted";
            string size = r.Restored is { } o2 ? $"{F(o2.DatabaseBytes / 1048576.0, 1)} MiB" : "";
            Line(md, $"| {r.Dataset} | {r.Jobs} | {(r.WarmUp ? "warm-up" : r.Round.ToString(CultureInfo.InvariantCulture))} | {r.Tool} | " +
                $"{F(r.WallSeconds)} | {Phases(r.Phases)} | {F(r.UserSeconds)} | {F(r.SysSeconds)} | {F(r.CpuSeconds)} | {F(r.ServerCpuSeconds)} | {restored} | {size} | {r.Database} |");
        }

        Line(md, "");
        Line(md, RestoredMismatches.Count == 0
            ? "Restored objects: every database holds the tables, indexes and foreign keys the archive lists" + (Analyze ? ", every table analyzed." : ".")
            : "Restored objects DIFFER from the archive:\n" + string.Join("\n", RestoredMismatches.Select(m => "- " + m)));
        return md.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // Paths, × and ≤ as they are, not \uXXXX escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static ToolMedians Medians(IReadOnlyList<RunRecord> runs)
    {
        var phased = runs.Select(r => r.Phases).OfType<RunPhases>().ToList();
        var phases = phased.Count == 0
            ? null
            : new RunPhases(
                Median(phased.Select(p => p.PreDataSeconds)), Median(phased.Select(p => p.DataSeconds)), Median(phased.Select(p => p.PostDataSeconds)));
        return new(Median(runs.Select(r => r.WallSeconds)), Median(runs.Select(r => r.CpuSeconds)), phases, Median(runs.Select(r => r.ServerCpuSeconds)));
    }

    private static string Phases(RunPhases? p) =>
        p is null ? "no COPY seen" : $"{F(p.PreDataSeconds)} / {F(p.DataSeconds)} / {F(p.PostDataSeconds)}";

    private static double Median(IEnumerable<double> values) => Math.Round(Measurement.Median(values), 3);

    private static void Line(StringBuilder md, string text) => md.Append(text).Append('\n');

    private static string F(double value, int decimals = 2) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
