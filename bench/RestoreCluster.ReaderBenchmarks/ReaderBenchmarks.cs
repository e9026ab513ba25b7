using BenchmarkDotNet.Attributes;
using RestoreCluster.Archive;
using RestoreCluster.Restore;

namespace RestoreCluster.ReaderBenchmarks;

/// <summary>
/// The archive reader on one table's data: the custom format's blocks read from the file and decompressed
/// (gzip, as <c>pg_dump -Fc</c> writes by default), alone and with the COPY rows split at their line ends by the
/// filter the restore sends data through (<see cref="CopyTerminatorFilter"/>). One thread each, so the
/// decompressed bytes over the mean time is the rate per core (Program prints it).
/// </summary>
[MemoryDiagnoser]
public class ReaderBenchmarks
{
    /// <summary>Set by Program before BenchmarkDotNet starts the benchmark's own process, which inherits it.</summary>
    public const string ArchiveVariable = "RESTORECLUSTER_READER_ARCHIVE";

    private readonly byte[] _buffer = new byte[64 * 1024];
    private PgArchive? _archive;
    private TocEntry? _entry;

    [GlobalSetup]
    public void Setup()
    {
        string path = Environment.GetEnvironmentVariable(ArchiveVariable)
            ?? throw new InvalidOperationException($"{ArchiveVariable} is not set; run the benchmark through its Program");
        _archive = PgArchive.Open(path);
        _entry = BiggestTableData(_archive);
    }

    [GlobalCleanup]
    public void Cleanup() => _archive?.Dispose();

    /// <summary>Decompressed bytes of the table's data: the figure the rates are computed from.</summary>
    [Benchmark(Baseline = true)]
    public long Decompress()
    {
        using var data = _archive!.OpenData(_entry!);
        long total = 0;
        int n;
        while ((n = data.Read(_buffer)) > 0)
        {
            total += n;
        }

        return total;
    }

    /// <summary>Rows found: the decompressed stream cut at row boundaries, up to pg_dump's <c>\.</c> end line.</summary>
    [Benchmark]
    public long DecompressAndSplitRows()
    {
        using var data = _archive!.OpenData(_entry!);
        var rows = new CopyTerminatorFilter();
        int n;
        while ((n = data.Read(_buffer)) > 0)
        {
            rows.Write(_buffer.AsSpan(0, n), Stream.Null);
        }

        return rows.Rows;
    }

    /// <summary>One pass over the data outside BenchmarkDotNet, for the byte count the rates are computed from.</summary>
    public long MeasureOnce(PgArchive archive, TocEntry entry)
    {
        _archive = archive;
        _entry = entry;
        return Decompress();
    }

    /// <summary>
    /// What one chunk of four costs the worker that loads it when a table is split (CopyChunkFilter): the whole
    /// stream is read and cut into rows, and a quarter of them is kept.
    /// </summary>
    [Benchmark]
    public long DecompressAndKeepOneChunkOfFour()
    {
        using var data = _archive!.OpenData(_entry!);
        var chunk = new CopyChunkFilter(1, 4);
        int n;
        while ((n = data.Read(_buffer)) > 0)
        {
            chunk.Write(_buffer.AsSpan(0, n), Stream.Null);
        }

        return chunk.Rows;
    }

    /// <summary>The TABLE DATA entry with the most archive bytes (the data lengths PgArchive computes on opening).</summary>
    public static TocEntry BiggestTableData(PgArchive archive)
    {
        return archive.Entries.Where(e => e.Desc == "TABLE DATA").MaxBy(e => e.DataLength)
            ?? throw new InvalidOperationException($"{archive.DisplayName} has no TABLE DATA entry");
    }
}
