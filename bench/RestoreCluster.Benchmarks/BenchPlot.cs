using System.Globalization;
using System.Text.Json;
using ScottPlot;

namespace RestoreCluster.Benchmarks;

/// <summary>One dataset at one -j in a restore benchmark's JSON: both tools' median wall times.</summary>
internal sealed record PlotPoint(string Dataset, int Jobs, bool AboveCores, double PgRestoreSeconds, double RestoreclusterSeconds);

/// <summary>
/// <c>plot --json RESTORE.json --png FILE</c> (docs/performance.md, "Benchmark: restore against pg_restore"): reads
/// the JSON that <c>restore --json</c> writes (<see cref="RestoreBenchmarkReport"/>: its <c>results</c>, the medians
/// of each dataset and -j) and draws, per dataset, the median wall time against -j of pg_restore (dashed) and
/// restorecluster (solid), one color per dataset. -j values above the machine's cores are marked on the axis.
/// </summary>
internal static class BenchPlot
{
    public static int Run(string[] args)
    {
        var options = BenchmarkArgs.Parse(args, "--json", "--png");
        if (options?.Text("--json") is not { } json || options.Text("--png") is not { } png)
        {
            Console.Error.WriteLine("usage: RestoreCluster.Benchmarks plot --json RESTORE.json --png FILE");
            return 2;
        }

        try
        {
            var (scenario, cores, points) = Read(File.ReadAllText(json));
            Write(scenario, cores, points, png);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            Console.Error.WriteLine($"plot: error: {json}: {e.Message}");
            return 1;
        }

        Console.WriteLine($"plot: wrote {png}");
        return 0;
    }

    /// <summary>The scenario ("restore" or "ready"), the machine's cores (0 when not given) and the points of a report's JSON.</summary>
    public static (string Scenario, int Cores, IReadOnlyList<PlotPoint> Points) Read(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException("no \"results\" array: not the JSON of \"restore --json\"");
        }

        string scenario = root.TryGetProperty("scenario", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "restore";
        int cores = root.TryGetProperty("environment", out var env) && env.ValueKind == JsonValueKind.Object
            && env.TryGetProperty("cores", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : 0;
        var points = new List<PlotPoint>();
        foreach (var r in results.EnumerateArray())
        {
            try
            {
                points.Add(new PlotPoint(
                    r.GetProperty("dataset").GetString()!, r.GetProperty("jobs").GetInt32(),
                    r.TryGetProperty("aboveCores", out var above) && above.ValueKind == JsonValueKind.True,
                    r.GetProperty("pgRestore").GetProperty("wallSeconds").GetDouble(),
                    r.GetProperty("restorecluster").GetProperty("wallSeconds").GetDouble()));
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"result {points.Count + 1}: {e.Message}", e);
            }
        }

        if (points.Count == 0)
        {
            throw new InvalidDataException("no results to plot");
        }

        return (scenario, cores, points);
    }

    public static void Write(string scenario, int cores, IReadOnlyList<PlotPoint> points, string path)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var datasets = points.Select(p => p.Dataset).Distinct(StringComparer.Ordinal).ToList();
        bool ready = scenario == "ready";
        for (int d = 0; d < datasets.Count; d++)
        {
            var series = points.Where(p => p.Dataset == datasets[d]).OrderBy(p => p.Jobs).ToList();
            double[] jobs = [.. series.Select(p => (double)p.Jobs)];
            var theirs = plot.Add.Scatter(jobs, series.Select(p => p.PgRestoreSeconds).ToArray());
            theirs.Color = palette.GetColor(d);
            theirs.LinePattern = LinePattern.Dashed;
            theirs.LineWidth = 2;
            theirs.MarkerShape = MarkerShape.OpenSquare;
            theirs.MarkerSize = 9;
            theirs.LegendText = $"{datasets[d]}: {(ready ? "pg_restore + vacuumdb" : "pg_restore")}";
            var ours = plot.Add.Scatter(jobs, series.Select(p => p.RestoreclusterSeconds).ToArray());
            ours.Color = palette.GetColor(d);
            ours.LineWidth = 3;
            ours.MarkerShape = MarkerShape.FilledCircle;
            ours.MarkerSize = 9;
            ours.LegendText = $"{datasets[d]}: {(ready ? "restorecluster --analyze" : "restorecluster")}";
        }

        var ticks = points.GroupBy(p => p.Jobs).OrderBy(g => g.Key).ToList();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. ticks.Select(g => (double)g.Key)],
            [.. ticks.Select(g => g.Any(p => p.AboveCores) ? $"{g.Key}\n(> {cores} cores)" : g.Key.ToString(CultureInfo.InvariantCulture))]);
        plot.Axes.Bottom.Label.Text = "-j";
        plot.Axes.Left.Label.Text = ready ? "time to ready, median (s)" : "wall time, median (s)";
        double top = points.Max(p => Math.Max(p.PgRestoreSeconds, p.RestoreclusterSeconds));
        plot.Axes.SetLimitsY(0, Math.Max(0.1, top * 1.15));
        plot.Axes.SetLimitsX(ticks[0].Key - 0.5, ticks[^1].Key + 0.5);
        plot.Title(ready ? "Ready to serve: restorecluster --analyze against pg_restore + vacuumdb" : "Restore: restorecluster against pg_restore");
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.SavePng(path, 960, 640);
    }
}
