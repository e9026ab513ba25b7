using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using RestoreCluster.Archive;
using RestoreCluster.ReaderBenchmarks;
using RestoreCluster.Testing;

// usage: RestoreCluster.ReaderBenchmarks [--short] [--archive FILE.dump]
// Without --archive the archive is made once on a private server and kept in the temp directory (ReaderArchive).
// --short: BenchmarkDotNet's short run (3 warm-up and 3 measured iterations), for archives whose table takes seconds.
bool shortRun = args.Length > 0 && args[0] == "--short";
string[] rest = shortRun ? args[1..] : args;
string? archive = rest.Length == 2 && rest[0] == "--archive" ? rest[1] : rest.Length == 0 ? null : "";
if (archive == "")
{
    Console.Error.WriteLine("usage: RestoreCluster.ReaderBenchmarks [--short] [--archive FILE.dump] (a custom-format archive, gzip-compressed as pg_dump -Fc writes by default)");
    return 2;
}

archive ??= await ReaderArchive.GetAsync(CancellationToken.None);
long decompressed;
TocEntry entry;
using (var opened = PgArchive.Open(archive))
{
    entry = ReaderBenchmarks.BiggestTableData(opened);
    decompressed = new ReaderBenchmarks().MeasureOnce(opened, entry);
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"archive {archive}: {opened.Header.Compression} compression; table data {entry}: {entry.DataLength:N0} archive bytes, {decompressed:N0} bytes of COPY text"));
}

Environment.SetEnvironmentVariable(ReaderBenchmarks.ArchiveVariable, Path.GetFullPath(archive));
// BenchmarkDotNet builds the benchmark's own process first; on the shared 2-core machine its default 2 min was not enough.
IConfig config = DefaultConfig.Instance.WithOptions(ConfigOptions.DisableLogFile).WithBuildTimeout(TimeSpan.FromMinutes(15));
var summary = BenchmarkRunner.Run<ReaderBenchmarks>(shortRun ? config.AddJob(Job.ShortRun) : config);
PrintRates(summary, decompressed);
return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;

// Each benchmark runs on one thread: decompressed bytes / mean time is the rate per core. The target is 300 MB/s.
static void PrintRates(Summary summary, long decompressed)
{
    Console.WriteLine();
    Console.WriteLine($"| benchmark | mean | MB/s of decompressed COPY data per core (MB = 10^6 bytes) | load average |");
    Console.WriteLine("|---|---|---|---|");
    string load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
    foreach (var report in summary.Reports.Where(r => r.ResultStatistics is not null))
    {
        double seconds = report.ResultStatistics!.Mean / 1e9;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {report.BenchmarkCase.Descriptor.WorkloadMethod.Name} | {seconds * 1000:F1} ms | {decompressed / seconds / 1e6:F0} | {load} |"));
    }

}
