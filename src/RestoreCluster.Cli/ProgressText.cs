using System.Globalization;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli;

/// <summary>The words and numbers the progress displays share (invariant culture, one place).</summary>
internal static class ProgressText
{
    public static string Phase(JobPhase phase) => phase switch
    {
        JobPhase.PreData => "pre-data",
        JobPhase.Data => "data",
        JobPhase.PostData => "post-data",
        _ => "done",
    };

    public static string Size(long bytes) => bytes >= 1L << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MB");

    /// <summary>Whole percent of a known total; null when the total is unknown (0).</summary>
    public static int? Percent(long done, long total) =>
        total <= 0 ? null : (int)Math.Floor(Math.Clamp((double)done / total, 0, 1) * 100);

    /// <summary>Table data done: <c>41% 3.3/8.0 MB</c>, or <c>3.3 MB read</c> when the total is unknown.</summary>
    public static string Data(long done, long total) => Percent(done, total) is { } p
        ? string.Create(CultureInfo.InvariantCulture, $"{p}% {done / 1048576.0:0.0}/{total / 1048576.0:0.0} MB")
        : $"{Size(done)} read";

    public static string Rate(double? bytesPerSecond) =>
        bytesPerSecond is { } r ? string.Create(CultureInfo.InvariantCulture, $"{r / 1048576.0:0.0} MB/s") : "-";

    public static string Eta(TimeSpan? eta) => eta is { } t ? t.ToString("c", CultureInfo.InvariantCulture) : "-";

    /// <summary>A running unit: <c>TABLE DATA public.orders 41% 1.2 GB 35 s</c> (no percentage without a size).</summary>
    public static string Running(RunningUnit unit, DateTimeOffset now)
    {
        double seconds = Math.Max(0, (now - unit.Started).TotalSeconds);
        string data = unit.DataBytes > 0
            ? $" {Percent(unit.BytesRead, unit.DataBytes)}% {Size(Math.Min(unit.BytesRead, unit.DataBytes))}"
            : unit.BytesRead > 0 ? $" {Size(unit.BytesRead)}" : "";
        return string.Create(CultureInfo.InvariantCulture, $"{unit.Label}{data} {seconds:0} s");
    }

    /// <summary>The end-of-restore summary, a few lines for stderr (live and plain modes).</summary>
    public static IEnumerable<string> Summary(JobStatus job, TimeSpan wall)
    {
        var ci = CultureInfo.InvariantCulture;
        var p = job.PhaseSeconds;
        yield return string.Create(ci, $"restorecluster: summary: {job.State.ToString().ToLowerInvariant()} in {wall.TotalSeconds:0.0} s");
        yield return string.Create(ci, $"  phases      pre-data {p.PreData:0.0} s, data {p.Data:0.0} s, post-data {p.PostData:0.0} s");
        yield return string.Create(ci, $"  units       {job.UnitsDone}/{job.UnitsTotal}");
        yield return string.Create(ci, $"  rows        {job.Rows}");
        yield return $"  table data  {Size(job.BytesDone)}";
        for (int i = 0; i < job.Slowest.Count; i++)
        {
            var s = job.Slowest[i];
            yield return string.Create(ci, $"  {(i == 0 ? "slowest" : ""),-11} {s.Seconds,7:0.0} s  {s.Label}");
        }

        yield return string.Create(ci, $"  errors      {job.Errors}, retries {job.Retries}");
    }
}
