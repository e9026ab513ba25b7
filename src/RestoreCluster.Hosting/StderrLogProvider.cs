using Microsoft.Extensions.Logging;

namespace RestoreCluster.Hosting;

/// <summary>
/// Without <c>--log-file</c>: warnings and errors as the command line's own lines on stderr (cli.md),
/// <c>restorecluster: warning: CATEGORY: MESSAGE</c> or <c>restorecluster: error: ...</c>, one line each with
/// the exception's type and message; its stack trace follows only with <c>-v</c>. Nothing below Warning ever
/// goes here, whatever the filters say: <c>-v</c> prints exactly what <c>pg_restore -v</c> prints.
/// </summary>
internal sealed class StderrLogProvider(RestoreLogs owner) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new StderrLogger(owner, categoryName);

    public void Dispose()
    {
    }

    internal static string Line(string category, LogLevel level, string message, Exception? exception)
    {
        string kind = level == LogLevel.Warning ? "warning" : "error";
        string cause = exception is null ? "" : $": {exception.GetType().Name}: {exception.Message}";
        // One line: a message or an exception may hold line breaks (a quoted statement, say).
        return $"restorecluster: {kind}: {category}: {message}{cause}".ReplaceLineEndings(" ");
    }

    private sealed class StderrLogger(RestoreLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and not LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || OrleansNoise.Matches(category, eventId, state))
            {
                return;
            }

            var write = owner.StderrLine;
            write(Line(category, logLevel, formatter(state, exception), exception));
            if (exception is not null && owner.StackTraces)
            {
                write(exception.ToString());
            }
        }
    }
}
