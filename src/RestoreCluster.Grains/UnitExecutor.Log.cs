using Microsoft.Extensions.Logging;

namespace RestoreCluster.Grains;

internal sealed partial class UnitExecutor
{
    // Its warnings and the failure that stops a restore are also the restore's own messages: the stderr
    // destination shows only its errors (RestoreLogs); a log file has them all.
    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "unit {UnitId} ({What}) retried: {Reason}")]
        public static partial void UnitRetried(ILogger logger, int unitId, string what, string reason);

        [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "unit {UnitId} ({What}) stops the restore: {Reason}")]
        public static partial void UnitStopsRestore(ILogger logger, Exception exception, int unitId, string what, string reason);

        [LoggerMessage(EventId = 402, Level = LogLevel.Error, Message = "unexpected error in unit {UnitId} ({What}): the restore is stopped")]
        public static partial void UnexpectedError(ILogger logger, Exception exception, int unitId, string what);
    }
}
