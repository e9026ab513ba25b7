using System.Globalization;
using RestoreCluster.Planning;
using ScottPlot;

namespace RestoreCluster.Cli.Tune;

/// <summary>
/// <c>tune</c>'s PNG (ScottPlot): wall time against <c>-j</c> (left axis, a line), and what the sessions did at each
/// <c>-j</c> (right axis, stacked bars of their share of session time: the largest kinds, the rest as "other").
/// </summary>
internal static class TunePlot
{
    private const int MostKinds = 6;

    public static void Write(TuneReport report, string path)
    {
        var plot = new Plot();
        var runs = report.Runs;
        double[] positions = [.. Enumerable.Range(0, runs.Count).Select(i => (double)i)];
        var kinds = runs.SelectMany(r => r.Trial.WaitShares)
            .GroupBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(g => (Key: g.Key, Total: g.Sum(kv => kv.Value)))
            .OrderByDescending(k => k.Total).ThenBy(k => k.Key, StringComparer.Ordinal)
            .Take(MostKinds).Select(k => k.Key).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        for (int i = 0; i < runs.Count; i++)
        {
            double bottom = 0;
            foreach (var (key, share) in Stacked(runs[i].Trial.WaitShares, kinds))
            {
                int k = kinds.IndexOf(key);
                var color = k >= 0 ? palette.GetColor(k + 1) : Colors.Gray;
                bars.Add(new Bar { Position = i, ValueBase = bottom, Value = bottom + share * 100, FillColor = color.WithAlpha(0.55), Size = 0.6 });
                bottom += share * 100;
            }
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.Axes.YAxis = plot.Axes.Right;
        for (int k = 0; k < kinds.Count; k++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = Label(kinds[k]), FillColor = palette.GetColor(k + 1).WithAlpha(0.55) });
        }

        if (runs.Any(r => r.Trial.WaitShares.Keys.Any(key => !kinds.Contains(key))))
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "other waits", FillColor = Colors.Gray.WithAlpha(0.55) });
        }

        var finished = runs.Select((r, i) => (r, i)).Where(x => x.r.Trial.Finished).ToList();
        var line = plot.Add.Scatter(finished.Select(x => (double)x.i).ToArray(), finished.Select(x => x.r.Trial.WallSeconds).ToArray());
        line.Color = palette.GetColor(0);
        line.LineWidth = 3;
        line.MarkerSize = 10;
        plot.Legend.ManualItems.Insert(0, new LegendItem { LabelText = "wall time (s)", LineColor = palette.GetColor(0), LineWidth = 3, MarkerShape = MarkerShape.FilledCircle, MarkerColor = palette.GetColor(0) });

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            positions, [.. runs.Select(r => r.Trial.Jobs.ToString(CultureInfo.InvariantCulture))]);
        plot.Axes.Bottom.Label.Text = "-j";
        plot.Axes.Left.Label.Text = "wall time (s)";
        plot.Axes.Right.Label.Text = "share of session time (%)";
        plot.Axes.SetLimitsX(-0.6, runs.Count - 0.4);
        plot.Axes.SetLimitsY(0, Math.Max(1, finished.Select(x => x.r.Trial.WallSeconds).DefaultIfEmpty(1).Max() * 1.15), plot.Axes.Left);
        plot.Axes.SetLimitsY(0, 100, plot.Axes.Right);
        string advice = report.Advice.Jobs is { } j ? string.Create(CultureInfo.InvariantCulture, $": recommended -j {j}") : "";
        plot.Title($"restorecluster tune{(report.Sampled ? " (sampled)" : "")}{advice}");
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.Orientation = Orientation.Horizontal;
        try
        {
            plot.SavePng(path, 960, 640);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"could not write the plot \"{path}\": {e.Message}");
        }
    }

    // Each kind's share in the order of the legend, the rest summed last.
    private static IEnumerable<(string Key, double Share)> Stacked(IReadOnlyDictionary<string, double> shares, List<string> kinds)
    {
        foreach (string key in kinds)
        {
            if (shares.TryGetValue(key, out double share))
            {
                yield return (key, share);
            }
        }

        double other = shares.Where(kv => !kinds.Contains(kv.Key)).Sum(kv => kv.Value);
        if (other > 0)
        {
            yield return ("", other);
        }
    }

    private static string Label(string key) => key == JobsAdvice.Cpu ? "CPU (no wait)" : JobsAdvice.EventName(key);
}
