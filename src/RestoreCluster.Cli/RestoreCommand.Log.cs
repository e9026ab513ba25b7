using Microsoft.Extensions.Logging;

namespace RestoreCluster.Cli;

internal static partial class RestoreCommand
{
    // The serial paths' records (-f, -1, standard input); a restore through the grains is the coordinator's job.
    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "serial restore started ({Why}): {Archive} into {Target}")]
        public static partial void SerialStarted(ILogger logger, string archive, string target, string why);

        [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "serial restore ended after {Seconds:0.0} s: {Errors} errors ignored")]
        public static partial void SerialEnded(ILogger logger, double seconds, int errors);

        [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "serial restore ended after {Seconds:0.0} s: failed: {Reason}")]
        public static partial void SerialFailed(ILogger logger, double seconds, string reason);

        [LoggerMessage(EventId = 503, Level = LogLevel.Information, Message = "script of {Archive} started, to {Output}")]
        public static partial void ScriptStarted(ILogger logger, string archive, string output);

        [LoggerMessage(EventId = 504, Level = LogLevel.Information, Message = "script of {Archive} written to {Output}")]
        public static partial void ScriptWritten(ILogger logger, string archive, string output);
    }
}
