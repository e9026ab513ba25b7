using Microsoft.Extensions.Logging;

namespace RestoreCluster.Grains;

public sealed partial class CoordinatorGrain
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "job {JobId} started: {Archive} into {Target}, {Units} units, -j {Jobs}, host budget {HostBudget}, resume {Resume}")]
        public static partial void JobStarted(ILogger logger, string jobId, string archive, string target, int units, int jobs, int hostBudget, bool resume);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "job {JobId} ended {State} after {Seconds:0.0} s: {UnitsDone} of {UnitsTotal} units done, {Errors} errors, {Retries} retries; message: {Message}")]
        public static partial void JobEnded(ILogger logger, string jobId, string state, double seconds, int unitsDone, int unitsTotal, int errors, int retries, string message);

        [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "lease {LeaseId} of unit {UnitId} ({Label}) granted to {Worker}")]
        public static partial void LeaseGranted(ILogger logger, string leaseId, int unitId, string label, string worker);

        [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "lease {LeaseId} of unit {UnitId} ({Label}) held by {Worker} lapsed: the unit is ready again")]
        public static partial void LeaseLapsed(ILogger logger, string leaseId, int unitId, string label, string worker);

        [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "unit {UnitId} ({Label}), whose lease had lapsed, leased again to {Worker} as {LeaseId}")]
        public static partial void LeasedAgain(ILogger logger, int unitId, string label, string worker, string leaseId);

        [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "{Kind} report of unit {UnitId} ({Label}) under lease {LeaseId} ignored: {Why}")]
        public static partial void ReportIgnored(ILogger logger, string kind, int unitId, string label, string leaseId, string why);

        [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "job {JobId} taken up again on silo {Silo} from its stored state (time {Times}): every unit runs again as a resume of the same run")]
        public static partial void TakenUp(ILogger logger, string jobId, string silo, int times);

        [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "job {JobId} cannot be taken up on silo {Silo}, which cannot read its archive ({Reason}): its next call places it again")]
        public static partial void TakenUpBlind(ILogger logger, string jobId, string silo, string reason);
    }
}
