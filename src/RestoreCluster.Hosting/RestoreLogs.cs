using Microsoft.Extensions.Logging;
using RestoreCluster.Grains;

namespace RestoreCluster.Hosting;

/// <summary>
/// Where the log records of one restorecluster command go (docs/telemetry.md, "Logs"): with <c>--log-file</c>,
/// every record at Information and above, Orleans' and ours, to that file (<see cref="LogFileProvider"/>);
/// without it, warnings and errors as one line each on stderr (<see cref="StderrLogProvider"/>). The same
/// destinations serve the embedded silo's host and the serial paths.
/// </summary>
public sealed class RestoreLogs : IDisposable
{
    private readonly LogFileProvider? _file;
    private readonly StderrLogProvider _stderr;

    private RestoreLogs(string? filePath, Action<string> stderrLine, bool stackTraces)
    {
        _file = filePath is null ? null : new LogFileProvider(filePath);
        _stderr = new StderrLogProvider(this);
        StderrLine = stderrLine;
        StackTraces = stackTraces;
    }

    /// <summary>
    /// Where stderr lines are written; a live progress display that owns stderr for a while takes them so
    /// they land above it.
    /// </summary>
    public Action<string> StderrLine { get; set; }

    /// <summary>-v: an exception's stack trace follows its record's line on stderr.</summary>
    public bool StackTraces { get; }

    /// <summary>Opens (appends to) <paramref name="filePath"/> when given; an unwritable path throws here, before anything runs.</summary>
    public static RestoreLogs Open(string? filePath, Action<string> stderrLine, bool stackTraces) => new(filePath, stderrLine, stackTraces);

    /// <summary>Replaces the builder's providers with these destinations and their filters.</summary>
    public void AddTo(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        if (_file is not null)
        {
            logging.AddProvider(_file);
            logging.AddFilter<LogFileProvider>(null, LogLevel.Information);
            // Polly (Orleans' placement pipeline) records every attempt at Information: its warnings are enough.
            logging.AddFilter<LogFileProvider>("Polly", LogLevel.Warning);
            return;
        }

        logging.AddProvider(_stderr);
        logging.AddFilter<StderrLogProvider>(null, LogLevel.Warning);
        // A unit's retry after a lost session and the failure that stopped the restore are already the restore's
        // own lines (its warnings and its final error): on stderr only the executor's errors (bugs) show.
        logging.AddFilter<StderrLogProvider>(typeof(UnitExecutor).FullName, LogLevel.Error);
    }

    /// <summary>A logger factory with these destinations, for the paths that run without the silo.</summary>
    public ILoggerFactory CreateFactory() => LoggerFactory.Create(AddTo);

    public void Dispose() => _file?.Dispose();
}
