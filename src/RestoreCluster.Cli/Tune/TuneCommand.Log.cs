using Microsoft.Extensions.Logging;

namespace RestoreCluster.Cli.Tune;

internal sealed partial class TuneCommand
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "tune: trial restore with -j {Jobs} into scratch database {Database} started")]
        public static partial void TrialStarted(ILogger logger, int jobs, string database);

        [LoggerMessage(EventId = 901, Level = LogLevel.Information, Message = "tune: trial restore with -j {Jobs} ended after {Seconds:0.00} s: {State}")]
        public static partial void TrialEnded(ILogger logger, int jobs, double seconds, string state);

        [LoggerMessage(EventId = 902, Level = LogLevel.Information, Message = "tune: recommends -j {Jobs} (0: none): {Reason}")]
        public static partial void Recommended(ILogger logger, int jobs, string reason);
    }
}
