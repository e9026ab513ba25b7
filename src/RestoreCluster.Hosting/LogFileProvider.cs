using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace RestoreCluster.Hosting;

/// <summary>
/// <c>--log-file</c>: every record the filters let through, appended to a file. A record starts a line with
/// its UTC time (ISO-8601), level, category and event id; what follows on further lines (a message's own line breaks,
/// the exception with its stack trace) is indented, so every line that starts without a space starts a record.
/// Each record is flushed as it is written: a killed process leaves everything it logged.
/// </summary>
internal sealed class LogFileProvider : ILoggerProvider
{
    private const string Continuation = "    ";

    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();
    private bool _closed;

    public LogFileProvider(string path)
    {
        // Appended: a --resume after an interrupted restore keeps the first run's records before its own.
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
    }

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void Dispose()
    {
        lock (_lock)
        {
            _closed = true;
            _writer.Dispose();
        }
    }

    private void Write(string category, LogLevel level, EventId eventId, string message, Exception? exception)
    {
        var line = new StringBuilder(128 + message.Length);
        line.Append(DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
            .Append(' ').Append(LevelName(level)).Append(' ').Append(category)
            .Append('[').Append(eventId.Id.ToString(CultureInfo.InvariantCulture)).Append("]: ");
        // A message that ends with a line break (Orleans' option listings) leaves no empty line behind.
        AppendIndented(line, message.TrimEnd());
        if (exception is not null)
        {
            line.AppendLine();
            line.Append(Continuation);
            AppendIndented(line, exception.ToString());
        }

        lock (_lock)
        {
            // Records of threads still running while the process shuts down have nowhere to go.
            if (!_closed)
            {
                _writer.WriteLine(line);
            }
        }
    }

    private static void AppendIndented(StringBuilder line, string text)
    {
        bool first = true;
        foreach (var part in text.AsSpan().EnumerateLines())
        {
            if (!first)
            {
                line.AppendLine().Append(Continuation);
            }

            line.Append(part);
            first = false;
        }
    }

    internal static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };

    private sealed class FileLogger(LogFileProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel) && !OrleansNoise.Matches(category, eventId, state))
            {
                owner.Write(category, logLevel, eventId, formatter(state, exception), exception);
            }
        }
    }
}
