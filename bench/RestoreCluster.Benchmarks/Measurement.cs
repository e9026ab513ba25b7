using System.Diagnostics;
using System.Globalization;

namespace RestoreCluster.Benchmarks;

/// <summary>Wall time and this process's CPU time (all threads) of a piece of work, and their formatting.</summary>
internal static class Measurement
{
    public static (TimeSpan Wall, TimeSpan Cpu, T Result) Measure<T>(Func<T> action)
    {
        var cpu0 = ProcessCpu();
        var sw = Stopwatch.StartNew();
        var result = action();
        sw.Stop();
        return (sw.Elapsed, ProcessCpu() - cpu0, result);
    }

    public static async Task<(TimeSpan Wall, TimeSpan Cpu, T Result)> MeasureAsync<T>(Func<Task<T>> action)
    {
        var cpu0 = ProcessCpu();
        var sw = Stopwatch.StartNew();
        var result = await action();
        sw.Stop();
        return (sw.Elapsed, ProcessCpu() - cpu0, result);
    }

    /// <summary>The median of some values (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        int middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Milliseconds, two decimals.</summary>
    public static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>Microseconds per item, two decimals.</summary>
    public static string Us(TimeSpan t, int n) => (t.TotalMilliseconds * 1000 / Math.Max(1, n)).ToString("F2", CultureInfo.InvariantCulture);

    private static TimeSpan ProcessCpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}
