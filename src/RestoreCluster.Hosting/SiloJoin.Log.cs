using Microsoft.Extensions.Logging;

namespace RestoreCluster.Hosting;

internal sealed partial class SiloJoin
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "silo {Silo} joined the running job {JobId}")]
        public static partial void JoinedRunningJob(ILogger logger, string silo, string jobId);

        [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "silo {Silo} could not join the running jobs: it takes the jobs submitted from now on")]
        public static partial void JoinFailed(ILogger logger, Exception exception, string silo);

        [LoggerMessage(EventId = 602, Level = LogLevel.Information, Message = "silo {Silo} could not join the running jobs yet ({Exception}): trying again in {Seconds:0.##} s")]
        public static partial void JoinRetried(ILogger logger, string silo, string exception, double seconds);
    }
}
