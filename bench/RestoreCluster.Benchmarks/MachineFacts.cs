using System.Globalization;

namespace RestoreCluster.Benchmarks;

/// <summary>What a report says about the machine, read from <c>/proc</c> ("unknown" where it is not there).</summary>
internal static class MachineFacts
{
    public static int Cores => Environment.ProcessorCount;

    public static string CpuModel() =>
        ProcLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) is { } line
            ? line[(line.IndexOf(':') + 1)..].Trim()
            : "unknown";

    public static string Memory()
    {
        // "MemTotal:       24683584 kB"
        string? line = ProcLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        string[] fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return fields.Length == 3 && long.TryParse(fields[1], CultureInfo.InvariantCulture, out long kb)
            ? (kb / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " GiB"
            : "unknown";
    }

    /// <summary>The 1, 5 and 15 minute load averages: the machine is shared, and this says how busy it was.</summary>
    public static string LoadAverage() =>
        ProcLines("/proc/loadavg").FirstOrDefault() is { } line ? string.Join(' ', line.Split(' ').Take(3)) : "unknown";

    private static string[] ProcLines(string path) => File.Exists(path) ? File.ReadAllLines(path) : [];
}
