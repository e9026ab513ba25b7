using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// A log provider for an in-process cluster that keeps every record it gets: Orleans' from Information on,
/// ours from Debug on (the lease records), as <see cref="EmbeddedCluster.StartAsync"/>'s logging setup.
/// </summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<Record> _records = new();

    public sealed record Record(string Category, LogLevel Level, int EventId, string Message, Exception? Exception);

    public IReadOnlyList<Record> Records => [.. _records];

    public void AddTo(ILoggingBuilder logging)
    {
        logging.AddProvider(this);
        logging.AddFilter<CapturedLogs>(null, LogLevel.Information);
        logging.AddFilter<CapturedLogs>("RestoreCluster", LogLevel.Debug);
    }

    /// <summary>The records of <typeparamref name="T"/>'s category with <paramref name="eventId"/>.</summary>
    public List<Record> Of<T>(int eventId) => [.. _records.Where(r => r.Category == typeof(T).FullName && r.EventId == eventId)];

    /// <summary>Everything kept, for a failure message.</summary>
    public string Describe() => string.Join('\n', _records.Select(r => $"{r.Level} {r.Category}[{r.EventId}]: {r.Message}{(r.Exception is null ? "" : " | " + r.Exception.GetType().Name + ": " + r.Exception.Message)}"));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._records.Enqueue(new Record(category, logLevel, eventId.Id, formatter(state, exception), exception));
    }
}
